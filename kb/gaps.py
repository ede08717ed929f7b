"""Coverage gaps: questions the knowledge base refused and answers users rated 👎, grouped by topic.

Topics are the question's leading keywords (jieba's TF-IDF keyword extraction, with the dictionary and IDF table
that ship inside jieba), so maintainers see which circulars to add next.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SKIPPED_REASONS = ("off-topic",)  # chit-chat and prompt injection: not a gap in the corpus
QUESTION_WORDS = frozenset(
    {
        *("办理", "怎么", "怎样", "多久", "需要", "什么", "如何", "哪些", "可以"),
        *("是否", "能否", "政策", "问题", "到账", "请问", "申请", "条件"),
    }
)
_lock = threading.Lock()
_extract = None


@dataclass
class Gap:
    topic: str
    refused: int = 0
    disliked: int = 0
    examples: list[str] = field(default_factory=list)
    last: str = ""

    @property
    def count(self) -> int:
        return self.refused + self.disliked

    def as_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "count": self.count,
            "refused": self.refused,
            "disliked": self.disliked,
            "examples": self.examples,
            "last": self.last,
        }


@dataclass
class GapReport:
    gaps: list[Gap]
    skipped: int  # off-topic or injection refusals, not counted as gaps
    unreadable: list[str]  # "file:line: reason"


def keywords(question: str, k: int = 3) -> list[str]:
    """The question's leading content words (question words such as 怎么办理 left out)."""
    global _extract
    with _lock:
        if _extract is None:
            import jieba
            import jieba.analyse

            jieba.setLogLevel(logging.WARNING)
            _extract = jieba.analyse.extract_tags
    words = _extract(question, topK=k + 3)
    return [w for w in words if w not in QUESTION_WORDS and (len(w) > 1 or not w.isascii())][:k]


def _read_jsonl(path: Path, unreadable: list[str]) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            unreadable.append(f"{path}:{n}: {exc.msg}")
            continue
        if isinstance(row, dict) and isinstance(row.get("question"), str):
            rows.append(row)
        else:
            unreadable.append(f"{path}:{n}: no question")
    return rows


def find_gaps(data_dirs: list[Path], examples: int = 3) -> GapReport:
    """Group `unanswered.jsonl` and the 👎 lines of `feedback.jsonl` in each data dir (one per bot replica)."""
    unreadable: list[str] = []
    signals: list[tuple[str, str, str]] = []  # (question, kind, time)
    skipped = 0
    for data_dir in data_dirs:
        for row in _read_jsonl(data_dir / "unanswered.jsonl", unreadable):
            if str(row.get("reason", "")).startswith(SKIPPED_REASONS):
                skipped += 1
                continue
            signals.append((row["question"], "refused", str(row.get("time", ""))))
        for row in _read_jsonl(data_dir / "feedback.jsonl", unreadable):
            if row.get("rating") == "down":
                signals.append((row["question"], "disliked", str(row.get("time", ""))))
    words_of = {q: keywords(q) or [q.strip()[:12] or "（空）"] for q, _, _ in signals}
    shared = Counter(w for words in words_of.values() for w in words)  # over distinct questions
    groups: dict[str, Gap] = {}
    by_question: dict[str, list[str]] = defaultdict(list)
    for question, kind, when in signals:
        words = words_of[question]
        topic = max(words, key=lambda w: (shared[w], -words.index(w)))  # the word most questions share
        gap = groups.setdefault(topic, Gap(topic))
        if kind == "refused":
            gap.refused += 1
        else:
            gap.disliked += 1
        gap.last = max(gap.last, when)
        if question not in by_question[topic] and len(gap.examples) < examples:
            gap.examples.append(question)
        by_question[topic].append(question)
    ordered = sorted(groups.values(), key=lambda g: (-g.count, g.topic))
    return GapReport(ordered, skipped, unreadable)


def render(report: GapReport) -> str:
    if not report.gaps:
        lines = ["No unanswered or disliked questions recorded."]
    else:
        lines = ["count  refused  👎  topic  (examples)"]
        for gap in report.gaps:
            lines.append(f"{gap.count:5d}  {gap.refused:7d}  {gap.disliked:2d}  {gap.topic}")
            lines += [f"         · {q}" for q in gap.examples]
    if report.skipped:
        lines.append(f"({report.skipped} off-topic or injection question(s) not counted)")
    lines += [f"unreadable line: {u}" for u in report.unreadable]
    return "\n".join(lines) + "\n"
