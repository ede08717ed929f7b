"""What each ingest stage makes of the fixture documents, as digests, for tests/test_pipeline_versions.py.

`python tests/pipeline_golden.py --update` records the current outputs and stage versions in
tests/pipeline-golden.json (after bumping the changed stage in kb/pipeline.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from kb import cards, clean, load, meta, split, windows
from kb.config import Settings
from kb.pipeline import VERSIONS

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).with_name("pipeline-golden.json")
FIXTURES = (ROOT / "corpus", ROOT / "tests" / "fixtures")


def fixture_files() -> Iterator[Path]:
    for folder in FIXTURES:
        if folder.is_dir():
            yield from sorted(p for p in folder.rglob("*") if p.is_file() and load.is_supported(p))


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]


def outputs(path: Path) -> dict[str, str]:
    """stage → digest of its output for one file, with the default chunk size and overlap."""
    settings = Settings.from_env({})
    raw = load.load(path)
    raw = replace(raw, path=path.name)  # the digest must not depend on where the clone is
    cleaned = clean.clean(raw)
    info = meta.extract(cleaned)
    chunks = split.split(cleaned, info, settings.chunk_size, settings.chunk_overlap)
    return {
        "load": _digest([raw.text, [[p.number, p.start, p.end] for p in raw.pages], raw.title_hint, raw.format]),
        "clean": _digest([cleaned.text, [[p.number, p.start, p.end] for p in cleaned.pages]]),
        "meta": _digest(info.as_dict()),
        "split": _digest([[c.start, c.end, c.section, c.page] for c in chunks]),
        "cards": _digest(cards.dumps(cards.extract(cleaned.text, info, chunks))),
        "store": _digest(sorted({key for c in chunks for key in c.metadata()})),
        "windows": _digest([windows.windows(c.text) for c in chunks]),
    }


def current() -> dict[str, Any]:
    return {
        "versions": dict(VERSIONS),
        "files": {str(p.relative_to(ROOT)): outputs(p) for p in fixture_files()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--update", action="store_true", help="write tests/pipeline-golden.json")
    args = parser.parse_args()
    now = current()
    if args.update:
        GOLDEN.write_text(json.dumps(now, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    else:
        print(json.dumps(now, ensure_ascii=False, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
