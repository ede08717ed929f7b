"""Judge the evidence: answered (cited, confident), closest (the nearest passages, clearly hedged) or refused.

A small logistic model over a few signals of the retrieval decides; it is fitted on the calibration half of the
users'-words question set and on seed-dev by `python -m evals.fit_gate`, and shipped as `kb/gate.json`. Nothing here
is tuned by hand: change a feature, re-fit, and report the test half (evals/RESULTS.md).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import facts
from .answer import Evidence, ScoredSentence, question_parts, split_sentences, token_set
from .lexical import LexicalIndex
from .query import Query, normalise_question
from .region import province_of, provinces_in
from .retrieve import Retrieval
from .types import Hit
from .words import content_words, policy_terms, rarest_known

log = logging.getLogger(__name__)

ANSWERED, CLOSEST, REFUSED = "answered", "closest", "refused"
GATE = Path(__file__).with_name("gate.json")
GATE_VERSION = 11  # 2: kind_match reads the kinds of fact asked for (kb/facts.py); 3: uncovered_rarity;
# 4: kind_match reads the first part of the question that asks a kind (rates split: interest, fee, tax); 5: window;
# 6: kinds materials and office, a part asking a figure first (kb/facts.py); a document-facts question's kinds
# are checked against what its answer states (title, 文号, issuer, dates); 7: kind_match reads the passage cited
# first, kind_near; 8: kind_near looks beside the words the library knows; kinds sum and platform (kb/facts.py);
# 9: a follow-up's kinds are those its own words ask; 10: dense_gap; 11: named_kinds
FEATURES = (
    "dense",
    "lexical",
    "coverage",
    "missing",
    "kind_match",
    "other_place",
    "key_coverage",
    "title_coverage",
    "uncovered_rarity",
    "uncovered",
    "window",
    "kind_near",
    "dense_gap",
    "named_kinds",
)


@dataclass(frozen=True)
class Judgement:
    """The gate's verdict on one retrieval: its status, the model's confidence, and the signals it weighed."""

    status: str
    confidence: float
    features: dict[str, float] = field(default_factory=dict)
    sentences: tuple[ScoredSentence, ...] = ()  # the best sentences of the top passages, as the answer quotes them


def features(
    query: Query,
    retrieval: Retrieval,
    sentences: list[ScoredSentence],
    evidence: Evidence,
    lexical: LexicalIndex,
    cited_hits: list[Hit] | None = None,
    window: float | None = None,
    stated: str | None = None,
) -> dict[str, float]:
    """The signals the gate weighs (see FEATURES): similarity and lexical support of the best passages; how much of
    the question's subject the library, the best passages and the best document's title know, and how specific the
    words no passage has are; whether the first cited passages (`cited_hits`, else the weighed ones) name every kind
    of fact asked for (kb/facts.py: a sum, a share, a length of time, a count, an age, a date); and whether
    the question names a province no retrieved document is about; `window`: the best similarity of any sentence
    window of the first passages to the question (kb/windows.py), else the best passage similarity; dense_gap: how
    far the most similar passage stands out from the next nine; named_kinds: whether the papers, office or platform
    the first asking part asks for are named by one of the first three passages. `stated`: the
    text the answer states the facts from, when not the cited passages (a document-facts answer: title, 文号,
    issuer and dates, kb/answer.py document_facts)."""
    hits = retrieval.hits
    words = content_words(query.text, lexical)
    # Each word with the forms the library may know it by: its policy terms (带娃 → 婴幼儿) or its spelling fix.
    forms = {w: {w, *policy_terms(w, lexical)} for w in words}
    missing = sum(1 for w in words if not any(lexical.knows(f) for f in forms[w])) / len(words) if words else 0.0
    tops = [set(lexical.tokens_of(h.chunk)) for h in hits[:3]]
    key_coverage = (
        max((sum(1 for w in words if forms[w] & t) / len(words) for t in tops), default=0.0) if words else 0.0
    )
    seen = set().union(*tops)
    # The subject words no top passage has: how many, and how specific the most specific of them is.
    uncovered = [max(lexical.idf(f) for f in forms[w]) for w in words if not forms[w] & seen]
    # Every kind of fact asked for (a sum, a share, a length of time …) must be named in the passages cited first.
    cited = hits if cited_hits is None else cited_hits
    # The kinds of the first part that asks any: of 「最多能贷多少？利息怎么算？」 the sum; the answer notes that no
    # rate is given (kb/answer.py), the question is not judged as one with nothing answered.
    # A part asking for a figure comes before one asking only for papers or an office (「在哪交？一年多少钱？」).
    # A follow-up is judged on the kinds its own words ask (「那利息多少？」 after 「最多能贷多少？」 asks a rate, which
    # the 15万元 of the earlier turn's passage does not hold), the combined text's when it asks none (「那托育呢？」).
    own = normalise_question(query.original) if query.rewritten else ""
    asks = (
        [kinds for kinds in map(facts.asked, question_parts(own) or [own]) if kinds]  # 「几岁？」 is one short part
        or [kinds for kinds in map(facts.asked, question_parts(query.text)) if kinds]
    )
    kinds = next((k for k in asks if any(map(facts.is_figure, k))), asks[0] if asks else ())
    # The passage cited first must hold them (a figure in the third passage seldom answers), and, for kind_near,
    # one sentence of the first three must hold each beside one of the question's three most specific words
    # (「奖补一年给多少」 is not answered by a 15万元 loan ceiling two clauses away).
    first = stated if stated is not None else (cited[0].chunk.text if cited else "")
    kind_match = 0.0 if any(not facts.holds(first, k) for k in kinds) else 1.0
    kind_near = 1.0 if stated is not None else _kind_near(kinds, cited[:3], words, forms, lexical)
    # The papers, office or platform the first asking part asks for must be named by one of the first three
    # passages: 「去哪个部门申请？多久能放款？」 is not answered by passages that name no office. A figure a later
    # part asks is not weighed here: the answer says the texts give none (「最多能贷多少？利息怎么算？」).
    texts = [stated] if stated is not None else [h.chunk.text for h in cited[:3]]
    first_asked = (asks or [()])[0]
    named_kinds = float(all(any(facts.holds(t, k) for t in texts) for k in first_asked if not facts.is_figure(k)))
    title = set(lexical.tokenizer.tokenize(hits[0].chunk.meta.title)) if hits else set()
    title_coverage = sum(1 for w in words if forms[w] & title) / len(words) if words else 0.0
    # A follow-up's own place replaces the earlier turn's: 「广东呢？」 after a question on 江西 asks about 广东.
    named = (query.rewritten and provinces_in(normalise_question(query.original))) or provinces_in(query.text)
    covered = {province_of(h.chunk.meta.region) for h in hits}  # a city's circular covers its province
    if (
        named and not named & covered
    ):  # a national circular's passage on 湖北 is about 湖北 too (a 江苏 one naming 上海 is not)
        national = [h for h in hits[:5] if h.chunk.meta.region in ("国家", "")]
        covered |= provinces_in(" ".join(f"{h.chunk.meta.title} {h.chunk.text}" for h in national))
    other_place = 1.0 if named and not named & covered else 0.0
    # How far the most similar passage stands out from the next nine: a question the library answers is close to the
    # passage that answers it; one it does not is about as close to many passages on its subject. Read from every
    # dense candidate (Retrieval.similar), not from the hits presented, whose number the caller chooses.
    similar = retrieval.similar
    values = {
        "dense": evidence.dense_top,
        "lexical": min(evidence.lexical_support, 2.0),
        "coverage": evidence.coverage,
        "missing": missing,
        "kind_match": kind_match,
        "other_place": other_place,
        "key_coverage": key_coverage,
        "title_coverage": title_coverage,
        # As a share of the rarest possible IDF: raw IDF grows with the library (a word no passage has scores ln 258
        # over corpus/ and ln 6,400 with the NCP documents), which would make a larger library look less sure.
        "uncovered_rarity": max(uncovered, default=0.0) / (lexical.rarest_idf() or 1.0),
        "uncovered": float(len(uncovered)),
        "window": evidence.dense_top if window is None else window,
        "kind_near": kind_near,
        "named_kinds": named_kinds,
    }
    if len(similar) > 1:  # else the gate counts it as average (Gate.confidence): one passage stands out from none
        nearest = similar[1:10]
        values["dense_gap"] = similar[0] - sum(nearest) / len(nearest)
    return values


def _kind_near(
    kinds: tuple[str, ...], hits: list[Hit], words: list[str], forms: dict[str, set[str]], lexical: LexicalIndex
) -> float:
    """1 when every kind of fact asked for (`kinds`) is held by a sentence of `hits` that also holds one of the
    question's three most specific words the library knows (by IDF, through their policy terms; of all its words
    when it knows one at most); 1 when none is asked for, or the question has no subject word."""
    # Words the library does not know are near nothing: the most specific of those it knows (「没裁」「两年」 are
    # not what 「能退多少」 is about) — unless it knows one word at most (「比特币矿场电费能补多少」: none of it).
    known = [w for w in words if any(lexical.knows(f) for f in forms[w])]
    pool = known if len(known) >= 2 else words
    specific = sorted(pool, key=lambda w: -rarest_known(w, forms[w], lexical))[:3]
    if not kinds or not specific:  # nothing asked for, or no subject word to be near (「一年多少钱？」 alone)
        return 1.0
    near = [
        sentence
        for hit in hits
        for sentence in split_sentences(hit.chunk.text)
        if any(forms[w] & token_set(lexical.tokenizer.tokenize, sentence) for w in specific)
    ]
    return 1.0 if all(any(facts.holds(s, k) for s in near) for k in kinds) else 0.0


# Signals that a part of the question goes unanswered: they hedge an answer, they do not make a question on the
# library's subjects unrelated (「创业担保贷款要去哪个部门申请？」 with no office named is closest, not refused).
HEDGING = ("named_kinds",)


@dataclass(frozen=True)
class Gate:
    """A logistic model over FEATURES with two cut points: refuse below `refuse_below`, answer from `answer_at`."""

    names: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    answer_at: float
    refuse_below: float
    about: dict[str, Any] = field(default_factory=dict)

    def confidence(self, values: dict[str, float]) -> float:
        """The model's probability that the question is answered; a signal missing from `values` (one that could not
        be read, such as dense_gap with a single candidate) counts as the average of the examples it was fitted on."""
        z = self.intercept + sum(
            c * (values[n] - m) / s
            for n, m, s, c in zip(self.names, self.mean, self.scale, self.coef, strict=True)
            if n in values
        )
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def judge(self, values: dict[str, float]) -> Judgement:
        """Answered from `answer_at`; below it closest, or refused when even the question's subject finds too little
        (the confidence with every HEDGING signal met is below `refuse_below`)."""
        p = self.confidence(values)
        if p >= self.answer_at:
            return Judgement(ANSWERED, p, values)
        topical = self.confidence({**values, **{n: 1.0 for n in HEDGING if n in values}})
        # a question every subject word of which one of the first passages holds is on the library's subjects: the
        # closest passages, not a refusal (「双创示范项目能得到哪些支持？有没有房租减免和财政补助？补多少？」)
        held = values.get("key_coverage") == 1.0 and values.get("uncovered") == 0.0
        return Judgement(REFUSED if topical < self.refuse_below and not held else CLOSEST, p, values)

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": GATE_VERSION,
            "features": list(self.names),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "coef": list(self.coef),
            "intercept": self.intercept,
            "answer_at": self.answer_at,
            "refuse_below": self.refuse_below,
            "about": self.about,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Gate:
        if data.get("version") != GATE_VERSION or tuple(data["features"]) != FEATURES:
            raise ValueError("a gate of another version or feature set: re-fit it (python -m evals.fit_gate)")
        return cls(
            tuple(data["features"]),
            tuple(float(x) for x in data["mean"]),
            tuple(float(x) for x in data["scale"]),
            tuple(float(x) for x in data["coef"]),
            float(data["intercept"]),
            float(data["answer_at"]),
            float(data["refuse_below"]),
            dict(data.get("about") or {}),
        )


# Without a fitted model every question with evidence is answered: the gate only ever withholds.
_N = len(FEATURES)
OPEN_GATE = Gate(FEATURES, (0.0,) * _N, (1.0,) * _N, (0.0,) * _N, 0.0, 0.0, 0.0, {"fallback": True})


@lru_cache(maxsize=4)
def load_gate(path: Path = GATE) -> Gate:
    """The shipped gate; a missing or damaged file is logged and every question with evidence is answered."""
    try:
        return Gate.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("answer gate %s unusable (%s): answering every question that has evidence", path, exc)
        return OPEN_GATE
