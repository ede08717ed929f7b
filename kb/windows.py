"""Short windows of a passage (its sentences joined up to WINDOW_LIMIT characters) and their vectors.

A passage's one vector blurs its several points, and a question in users' own words is often close in meaning to
one sentence of it. Ingest embeds each window of each passage (kb/ingest.py) and keeps a document's windows as one
blob beside its text (kb/store.py); the ranker weighs the best window's similarity to the question (kb/rank.py).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence

import numpy as np

from .answer import _sentences

WINDOW_LIMIT = 100  # characters; chosen on the users' calibration half (evals/RESULTS.md, the ranker's section)
MIN_SENTENCE = 6  # a shorter "sentence" (a list number, a heading's tail) joins its neighbours' window
FORMAT = 1

Vectors = dict[str, tuple[str, np.ndarray]]  # chunk id → (the chunk's text hash, its windows' vectors as rows)


def windows(text: str, limit: int = WINDOW_LIMIT) -> list[str]:
    """`text` as consecutive runs of whole sentences of at most `limit` characters (a longer sentence alone)."""
    out: list[str] = []
    current = ""
    for sentence in _sentences(text):
        if current and len(current) + len(sentence) > limit and len(current) >= MIN_SENTENCE:
            out.append(current)
            current = ""
        current += sentence
    if current:
        out.append(current)
    return out or [text[:limit]]


def embed(
    chunks: Sequence[tuple[str, str, str]], embed_documents: Callable[[list[str]], np.ndarray], known: Vectors
) -> Vectors:
    """Vectors of each (chunk id, text hash, text)'s windows; a chunk whose text hash `known` has keeps its rows."""
    reuse = {text_hash: rows for text_hash, rows in known.values()}
    out: Vectors = {}
    todo = [(cid, h, windows(text)) for cid, h, text in chunks if h not in reuse]
    flat = [w for _cid, _h, ws in todo for w in ws]
    matrix = np.asarray(embed_documents(flat), dtype=np.float32) if flat else np.zeros((0, 0), np.float32)
    start = 0
    made = {}
    for cid, h, ws in todo:
        made[cid] = (h, matrix[start : start + len(ws)])
        start += len(ws)
    for cid, h, _text in chunks:
        out[cid] = made.get(cid) or (h, reuse[h])
    return out


def dumps(vectors: Vectors) -> str:
    """One document's windows as JSON text (the rows as base64 half-precision floats)."""
    rows = [m for _h, m in vectors.values()]
    dim = int(rows[0].shape[1]) if rows and rows[0].ndim == 2 else 0
    spans, start = {}, 0
    for cid, (h, m) in vectors.items():
        spans[cid] = {"hash": h, "rows": [start, start + len(m)]}
        start += len(m)
    stacked = np.concatenate(rows).astype("<f2") if rows and dim else np.zeros((0,), "<f2")
    payload = {"format": FORMAT, "dim": dim, "chunks": spans, "vectors": base64.b64encode(stacked.tobytes()).decode()}
    return json.dumps(payload, sort_keys=True)


def loads(text: str) -> Vectors:
    """The inverse of `dumps`; ValueError when the text is not such a blob."""
    try:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
        dim = int(data["dim"])
        flat = np.frombuffer(base64.b64decode(data["vectors"]), dtype="<f2")
        matrix = flat.reshape(-1, dim) if dim else flat.reshape(0, 0)
        return {cid: (s["hash"], matrix[s["rows"][0] : s["rows"][1]]) for cid, s in data["chunks"].items()}
    except (KeyError, TypeError, ValueError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a windows blob: {exc}") from exc


def best_similarity(rows: np.ndarray, vector: np.ndarray) -> float:
    """The highest cosine of any window (rows and vector are unit length, as the embedder makes them)."""
    return float((rows.astype(np.float32) @ np.asarray(vector, dtype=np.float32)).max()) if len(rows) else 0.0
