"""Persistence: the Chroma collection (vectors), the lexical index, cleaned texts and the manifest."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from .config import Settings
from .errors import IndexMismatch, StoreError
from .files import atomic_write_text, read_versioned_json
from .lexical import LexicalIndex
from .types import Chunk

log = logging.getLogger(__name__)

MANIFEST_VERSION = 1


def _doc_key(doc_id: str) -> str:
    """A file-name-safe key for a doc_id (文号 hold brackets and Chinese)."""
    return hashlib.sha1(doc_id.encode("utf-8")).hexdigest()[:20]


def record_id(chunk_id: str, doc_hash: str) -> str:
    """The Chroma key of one version of a chunk: two versions of a document can be stored side by side, so an
    update adds the new version, commits the manifest, and only then deletes the old one."""
    return f"{chunk_id}@{doc_hash[:12]}"


class Manifest:
    """doc_id → content hash, sources, chunk ids, metadata; file path → sha256 and doc_id. Written last."""

    def __init__(self, path: Path, data: dict[str, Any] | None = None) -> None:
        self.path = path
        data = data or {}
        self.embedder: str | None = data.get("embedder")
        self.pipeline: dict[str, Any] = data.get("pipeline", {})
        self.docs: dict[str, dict[str, Any]] = data.get("docs", {})
        self.files: dict[str, dict[str, Any]] = data.get("files", {})

    @classmethod
    def load(cls, path: Path) -> Manifest:
        if not path.exists():
            return cls(path)
        return cls(path, read_versioned_json(path, MANIFEST_VERSION, "manifest"))

    def save(self) -> None:
        payload = {
            "version": MANIFEST_VERSION,
            "embedder": self.embedder,
            "pipeline": self.pipeline,
            "docs": self.docs,
            "files": self.files,
        }
        atomic_write_text(self.path, json.dumps(payload, ensure_ascii=False, indent=1, sort_keys=True))

    def chunk_count(self) -> int:
        return sum(len(d["chunk_ids"]) for d in self.docs.values())


class Store:
    """The vector store and its companions for one data directory; Chroma opens on first use."""

    def __init__(self, settings: Settings, embedder_name: str) -> None:
        self.settings = settings
        self.embedder_name = embedder_name
        self.manifest = Manifest.load(settings.manifest_path)
        self._lexical: LexicalIndex | None = None
        self._collection = None
        self._client = None
        self._lock = threading.Lock()

    # --- Chroma -----------------------------------------------------------------------------------------
    def _make_client(self):  # type: ignore[no-untyped-def]
        import chromadb

        chroma_settings = chromadb.Settings(anonymized_telemetry=False, allow_reset=True)
        url = self.settings.chroma_url
        try:
            if url:
                parsed = urlparse(url)
                if not parsed.hostname:
                    raise StoreError(f"KB_CHROMA_URL={url!r} is not a URL like http://127.0.0.1:8000")
                return chromadb.HttpClient(
                    host=parsed.hostname,
                    port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                    ssl=parsed.scheme == "https",
                    settings=chroma_settings,
                )
            self.settings.chroma_dir.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(path=str(self.settings.chroma_dir), settings=chroma_settings)
        except StoreError:
            raise
        except Exception as exc:  # chromadb raises plain Exceptions for connection problems
            where = url or str(self.settings.chroma_dir)
            raise StoreError(f"cannot open the Chroma store at {where}: {exc}") from exc

    @property
    def collection(self):  # type: ignore[no-untyped-def]
        with self._lock:
            if self._collection is None:
                self._client = self._client or self._make_client()
                self._collection = self._open_collection()
        return self._collection

    def _open_collection(self):  # type: ignore[no-untyped-def]
        from chromadb.errors import NotFoundError

        name = self.settings.collection
        try:
            collection = self._client.get_collection(name, embedding_function=None)
        except NotFoundError:
            collection = self._client.create_collection(
                name,
                embedding_function=None,  # never Chroma's default: it downloads a model
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"embedder": self.embedder_name},
            )
        except Exception as exc:
            raise StoreError(f"cannot open collection {name!r}: {exc}") from exc
        built_with = (collection.metadata or {}).get("embedder")
        if built_with != self.embedder_name:
            raise IndexMismatch(
                f"the index in {self.settings.data_dir} was built with embedder {built_with!r}, "
                f"but KB_EMBED_MODEL is {self.embedder_name!r}; rebuild it with "
                f"`python ingest.py --rebuild` (or set KB_EMBED_MODEL={built_with})"
            )
        return collection

    def check_dim(self, dim: int) -> None:
        """Record the embedding size on first use; refuse vectors of another size later."""
        metadata = dict(self.collection.metadata or {})
        if "dim" not in metadata:
            metadata["dim"] = dim
            self.collection.modify(metadata=metadata)
        elif int(metadata["dim"]) != dim:
            raise IndexMismatch(
                f"the index holds {metadata['dim']}-dimensional vectors but {self.embedder_name} gives {dim}; "
                "rebuild it with `python ingest.py --rebuild`"
            )

    def add_chunks(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Write a document version's chunks beside any other version: the manifest decides which one is live."""
        for start in range(0, len(chunks), 500):
            part = chunks[start : start + 500]
            self.collection.upsert(
                ids=[record_id(c.id, c.doc_hash) for c in part],
                embeddings=vectors[start : start + 500].tolist(),
                documents=[c.text for c in part],
                metadatas=[c.metadata() for c in part],
            )

    def vectors_for(self, text_hashes: Sequence[str]) -> dict[str, list[float]]:
        """Stored vectors of passages with these text hashes (to skip re-embedding what did not change)."""
        found: dict[str, list[float]] = {}
        wanted = sorted(set(text_hashes))
        for start in range(0, len(wanted), 500):
            got = self.collection.get(
                where={"text_hash": {"$in": wanted[start : start + 500]}}, include=["embeddings", "metadatas"]
            )
            for md, vector in zip(got["metadatas"], got["embeddings"], strict=True):
                found[str(md["text_hash"])] = list(vector)
        return found

    def delete_records(self, record_ids: Sequence[str]) -> None:
        for start in range(0, len(record_ids), 500):
            self.collection.delete(ids=list(record_ids[start : start + 500]))

    def delete_versions(self, doc_id: str, keep: str | None = None) -> None:
        """Delete a document's vectors, all of them or all but the version whose hash is `keep`."""
        if keep is None:
            self.collection.delete(where={"doc_id": doc_id})
        else:
            self.collection.delete(where={"$and": [{"doc_id": doc_id}, {"doc_hash": {"$ne": keep}}]})

    def vector_ids(self) -> dict[str, dict[str, Any]]:
        """Every stored record id (`{chunk_id}@{version}`) with its metadata (to reconcile after a crash)."""
        found: dict[str, dict[str, Any]] = {}
        total = self.collection.count()
        for offset in range(0, total, 1000):
            got = self.collection.get(include=["metadatas"], limit=1000, offset=offset)
            found.update(zip(got["ids"], got["metadatas"], strict=True))
        return found

    def dense_search(
        self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[Chunk, float]]:
        """Nearest chunks by cosine similarity (1 - Chroma's cosine distance)."""
        count = self.collection.count()
        if count == 0:
            return []
        result = self.collection.query(
            query_embeddings=[vector.tolist()],
            n_results=min(k, count),
            where=where or None,
            include=["documents", "metadatas", "distances"],
        )
        return [
            (Chunk.from_metadata(str(md["chunk_id"]), text, md), 1.0 - float(dist))
            for text, md, dist in zip(
                result["documents"][0], result["metadatas"][0], result["distances"][0], strict=True
            )
            if md and "chunk_id" in md  # a record from an older store format, until the next ingest replaces it
        ]

    # --- lexical index and texts --------------------------------------------------------------------------
    @property
    def lexical(self) -> LexicalIndex:
        with self._lock:
            if self._lexical is None:
                self._lexical = LexicalIndex(self.settings.lexical_dir / "bm25.json")
        return self._lexical

    def save_text(self, doc_id: str, doc_hash: str, text: str) -> None:
        """Keep one version's cleaned text (versions sit side by side until the manifest commits)."""
        atomic_write_text(self._text_path(doc_id, doc_hash), text)

    def delete_texts(self, doc_id: str, keep: str | None = None) -> None:
        keep_name = self._text_path(doc_id, keep).name if keep else None
        for path in self.settings.texts_dir.glob(f"{_doc_key(doc_id)}-*.txt"):
            if path.name != keep_name:
                path.unlink(missing_ok=True)

    def doc_text(self, doc_id: str) -> str | None:
        """The cleaned text of the version the manifest lists (what citations' offsets point into)."""
        listed = self.manifest.docs.get(doc_id)
        if listed is None:
            return None
        path = self._text_path(doc_id, listed["hash"])
        return path.read_text(encoding="utf-8") if path.exists() else None

    def _text_path(self, doc_id: str, doc_hash: str) -> Path:
        return self.settings.texts_dir / f"{_doc_key(doc_id)}-{doc_hash[:12]}.txt"

    # --- whole store ------------------------------------------------------------------------------------
    def commit(self) -> None:
        """Persist the lexical index, then the manifest: the manifest is the commit point."""
        self.lexical.save()
        self.manifest.embedder = self.embedder_name
        self.manifest.save()

    def reset(self) -> None:
        """Drop every stored vector, text and index entry (for --rebuild)."""
        from chromadb.errors import NotFoundError

        self._client = self._client or self._make_client()
        try:
            self._client.delete_collection(self.settings.collection)
        except NotFoundError:
            pass
        self._collection = None
        shutil.rmtree(self.settings.lexical_dir, ignore_errors=True)
        shutil.rmtree(self.settings.texts_dir, ignore_errors=True)
        self.settings.manifest_path.unlink(missing_ok=True)
        self.manifest = Manifest(self.settings.manifest_path)
        self._lexical = None
