"""Short windows of a passage (its sentences joined up to WINDOW_LIMIT characters) and their vectors.

A passage's one vector blurs its several points, and a question in users' own words is often close in meaning to
one sentence of it. Ingest embeds each window of each passage (kb/ingest.py) and keeps a document's windows as one
blob beside its text (kb/store.py); the ranker weighs the best window's similarity to the question (kb/rank.py).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Sequence

import numpy as np

from .answer import split_sentences

WINDOW_LIMIT = 100  # characters; chosen on the users' calibration half (evals/RESULTS.md, the ranker's section)
MIN_SENTENCE = 6  # a shorter "sentence" (a list number, a heading's tail) joins its neighbours' window
FORMAT = 2  # 2: each chunk's windows identified by a digest of their texts, not by the chunk's text

Vectors = dict[str, tuple[str, np.ndarray]]  # chunk id → (digest of its window texts, their vectors as rows)


def windows(text: str, limit: int = WINDOW_LIMIT) -> list[str]:
    """`text` as consecutive runs of whole sentences of at most `limit` characters (a longer sentence alone)."""
    out: list[str] = []
    current = ""
    for sentence in split_sentences(text):
        if current and len(current) + len(sentence) > limit and len(current) >= MIN_SENTENCE:
            out.append(current)
            current = ""
        current += sentence
    if current:
        out.append(current)
    return out or [text[:limit]]


def digest(texts: Sequence[str]) -> str:
    """Identifies a chunk's windows as cut: stored rows are reused, and paired with texts, only when it matches."""
    return hashlib.sha1("\x1f".join(texts).encode("utf-8")).hexdigest()[:20]


def embed(
    chunks: Sequence[tuple[str, str]],
    embed_documents: Callable[[list[str]], np.ndarray],
    known: Vectors,
    batch: int = 16,
) -> Vectors:
    """Vectors of each (chunk id, text)'s windows, embedded `batch` at a time; a chunk whose windows `known` has
    (the same texts, in any document) keeps those rows."""
    reuse = {key: rows for key, rows in known.values()}
    cut = [(cid, ws, digest(ws)) for cid, ws in ((cid, windows(text)) for cid, text in chunks)]
    todo = list(dict.fromkeys(w for _cid, ws, key in cut if key not in reuse for w in ws))
    made: dict[str, np.ndarray] = {}
    for start in range(0, len(todo), batch):
        part = todo[start : start + batch]
        rows = np.asarray(embed_documents(part), dtype=np.float32)
        if rows.ndim != 2 or len(rows) != len(part):
            raise ValueError(f"the embedder returned {rows.shape} for {len(part)} windows")
        made.update(zip(part, rows, strict=True))
    out: Vectors = {}
    for cid, ws, key in cut:
        out[cid] = (key, reuse[key] if key in reuse else np.stack([made[w] for w in ws]))
    return out


def dumps(vectors: Vectors) -> str:
    """One document's windows as JSON text (the rows as base64 half-precision floats)."""
    rows = [m for _key, m in vectors.values()]
    dim = int(rows[0].shape[1]) if rows and rows[0].ndim == 2 else 0
    spans, start = {}, 0
    for cid, (key, m) in vectors.items():
        spans[cid] = {"digest": key, "rows": [start, start + len(m)]}
        start += len(m)
    stacked = np.concatenate(rows).astype("<f2") if rows and dim else np.zeros((0,), "<f2")
    payload = {"format": FORMAT, "dim": dim, "chunks": spans, "vectors": base64.b64encode(stacked.tobytes()).decode()}
    return json.dumps(payload, sort_keys=True)


def loads(text: str) -> Vectors:
    """The inverse of `dumps`; ValueError when the text is not such a blob (or not of this format)."""
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format') if isinstance(data, dict) else None!r}, expected {FORMAT}")
        dim = int(data["dim"])
        flat = np.frombuffer(base64.b64decode(data["vectors"]), dtype="<f2")
        matrix = flat.reshape(-1, dim) if dim else flat.reshape(0, 0)
        out: Vectors = {}
        for cid, span in data["chunks"].items():
            start, end = (int(x) for x in span["rows"])
            if not 0 <= start < end <= len(matrix):
                raise ValueError(f"rows {start}:{end} of {cid} outside the {len(matrix)} stored")
            out[cid] = (str(span["digest"]), matrix[start:end])
        return out
    except (AttributeError, KeyError, TypeError, ValueError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a windows blob: {exc}") from exc


def similarities(rows: np.ndarray, vector: np.ndarray) -> np.ndarray | None:
    """Each window's cosine to the question (rows and vector are unit length, as the embedder makes them); None when
    there is none to compare, or the rows are of another embedding size."""
    query = np.asarray(vector, dtype=np.float32)
    if not len(rows) or rows.ndim != 2 or rows.shape[1] != query.shape[-1]:
        return None
    return rows.astype(np.float32) @ query


def best_similarity(rows: np.ndarray, vector: np.ndarray) -> float | None:
    """The highest cosine of any window, or None as for `similarities`."""
    sims = similarities(rows, vector)
    return None if sims is None else float(sims.max())
