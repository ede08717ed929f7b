"""Route a question before retrieval: nothing asked, not for this service, a document-facts question, or general.

(我能申请吗 questions are recognised by `kb.eligibility.parse_profile`, which also reads the earlier turns.)
"""

from __future__ import annotations

from dataclasses import dataclass

from .answer import asks_metadata
from .query import is_empty, looks_like_injection, looks_off_topic

EMPTY, BLOCKED, FACTS, GENERAL = "empty", "blocked", "facts", "general"


@dataclass(frozen=True)
class Route:
    """Where a question goes; `reason` says why a blocked one is (off-topic, injection)."""

    kind: str
    reason: str = ""


def route(question: str) -> Route:
    """EMPTY (no words), BLOCKED (chat, jokes, orders to the model), FACTS (文号, issuer, dates, addressees), else
    GENERAL."""
    if is_empty(question):
        return Route(EMPTY)
    if looks_like_injection(question):
        return Route(BLOCKED, "injection")
    if looks_off_topic(question):
        return Route(BLOCKED, "off-topic")
    if asks_metadata(question):
        return Route(FACTS)
    return Route(GENERAL)
