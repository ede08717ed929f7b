"""The small error tree of the knowledge base; shells translate these into messages and exit codes."""

from __future__ import annotations


class KBError(Exception):
    """Base of every error the library raises on purpose."""


class ConfigError(KBError):
    """A setting (a KB_* variable or a flag) has a value the library cannot use."""


class LoadError(KBError):
    """A source file cannot be turned into text; the message names the file and the reason."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class IndexMismatch(KBError):
    """The stored index was built by another embedder or pipeline; the message says how to rebuild."""


class IndexMissing(KBError):
    """No index has been built yet in the data directory."""


class StoreError(KBError):
    """The vector store or a persisted index cannot be read or written."""


class IngestBusy(KBError):
    """Another ingest holds the data directory's lock."""
