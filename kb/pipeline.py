"""Versions of the stages that shape what ingest stores; bump one when its output changes.

The index is re-chunked when a stored document was made by other versions (or another chunk size, embedder or
tokenizer), not when a comment or docstring changes. `tests/test_pipeline_versions.py` fails when a stage's output
on the fixture documents changes and neither it nor a stage before it was bumped: bump the stage here, then record
the new outputs with `python tests/pipeline_golden.py --update`.
"""

from __future__ import annotations

import hashlib
import json
from types import MappingProxyType

# Order matters: each stage reads the output of the ones before it.
VERSIONS = MappingProxyType(
    {
        "load": 4,  # kb/load.py: file → SourceDoc (text, pages, title hint; 2: a page's metadata table as fields;
        # 3: a PDF's ruled tables row by row, kb/pdftable.py; 4: rows by their first cell, a cell's 。 as ，)
        "clean": 1,  # kb/clean.py: web-page and PDF noise removed, lines joined, punctuation normalised
        "meta": 2,  # kb/meta.py: title, 文号, issuer, dates, region, doc_id (2: the table first, 国令, cities, topic)
        "split": 4,  # kb/split.py: sections and chunks (2: chunks overlap; 3: short documents keep their sections;
        # 4: a note after a list of items is about the whole list)
        "cards": 6,  # kb/cards.py: support-measure cards (stored as CARD_RULES "cards-N"; 6: institutional, plans)
        "store": 2,  # kb/store.py and kb/types.py: the record layout of a stored chunk (2: topic)
        "windows": 2,  # kb/windows.py: each passage's sentence windows, embedded (2: kept by a digest of their texts)
    }
)


def signature(chunk_size: int, chunk_overlap: int, embedder_name: str, tokenizer: str) -> str:
    """Changes when anything that shapes the stored chunks changes: a stage version, the chunking, the embedder or
    the tokenizer (a comment edited in a stage does not)."""
    shaped = {"versions": dict(VERSIONS), "chunking": [chunk_size, chunk_overlap], "embedder": embedder_name}
    digest = hashlib.sha256(json.dumps(shaped, sort_keys=True).encode())
    digest.update(tokenizer.encode())
    return digest.hexdigest()[:16]
