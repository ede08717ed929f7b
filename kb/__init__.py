"""Policy knowledge base: load → clean → split → embed → store → retrieve → answer."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from .config import Settings
from .errors import ConfigError, IndexMismatch, IndexMissing, IngestBusy, KBError, LoadError, StoreError
from .ingest import Report, ingest
from .types import Answer, Chunk, DocMeta, Hit, SourceDoc
from .validity import Validity

if TYPE_CHECKING:
    from .store import Manifest


def list_documents(settings: Settings, *, status: bool = False) -> list[dict[str, Any]]:
    """The stored documents with their metadata, chunk count and ingest time, sorted by 文号/title.

    Args:
        settings: where the index lives.
        status: also each document's status as of today (`status`: 现行 / 已失效 / 已废止 / 部分修订, and
            `status_reason`; kb/validity.py), which reads every stored text.

    Raises:
        StoreError: the index cannot be read.
    """
    from .store import Manifest, open_blobs

    manifest = Manifest.load(open_blobs(settings))
    if not status:
        return document_rows(manifest)
    from .validity import assess_stored

    return document_rows(manifest, assess_stored(manifest, date.today()))


def document_rows(manifest: Manifest, validity: Mapping[str, Validity] | None = None) -> list[dict[str, Any]]:
    """One row per document a manifest lists (see `list_documents`), with `status` and `status_reason` when
    `validity` is given; sorted: national documents first, then by date signed and title."""
    rows = []
    for doc_id, doc in manifest.docs.items():
        meta = doc["meta"]
        row = {
            **meta,
            "doc_id": doc_id,
            "chunks": len(doc["chunk_ids"]),
            "source": meta.get("source") or (doc["sources"] or [""])[0],
            "sources": doc["sources"],
            "ingested_at": doc.get("ingested_at", ""),
        }
        if validity is not None:
            found = validity.get(doc_id, Validity())
            row["status"], row["status_reason"] = found.status, found.reason
        rows.append(row)
    return sorted(rows, key=lambda r: (r["region"] != "国家", r["signed"], r["title"]))


__all__ = [
    "Answer", "Chunk", "ConfigError", "DocMeta", "Hit", "IndexMismatch", "IndexMissing", "IngestBusy", "KBError",
    "LoadError", "Report", "Settings", "SourceDoc", "StoreError", "ingest", "list_documents",
]  # fmt: skip
