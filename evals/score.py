"""Scoring: hits at rank k, MRR, answer contains, refusals; one row per question so a regression names its question."""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

_STRIP = re.compile(r"[\s\W_]+", re.UNICODE)


def norm(text: str) -> str:
    """Compare without punctuation and white space."""
    return _STRIP.sub("", text or "").lower()


def contains_phrase(passage: str, phrases: Sequence[str]) -> bool:
    p = norm(passage)
    return any(norm(phrase) and norm(phrase) in p for phrase in phrases)


def contains_answer(passage: str, answer: str, window: int = 20) -> bool:
    """NCP rule: the passage holds the whole answer, or at least `window` consecutive characters of it."""
    p, a = norm(passage), norm(answer)
    if not a:
        return False
    if a in p:
        return True
    return len(a) >= window and any(a[i : i + window] in p for i in range(len(a) - window + 1))


@dataclass
class Row:
    """One question's outcome."""

    id: str
    question: str
    kind: str  # answerable / unanswerable
    refused: bool
    first_hit: int | None  # 1-based rank of the first correct citation, None when none
    answer_has_phrase: bool
    cited_chars: list[int] = field(default_factory=list)
    total_ms: float = 0.0
    note: str = ""


@dataclass
class Summary:
    n: int
    hit1: float
    hit5: float
    mrr10: float
    answer_phrase: float
    refused_unanswerable: float | None
    false_refusals: float
    mean_cited_chars: float


def summarise(rows: list[Row]) -> Summary:
    answerable = [r for r in rows if r.kind == "answerable"]
    unanswerable = [r for r in rows if r.kind == "unanswerable"]
    n = len(answerable) or 1
    cited = [c for r in rows for c in r.cited_chars]
    return Summary(
        n=len(answerable),
        hit1=sum(1 for r in answerable if r.first_hit == 1) / n,
        hit5=sum(1 for r in answerable if r.first_hit is not None and r.first_hit <= 5) / n,
        mrr10=sum(1 / r.first_hit for r in answerable if r.first_hit is not None and r.first_hit <= 10) / n,
        answer_phrase=sum(1 for r in answerable if r.answer_has_phrase) / n,
        refused_unanswerable=(sum(1 for r in unanswerable if r.refused) / len(unanswerable)) if unanswerable else None,
        false_refusals=sum(1 for r in answerable if r.refused) / n,
        mean_cited_chars=statistics.fmean(cited) if cited else 0.0,
    )


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]
