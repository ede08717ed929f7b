"""Persistence: the Chroma collection (vectors), the lexical index, cleaned texts and the manifest."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import threading
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlparse

import numpy as np

from .blobs import Blobs, ChromaBlobs, LocalBlobs
from .config import Settings
from .errors import IndexMismatch, StoreError
from .files import parse_versioned_json
from .lexical import TOKEN_SEP, LexicalIndex
from .types import Chunk

log = logging.getLogger(__name__)

MANIFEST_VERSION = 1
# HNSW candidates examined per query (Chroma's default is 100). Wide enough that the search is exact for a library
# of several thousand passages and returns the same passages on every run: at 100, near-tied passages came and went
# between processes; at 400, on the 3,522 passages of corpus/ with the NCP documents, the search still missed a near
# passage for 7 of 200 NCP train questions (a different one between processes), so a refit ranker differed in the
# sixth decimal of its features. At 4000 it returns the exact nearest passages; the query's time is that of fetching
# the passages' texts, not of the search (about 24 ms either way, evals/RESULTS.md).
EF_SEARCH = 4000
MANIFEST = "manifest.json"


def _doc_key(doc_id: str) -> str:
    """A file-name-safe key for a doc_id (文号 hold brackets and Chinese)."""
    return hashlib.sha1(doc_id.encode("utf-8")).hexdigest()[:20]


def record_id(chunk_id: str, doc_hash: str) -> str:
    """The Chroma key of one version of a chunk: two versions of a document can be stored side by side, so an
    update adds the new version, commits the manifest, and only then deletes the old one."""
    return f"{chunk_id}@{doc_hash[:12]}"


def make_client(settings: Settings):  # type: ignore[no-untyped-def]
    """An HTTP client for `settings.chroma_url`, else the embedded store in the data directory.

    Raises:
        StoreError: the URL is malformed or the store cannot be opened.
    """
    import chromadb

    chroma_settings = chromadb.Settings(anonymized_telemetry=False, allow_reset=True)
    url = settings.chroma_url
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
        settings.chroma_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)
    except StoreError:
        raise
    except Exception as exc:  # chromadb raises plain Exceptions for connection problems
        where = url or str(settings.chroma_dir)
        raise StoreError(f"cannot open the Chroma store at {where}: {exc}") from exc


def open_blobs(settings: Settings, client: Any = None) -> Blobs:
    """The manifest's and texts' home: the data directory, or (server mode) a side collection on the server, so
    that every replica reads the same ones."""
    if not settings.chroma_url:
        return LocalBlobs(settings.data_dir)
    try:
        return ChromaBlobs(client or make_client(settings), f"{settings.collection}-files")
    except StoreError:
        raise
    except Exception as exc:
        raise StoreError(f"cannot read the index on the Chroma server at {settings.chroma_url}: {exc}") from exc


def index_location(settings: Settings) -> str:
    """How to name the index in messages."""
    if settings.chroma_url:
        return f"the Chroma server at {settings.chroma_url} (collection {settings.collection!r})"
    return str(settings.data_dir)


class Manifest:
    """doc_id → content hash, sources, chunk ids, metadata; file path → sha256 and doc_id. Written last."""

    def __init__(self, blobs: Blobs, data: dict[str, Any] | None = None) -> None:
        self.blobs = blobs
        data = data or {}
        self.embedder: str | None = data.get("embedder")
        self.pipeline: dict[str, Any] = data.get("pipeline", {})
        self.docs: dict[str, dict[str, Any]] = data.get("docs", {})
        self.files: dict[str, dict[str, Any]] = data.get("files", {})

    @classmethod
    def load(cls, blobs: Blobs) -> Manifest:
        text = blobs.read(MANIFEST)
        if text is None:
            return cls(blobs)
        return cls(blobs, parse_versioned_json(text, MANIFEST_VERSION, "manifest", blobs.where(MANIFEST)))

    def save(self) -> None:
        payload = {
            "version": MANIFEST_VERSION,
            "embedder": self.embedder,
            "pipeline": self.pipeline,
            "docs": self.docs,
            "files": self.files,
        }
        self.blobs.write(MANIFEST, json.dumps(payload, ensure_ascii=False, indent=1, sort_keys=True))

    def chunk_count(self) -> int:
        return sum(len(d["chunk_ids"]) for d in self.docs.values())


class Store:
    """The vector store and its companions; Chroma opens on first use.

    Embedded mode keeps everything in the data directory. Server mode (`KB_CHROMA_URL`) keeps everything a replica
    needs on the server: vectors with each chunk's text, metadata and BM25 tokens, plus the manifest and cleaned
    texts in a side collection; each replica builds its BM25 index from the listed chunks when it opens the store.
    """

    def __init__(self, settings: Settings, embedder_name: str) -> None:
        self.settings = settings
        self.embedder_name = embedder_name
        self.remote = bool(settings.chroma_url)
        self._client = make_client(settings) if self.remote else None
        self.blobs = open_blobs(settings, self._client)
        self.manifest = Manifest.load(self.blobs)
        self._lexical: LexicalIndex | None = None
        self._collection = None
        self._lock = threading.Lock()

    # --- Chroma -----------------------------------------------------------------------------------------
    @property
    def collection(self):  # type: ignore[no-untyped-def]
        with self._lock:
            if self._collection is None:
                self._client = self._client or make_client(self.settings)
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
                configuration={"hnsw": {"space": "cosine", "ef_search": EF_SEARCH}},
                metadata={"embedder": self.embedder_name},
            )
        except Exception as exc:
            raise StoreError(f"cannot open collection {name!r}: {exc}") from exc
        built_with = (collection.metadata or {}).get("embedder")
        if built_with != self.embedder_name:
            raise IndexMismatch(
                f"the index in {index_location(self.settings)} was built with embedder {built_with!r}, "
                f"but KB_EMBED_MODEL is {self.embedder_name!r}; rebuild it with "
                f"`python ingest.py --rebuild` (or set KB_EMBED_MODEL={built_with})"
            )
        _search_wide(collection, remote=bool(self.settings.chroma_url))
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
            metadatas = [c.metadata() for c in part]
            if self.remote:  # replicas build their BM25 index from these (see the class docstring)
                for c, md in zip(part, metadatas, strict=True):
                    md["tokens"] = TOKEN_SEP.join(self.lexical.tokens_of(c))
            self.collection.upsert(
                ids=[record_id(c.id, c.doc_hash) for c in part],
                embeddings=vectors[start : start + 500].tolist(),
                documents=[c.text for c in part],
                metadatas=metadatas,
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
        if self._lexical is None:
            lexical = self._remote_lexical() if self.remote else LexicalIndex(self.settings.lexical_dir / "bm25.json")
            with self._lock:
                self._lexical = self._lexical or lexical
        return self._lexical

    def _remote_lexical(self) -> LexicalIndex:
        """The BM25 index of the versions the manifest lists, from the server's chunk records."""
        listed = {doc_id: doc["hash"] for doc_id, doc in self.manifest.docs.items()}
        entries: dict[str, dict[str, Any]] = {}
        total = self.collection.count()
        for offset in range(0, total, 1000):
            got = self.collection.get(include=["documents", "metadatas"], limit=1000, offset=offset)
            for text, md in zip(got["documents"], got["metadatas"], strict=True):
                if not md or listed.get(str(md.get("doc_id"))) != md.get("doc_hash"):
                    continue  # another version, or an ingest that has not committed
                md = dict(md)
                tokens = str(md.pop("tokens", ""))
                entries[str(md["chunk_id"])] = {
                    "tokens": tokens.split(TOKEN_SEP) if tokens else [],
                    "text": text,
                    "metadata": md,
                }
        return LexicalIndex.in_memory(entries)

    def save_text(self, doc_id: str, doc_hash: str, text: str) -> None:
        """Keep one version's cleaned text (versions sit side by side until the manifest commits)."""
        self.blobs.write(self.text_name(doc_id, doc_hash), text)

    def delete_texts(self, doc_id: str, keep: str | None = None) -> None:
        """Prune a document's cleaned texts, support-measure cards and window vectors to the version `keep` (None:
        all)."""
        self.blobs.prune(f"texts/{_doc_key(doc_id)}", keep=self.text_name(doc_id, keep) if keep else None)
        self.blobs.prune(f"cards/{_doc_key(doc_id)}", keep=self.cards_name(doc_id, keep) if keep else None)
        self.blobs.prune(f"windows/{_doc_key(doc_id)}", keep=self.windows_name(doc_id, keep) if keep else None)

    def save_windows(self, doc_id: str, doc_hash: str, windows: str) -> None:
        """Keep one version's window vectors (kb/windows.py), beside its text."""
        self.blobs.write(self.windows_name(doc_id, doc_hash), windows)

    def doc_windows(self, doc_id: str) -> str | None:
        return self._listed(doc_id, self.windows_name)

    @staticmethod
    def windows_name(doc_id: str, doc_hash: str) -> str:
        return f"windows/{_doc_key(doc_id)}-{doc_hash[:12]}.json"

    def save_cards(self, doc_id: str, doc_hash: str, cards: str) -> None:
        """Keep one version's support-measure cards (kb/cards.py), beside its text."""
        self.blobs.write(self.cards_name(doc_id, doc_hash), cards)

    def doc_cards(self, doc_id: str) -> str | None:
        return self._listed(doc_id, self.cards_name)

    @staticmethod
    def cards_name(doc_id: str, doc_hash: str) -> str:
        return f"cards/{_doc_key(doc_id)}-{doc_hash[:12]}.json"

    def doc_text(self, doc_id: str) -> str | None:
        """The cleaned text of the version the manifest lists (what citations' offsets point into)."""
        return self._listed(doc_id, self.text_name)

    def _listed(self, doc_id: str, name: Callable[[str, str], str]) -> str | None:
        """The blob `name` gives for the version of `doc_id` the manifest lists (None when it lists none)."""
        listed = self.manifest.docs.get(doc_id)
        return None if listed is None else self.blobs.read(name(doc_id, listed["hash"]))

    @staticmethod
    def text_name(doc_id: str, doc_hash: str) -> str:
        return f"texts/{_doc_key(doc_id)}-{doc_hash[:12]}.txt"

    # --- whole store ------------------------------------------------------------------------------------
    def commit(self) -> None:
        """Persist the lexical index, then the manifest: the manifest is the commit point."""
        if not self.remote:
            self.lexical.save()
        self.manifest.embedder = self.embedder_name
        self.manifest.save()

    def reset(self) -> None:
        """Drop every stored vector, text and index entry (for --rebuild)."""
        from chromadb.errors import NotFoundError

        self._client = self._client or make_client(self.settings)
        try:
            self._client.delete_collection(self.settings.collection)
        except NotFoundError:
            pass
        self._collection = None
        shutil.rmtree(self.settings.lexical_dir, ignore_errors=True)
        shutil.rmtree(self.settings.texts_dir, ignore_errors=True)
        self.blobs.clear()
        self.manifest = Manifest(self.blobs)
        self._lexical = None


def _search_wide(collection, remote: bool) -> None:  # type: ignore[no-untyped-def]
    """Raise an older collection's ef_search to EF_SEARCH (a setting Chroma lets change after creation). It takes
    effect when the HNSW index is next loaded: at once for a store opened by this process, after a restart for a
    Chroma server that has already served queries."""
    try:
        hnsw = (collection.configuration_json or {}).get("hnsw") or {}
        if int(hnsw.get("ef_search") or 0) >= EF_SEARCH:
            return
        collection.modify(configuration={"hnsw": {"ef_search": EF_SEARCH}})
        if remote:
            log.warning(
                "widened the vector search of %r to %d candidates; restart the Chroma server for it to take effect",
                collection.name,
                EF_SEARCH,
            )
    except Exception as exc:  # a store that refuses the change still answers, with its old search width
        log.warning(
            "cannot widen the vector search of %r (%s): results may vary slightly between runs", collection.name, exc
        )
