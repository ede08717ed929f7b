# Two entry points for people (see README): `make run` and `make test`. Everything else is plumbing.
VENV    ?= .venv
PY      := $(VENV)/bin/python
PYTHON  ?= python3
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install run ingest test lint format bench clean

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

test: install
	$(PY) -m pytest -q

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
