# Two entry points for people (see README): `make run` and `make test`. Everything else is plumbing.
VENV    ?= .venv
PY      := $(VENV)/bin/python
PYTHON  ?= python3
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install browser run ingest test lint format bench screenshots clean

install: $(VENV)/.installed

# Idempotent: re-runs only when pyproject.toml changes. CPU torch first, so the `st` extra pulls no CUDA build.
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[st,dev]'
	touch $@

ingest: install
	$(PY) ingest.py

run: ingest
	@if [ -f bot/__main__.py ]; then $(PY) -m bot; else echo "The web chat is not built yet; the index is ready in data/."; fi

# The browser tests drive Debian's Chromium with CJK fonts (Playwright downloads no browser here): installed through
# apt when absent, as root or with password-less sudo; otherwise one message saying what to run.
BROWSER_PKGS := chromium fonts-noto-cjk
browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
	  if [ "$$(id -u)" -eq 0 ]; then sudo=""; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo"; \
	  else echo "The browser tests need Chromium and CJK fonts. Run: sudo apt-get install -y $(BROWSER_PKGS)"; exit 1; fi; \
	  echo "Installing $(BROWSER_PKGS) for the browser tests (apt-get)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $$sudo apt-get install -y --no-install-recommends $(BROWSER_PKGS) >/dev/null \
	    || { $$sudo apt-get update >/dev/null && $$sudo apt-get install -y --no-install-recommends $(BROWSER_PKGS) >/dev/null; }; \
	fi

test: install browser
	$(PY) -m pytest -q

# The README's images (docs/*.png), from the browser test that takes them.
screenshots: install browser
	KB_SCREENSHOTS=docs $(PY) -m pytest -q tests/test_app.py -k screenshots

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench: install
	$(PY) -m evals.bench_ingest
	$(PY) -m evals.bench_crash
	$(PY) -m evals.bench_load
	$(PY) -m evals.bench_scale
	$(PY) -m evals.bench_fuzz

clean:
	rm -rf data .pytest_cache .ruff_cache
