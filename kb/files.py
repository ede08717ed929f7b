"""Small, safe file I/O shared by the persisted indexes: atomic writes and versioned JSON."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .errors import StoreError


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in 1 MB blocks (hex)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_versioned_json(path: Path, version: int, what: str) -> dict[str, Any]:
    """Read a JSON file this project wrote; a damaged or foreign one raises StoreError saying how to rebuild.

    Raises:
        StoreError: the file cannot be read, is not JSON, or was written by another format version.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StoreError(f"{path}: {what} unreadable ({exc}); run `python ingest.py --rebuild`") from exc
    return parse_versioned_json(text, version, what, str(path))


def parse_versioned_json(text: str, version: int, what: str, where: str) -> dict[str, Any]:
    """The same check for JSON read from elsewhere (a Chroma server); `where` names it in the message.

    Raises:
        StoreError: not JSON, or written by another format version.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StoreError(f"{where}: {what} unreadable ({exc}); run `python ingest.py --rebuild`") from exc
    if not isinstance(data, dict) or data.get("version") != version:
        raise StoreError(f"{where}: {what} of another version; run `python ingest.py --rebuild`")
    return data
