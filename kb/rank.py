"""Learned passage ranking: the fused candidates re-ordered by a small logistic model over signals of each one.

Reciprocal-rank fusion only sees the two rankings; most misses on questions in users' own words are the right
document's wrong passage. The model also weighs how much of the question's subject (its words, their policy terms,
their character pairs) a passage, its section heading and its document's title hold, how strongly the other
candidates vote for its document, and whether it holds the kind of fact asked for. It is fitted by
`python -m evals.fit_ranker` on training questions only (NCP train.jsonl and the calibration half of evals/users),
chosen on the dev sets, and shipped as kb/ranker.json. Without that file the fused order stands.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from . import facts
from .answer import _ASKS_TIME, _TIMES, _bigrams, figure_values, token_set
from .lexical import LexicalIndex
from .linear import Linear
from .types import Hit
from .words import ASKS_NUMBER, content_words, forms_of, rarest_known

log = logging.getLogger(__name__)

RANKER = Path(__file__).with_name("ranker.json")
RANKER_VERSION = 4  # 2: the best window's similarity (kb/windows.py); 3: kind_match reads kb/facts.py's kinds;
# 4: idf_coverage credits the form of a word a passage has; a word weighs as itself, or as its rarest known form
RERANK = 30  # fused candidates the model re-orders; the rest keep their fused order behind them
FEATURES = (
    "dense",
    "dense_gap",
    "dense_rr",
    "lexical_rr",
    "bm25_rel",
    "fused_rr",
    "coverage",
    "idf_coverage",
    "bigrams",
    "title",
    "section",
    "doc_votes",
    "doc_dense_gap",
    "boosted",
    "length",
    "kind_match",
    "kind_miss",
    "window",
    "window_gap",
)

_NUMBER = re.compile(r"\d+(\.\d+)?\s*(万元|亿元|元|%|％|个|岁|人|倍|个月|日|天|小时|年|家|所|项|张)")
_TIME = re.compile(r"\d{4}年|\d{1,2}月|年底|年前|年末|之日起|\d+日内|个工作日|每年|\d+年内")


def _ranks(hits: list[Hit], score: str) -> dict[str, int]:
    """Each candidate's rank on one signal (the candidates hold each signal's top CANDIDATES, so this is exact)."""
    scored = sorted((h for h in hits if getattr(h, score) is not None), key=lambda h: -getattr(h, score))
    return {h.chunk.id: r for r, h in enumerate(scored, start=1)}


def candidate_features(
    question: str,
    hits: list[Hit],
    lexical: LexicalIndex,
    boost: frozenset[str] = frozenset(),
    spans: list[tuple[str, set[str]]] | None = None,
    windows: list[float | None] | None = None,
) -> list[dict[str, float]]:
    """FEATURES for each of `hits` (the fused candidates, in fused order) as signals of relevance to `question`;
    `spans`: each hit's text and tokens as it would be cited (widened), else its own; `windows`: each hit's best
    window similarity to the question (kb/windows.py), else (or where None) its passage's."""
    words = content_words(question, lexical)
    forms = forms_of(words, lexical)
    # A word the library knows weighs as itself; one it does not know, as its rarest form it knows (农产品 as 产品).
    # A passage is credited with the form it has: 担保 is not 反担保, though both are forms of it.
    idf = {w: lexical.idf(w) if lexical.knows(w) else rarest_known(w, forms[w], lexical) for w in words}
    idf_total = sum(idf.values()) or 1.0
    q_bigrams = _bigrams(" ".join(words))
    # The kinds of fact asked for (kb/facts.py: 「担保费收多少」 a fee's rate, not any number), and whether a number
    # or a time is asked that no figure kind covers (「去哪里办？最高多少？」 asks an office, and a number).
    kinds = facts.asked(question)
    wants = (
        bool(ASKS_NUMBER.search(question)) and not figure_values(kinds),
        bool(_ASKS_TIME.search(question)) and not _TIMES.intersection(kinds),
    )
    dense_rank, lexical_rank = _ranks(hits, "dense"), _ranks(hits, "lexical")
    dense_scores = [h.dense for h in hits if h.dense is not None]
    top_dense = max(dense_scores, default=0.0)
    floor = min(dense_scores, default=0.0) - 0.02  # a candidate only BM25 found is less similar than any dense one
    top_lexical = max((h.lexical for h in hits if h.lexical is not None), default=0.0) or 1.0
    votes: dict[str, int] = {}
    for h in hits[:10]:
        votes[h.chunk.doc_id] = votes.get(h.chunk.doc_id, 0) + 1
    doc_dense: dict[str, float] = {}
    for h in hits:
        d = h.dense if h.dense is not None else floor
        doc_dense[h.chunk.doc_id] = max(doc_dense.get(h.chunk.doc_id, floor), d)
    if spans is None:
        spans = [(h.chunk.text, set(lexical.tokens_of(h.chunk))) for h in hits]
    window = [
        w if w is not None else (h.dense if h.dense is not None else floor)
        for h, w in zip(hits, windows or [None] * len(hits), strict=True)
    ]
    top_window = max(window, default=0.0)
    out = []
    for position, (hit, (text, tokens), best_window) in enumerate(zip(hits, spans, window, strict=True), start=1):
        chunk = hit.chunk
        title = _tokens(lexical, chunk.meta.title)
        section = _tokens(lexical, chunk.section)
        covered = [w for w in words if forms[w] & tokens]
        credit = sum(min(idf[w], max(lexical.idf(f) for f in forms[w] & tokens)) for w in covered)
        dense = hit.dense if hit.dense is not None else floor
        has = bool(_NUMBER.search(text)), bool(_TIME.search(text))
        asked = [facts.holds(text, k) for k in kinds] + [h for w, h in zip(wants, has, strict=True) if w]
        out.append(
            {
                "dense": dense,
                "dense_gap": top_dense - dense,
                "dense_rr": 1.0 / (5 + dense_rank[chunk.id]) if chunk.id in dense_rank else 0.0,
                "lexical_rr": 1.0 / (5 + lexical_rank[chunk.id]) if chunk.id in lexical_rank else 0.0,
                "bm25_rel": (hit.lexical or 0.0) / top_lexical,
                "fused_rr": 1.0 / position,
                "coverage": len(covered) / len(words) if words else 0.0,
                "idf_coverage": credit / idf_total if words else 0.0,
                "bigrams": len(q_bigrams & _bigrams(text)) / len(q_bigrams) if q_bigrams else 0.0,
                "title": sum(1 for w in words if forms[w] & title) / len(words) if words else 0.0,
                "section": sum(1 for w in words if forms[w] & section) / len(words) if words else 0.0,
                "doc_votes": votes.get(chunk.doc_id, 0) / 10.0,
                "doc_dense_gap": top_dense - doc_dense[chunk.doc_id],
                "boosted": 1.0 if chunk.doc_id in boost else 0.0,
                "length": math.log1p(len(text)) / 7.0,
                "kind_match": 1.0 if asked and all(asked) else 0.0,
                "kind_miss": 1.0 if asked and not any(asked) else 0.0,
                "window": best_window,
                "window_gap": top_window - best_window,
            }
        )
    return out


def _tokens(lexical: LexicalIndex, text: str) -> frozenset[str]:
    return token_set(lexical.tokenizer.tokenize, text)


class Ranker(Linear):
    """A linear model over standardised FEATURES: the higher a candidate's score, the likelier it is relevant."""

    def rerank(
        self,
        question: str,
        hits: list[Hit],
        lexical: LexicalIndex,
        boost: frozenset[str] = frozenset(),
        spans: list[tuple[str, set[str]]] | None = None,
        windows: list[float | None] | None = None,
    ) -> list[Hit]:
        """The first RERANK hits in the model's order, then the rest; `spans` and `windows` as for
        candidate_features.

        Each place keeps the fused score it had (the best hit gets the best fused score, and so on), so that what
        reads scores downstream (the sentence prior, the gate) sees the scale it was fitted on."""
        head, tail = hits[:RERANK], hits[RERANK:]
        if len(head) < 2:
            return hits
        values = candidate_features(question, head, lexical, boost, spans, windows)
        order = sorted(range(len(head)), key=lambda i: -self.score(values[i]))
        places = sorted((h.score for h in head), reverse=True)
        return [replace(head[i], score=score) for i, score in zip(order, places, strict=True)] + tail


@lru_cache(maxsize=4)
def load_ranker(path: Path = RANKER) -> Ranker | None:
    """The shipped ranker; a missing or damaged file is logged and the fused order is kept."""
    return Ranker.load(path, FEATURES, RANKER_VERSION, "passage ranker")
