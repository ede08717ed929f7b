"""Feedback on answers, appended to <data-dir>/feedback.jsonl (one JSON object per line)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

_lock = threading.Lock()


def record(
    path: Path, rating: str, question: str, answer: str, chunk_ids: list[str], comment: str = "", rated: str = ""
) -> dict:
    """Append one feedback line and return it; a comment line says which rating it goes with (`rated`)."""
    entry = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "rating": rating,
        "question": question,
        "answer": answer,
        "chunk_ids": chunk_ids,
        "comment": comment,
        **({"rated": rated} if rated else {}),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock, open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
    return entry
