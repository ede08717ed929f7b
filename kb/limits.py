"""How much one request may ask for: every input of every endpoint (web and CLI) is bounded before any work.

A policy question runs to a few dozen characters; anything far past that is a pasted page or an attack, and would
only hold a worker (the embedder, BM25 and the sentence scorer all grow with the input). The limits are listed in
the README; the web app turns a cut into a notice, never an error page.
"""

from __future__ import annotations

MAX_QUESTION_CHARS = 500  # a chat question or a 检索 query: cut, with a notice
MAX_TERMS_CHARS = 100  # the 措施卡片 filter words
MAX_COMMENT_CHARS = 1000  # a feedback comment: cut
MAX_CHOICES = 20  # items of a multi-select (identities, documents): the rest are dropped
MAX_FIELD_CHARS = 60  # a single choice (issuer, region, year, field): longer values are no choice at all
MAX_HISTORY_TURNS = 3  # earlier turns a follow-up is read against
MAX_K = 50  # passages one call may ask for (`--k`, the `k` of the library calls)
MAX_REQUEST_KB = 256  # default HTTP request body limit of the web app (KB_MAX_REQUEST_KB); larger bodies get 413


def cut(text: object, limit: int) -> tuple[str, bool]:
    """`text` as a string of at most `limit` characters, and whether it was cut (a non-string counts as empty)."""
    value = text if isinstance(text, str) else ""
    return (value, False) if len(value) <= limit else (value[:limit], True)


def choice(value: object) -> str:
    """A single choice as sent by a client: a short string, or "" (none) for anything else."""
    return value if isinstance(value, str) and len(value) <= MAX_FIELD_CHARS else ""


def choices(values: object) -> tuple[str, ...]:
    """A multi-select as sent by a client: at most MAX_CHOICES short strings; anything else is dropped."""
    if not isinstance(values, list | tuple):
        return ()
    return tuple(v for v in values[:MAX_CHOICES] if isinstance(v, str) and len(v) <= MAX_FIELD_CHARS)
