"""Coverage gaps: questions the knowledge base refused and answers users rated 👎, grouped by topic.

A question's topic words are its content words. A follow-up fragment first loses its 「那……呢」, so 「那托育呢？」
is about 托育; jieba, with the policy-term dictionary, cuts it into words and tags their part of speech. Function
words go by their tag (pronouns, adverbs, numerals, particles…), places by theirs, words of asking (怎么办, 能不能,
多少钱) by a stop list kept as data (`question_words.txt`), and a word jieba guessed across a function word
(「最多能」) is not taken. Each question then joins the topic word that best names its group: shared by many of the
questions and rare in Chinese at large (jieba's IDF table), so that 托育 names a group before a word as general as
补贴 does. Maintainers see which circulars to add next, and what users said in the comments they left with a 👎.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SKIPPED_REASONS = ("off-topic",)  # chit-chat and prompt injection: not a gap in the corpus
NO_TOPIC = "（无主题词）"  # questions made only of words of asking: 「最多能补多少钱？」
COMMENTS_SHOWN = 5  # per topic in the text report; --json has them all
QUESTION_WORDS_FILE = Path(__file__).with_name("question_words.txt")
# Parts of speech that never name a topic (jieba's tags, by first letter): pronouns, adverbs, numerals, measure
# words, prepositions, conjunctions, particles, modal particles, interjections, onomatopoeia, punctuation, locality
# and time words, descriptive words, prefixes and suffixes.
FUNCTION_TAGS = frozenset("rdmqpcuyeoxwftzhk")
PLACE_TAG = "ns"  # 江西, 南昌: where the asker is, not what the question is about
# A follow-up leans on the previous turn: 「那托育呢？」, 「还有育儿补贴呢」, 「那么如果是个体户的话」.
_LEADING = re.compile(r"^(?:那么|那如果|那要是|那|还有|另外|再问一下|再问|顺便问一下|如果是|要是)+")
_TRAILING = re.compile(r"(?:的话)?(?:呢|吗|嘛|啊|呀|吧)?[\s？?。！!…~，,]*$")
_lock = threading.Lock()
_jieba: tuple[Any, dict[str, float], float] | None = None  # (posseg tokenizer, IDF table, median IDF)


@dataclass
class Gap:
    topic: str
    refused: int = 0
    disliked: int = 0
    examples: list[str] = field(default_factory=list)
    last: str = ""
    comments: list[dict[str, str]] = field(default_factory=list)  # {question, comment, time} left with a 👎

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
            "comments": self.comments,
        }


@dataclass
class GapReport:
    gaps: list[Gap]
    skipped: int  # off-topic or injection refusals, not counted as gaps
    unreadable: list[str]  # "file:line: reason"


@lru_cache(maxsize=1)
def question_words() -> frozenset[str]:
    """The stop list: `question_words.txt` and kb/words.py's words of asking."""
    from .words import ASKING

    words = set(ASKING)
    for line in QUESTION_WORDS_FILE.read_text(encoding="utf-8").splitlines():
        words.update(line.split("#", 1)[0].split())
    return frozenset(words)


def _tools() -> tuple[Any, dict[str, float], float]:
    """A part-of-speech tagger that knows the policy terms (托育, 创业担保贷款), and jieba's IDF table."""
    global _jieba
    with _lock:
        if _jieba is None:
            import jieba
            import jieba.analyse
            import jieba.posseg

            from .lexical import USER_DICT

            jieba.setLogLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            tokenizer.load_userdict(str(USER_DICT))
            idf = jieba.analyse.default_tfidf
            _jieba = (jieba.posseg.POSTokenizer(tokenizer), idf.idf_freq, idf.median_idf)
    return _jieba


def normalise(question: str) -> str:
    """The question in simplified characters, without a follow-up's leading 那/还有/那么 and its trailing 呢/吗."""
    from .query import normalise_question

    text = normalise_question(question)  # simplified characters, half-width digits (一樣 → 一样)
    return _TRAILING.sub("", _LEADING.sub("", text)) or text


def _has_function_char(word: str, posseg: Any) -> bool:
    """Whether a character of `word` is, on its own, a function word (了, 最, 那, 的)."""
    return any(posseg.word_tag_tab.get(ch, " ")[0] in FUNCTION_TAGS for ch in word)


def keywords(question: str, k: int = 4) -> list[str]:
    """The question's `k` rarest content words (function words and words of asking left out), each followed by
    the dictionary words inside it (创业担保贷款: 创业, 担保, 贷款) so that it can share a topic with them."""
    posseg, idf, median = _tools()
    stop = question_words()

    def usable(word: str, seen: list[str]) -> bool:
        # not a number (2024, 3%), not a word of asking, not already there
        return len(word) >= 2 and word not in stop and word not in seen and not (word.isascii() and not word.isalpha())

    whole: list[str] = []
    for word, tag in posseg.cut(normalise(question)):
        word = word.strip().lower()
        if tag == PLACE_TAG or (tag[:1] in FUNCTION_TAGS and tag != "eng") or not usable(word, whole):
            continue
        if not posseg.tokenizer.FREQ.get(word) and _has_function_char(word, posseg):
            continue  # a new word jieba guessed across a function word: 了能, 最多能
        whole.append(word)
    words: list[str] = []
    for word in sorted(whole, key=lambda w: -idf.get(w, median))[:k]:
        parts = [word[i : i + n] for n in (2, 3) if len(word) > n for i in range(len(word) - n + 1)]
        words += [w for w in [word, *(p for p in parts if posseg.tokenizer.FREQ.get(p))] if usable(w, words)]
    return words


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
    """Group `unanswered.jsonl` and the 👎 lines of `feedback.jsonl` in each data dir (one per bot replica), with
    the comments users left on the answers they rated 👎."""
    unreadable: list[str] = []
    signals: list[tuple[str, str, str]] = []  # (question, kind, time)
    comments: list[tuple[str, str, str]] = []  # (question, comment, time)
    skipped = 0
    for data_dir in data_dirs:
        for row in _read_jsonl(data_dir / "unanswered.jsonl", unreadable):
            if str(row.get("reason", "")).startswith(SKIPPED_REASONS):
                skipped += 1
                continue
            signals.append((row["question"], "refused", str(row.get("time", ""))))
        rows = _read_jsonl(data_dir / "feedback.jsonl", unreadable)
        # The web chat writes a comment as a line of its own, naming the rating it goes with (`rated`); older lines
        # do not, and go with a 👎 of the same question and answer.
        disliked = {(r["question"], str(r.get("answer", ""))) for r in rows if r.get("rating") == "down"}
        for row in rows:
            if row.get("rating") == "down":
                signals.append((row["question"], "disliked", str(row.get("time", ""))))
            elif row.get("rating") == "comment" and (
                row["rated"] == "down" if "rated" in row else (row["question"], str(row.get("answer", ""))) in disliked
            ):
                text = str(row.get("comment", "")).strip()
                if text:
                    comments.append((row["question"], text, str(row.get("time", ""))))
    topic_of = topics([q for q, _, _ in signals])
    groups: dict[str, Gap] = {}
    for question, kind, when in signals:
        gap = groups.setdefault(topic_of[question], Gap(topic_of[question]))
        if kind == "refused":
            gap.refused += 1
        else:
            gap.disliked += 1
        gap.last = max(gap.last, when)
        if question not in gap.examples and len(gap.examples) < examples:
            gap.examples.append(question)
    for question, text, when in comments:
        groups[topic_of[question]].comments.append({"question": question, "comment": text, "time": when})
    ordered = sorted(groups.values(), key=lambda g: (-g.count, g.topic))
    return GapReport(ordered, skipped, unreadable)


def topics(questions: list[str]) -> dict[str, str]:
    """Each distinct question → its topic: of its content words, the one with the most questions × rarity². A word
    inside a longer one (执照 in 营业执照) stands only when it brings more questions together than the longer one."""
    _posseg, idf, median = _tools()
    words_of = {q: keywords(q) for q in dict.fromkeys(questions)}
    shared = Counter(w for words in words_of.values() for w in words)
    topic_of = {}
    for question, words in words_of.items():
        standing = [w for w in words if not any(w != o and w in o and shared[o] >= shared[w] for o in words)]
        topic_of[question] = max(standing, key=lambda w: shared[w] * idf.get(w, median) ** 2) if standing else NO_TOPIC
    return topic_of


def one_line(text: str, limit: int = 200) -> str:
    """Users' words as one printable line of at most `limit` characters (no newlines or terminal escapes)."""
    from .query import clean_question

    text = " ".join(clean_question(text)[0].split())  # terminal escapes and invisible characters dropped
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render(report: GapReport) -> str:
    if not report.gaps:
        lines = ["No unanswered or disliked questions recorded."]
    else:
        lines = ["count  refused  👎  topic  (examples)"]
        for gap in report.gaps:
            lines.append(f"{gap.count:5d}  {gap.refused:7d}  {gap.disliked:2d}  {gap.topic}")
            lines += [f"         · {one_line(q)}" for q in gap.examples]
            lines += [
                f"         👎 「{one_line(c['comment'])}」 ← {one_line(c['question'], 60)}"
                for c in gap.comments[:COMMENTS_SHOWN]
            ]
            if len(gap.comments) > COMMENTS_SHOWN:
                lines.append(f"         (+{len(gap.comments) - COMMENTS_SHOWN} more comment(s) in --json)")
    if report.skipped:
        lines.append(f"({report.skipped} off-topic or injection question(s) not counted)")
    lines += [f"unreadable line: {u}" for u in report.unreadable]
    return "\n".join(lines) + "\n"
