"""`python -m evals.fit_sentences`: would a fitted sentence scorer quote better than kb/answer.py's hand-set one?

An experiment, not shipped: on 2026-11-29 no model beat the hand-set weights on both dev sets and the calibration
half (evals/RESULTS.md, "The sentence scorer"), so kb/answer.py keeps them. The script stays to re-run the comparison
when the sentence features change.

The answer quotes the best-scored sentences of the top passages and cites their passage first, so this choice
decides both whether the answer holds what was asked and which passage is cited as [1]. Fitted on training
questions only: NCP `train.jsonl` (corpus/ + NCP documents, evals/.data/distracted) and the users' calibration half
(corpus/); chosen on seed-dev and NCP dev; the users' test half is never read.

A sentence is relevant when, quoted as the answer quotes it, it holds an expected phrase (users, seed) or, from the
right document, the NCP answer or 15 consecutive characters of it. Each question's candidates are the sentences of
its first six passages as retrieved (learned ranker on). The model is a logistic regression over
kb.answer.SENTENCE_FEATURES, each question weighing the same, its score the probability the answer quotes by. The
table: for each model, the share of questions whose best-scored sentence is relevant ("sentence hit@1") and whose
passage holds the expected phrase ("passage hit@1"), on the dev sets and, cross-validated (5 folds by a fixed rule on
the id), on the calibration half and NCP train; the hand-set weights are the baseline.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path

import numpy as np

from kb.answer import _expand, hand_score, sentence_features, split_sentences
from kb.service import KnowledgeBase

from .__main__ import publish
from .score import contains_phrase, norm
from .training import compare, fresh, newton_logistic, prepared, question_sets

SENTENCE_FEATURES = (
    "token_cov",
    "bigram_cov",
    "prior",
    "first",
    "dense",
    "number",
    "no_number",
    "time",
    "no_time",
    "place",
    "length",
    "position",
    "window",
    "band",
    "own",
)
L2 = 1.0
PAIRWISE = False
CHOICES = ((0.1, False), (1.0, False), (10.0, False), (1.0, True), (10.0, True))
FOLDS = 5
log = logging.getLogger("evals.fit_sentences")


@dataclass
class Group:
    """One question's candidate sentences: features, whether each is relevant, whether its passage is."""

    id: str
    x: np.ndarray
    y: np.ndarray
    passage: np.ndarray


def relevant(quote: str, q, doc_ok: bool, ncp: bool) -> bool:  # type: ignore[no-untyped-def]
    if not ncp:
        return contains_phrase(quote, q.expect)
    if not doc_ok:
        return False
    s, a = norm(quote), norm(q.expect[0])
    window = min(len(a), 15)
    return bool(a) and (a in s or any(a[i : i + window] in s for i in range(len(a) - window + 1)))


def collect(kb: KnowledgeBase, questions: list, ncp: bool, with_history: bool = False) -> list[Group]:  # type: ignore[no-untyped-def]
    retriever = kb.retriever
    lexical = retriever.store.lexical
    sources = {doc_id: d["sources"] for doc_id, d in retriever.manifest.docs.items()}
    groups = []
    for q in questions:
        if q.kind != "answerable" or not q.expect:
            continue
        query, boost = prepared(kb, q, with_history)
        found = retriever.retrieve(query, k=10, boost=boost)
        hits = found.hits
        held = partial(retriever.sentence_windows, vector=found.vector)
        rows = sentence_features(query, hits, lexical.tokenizer.tokenize, lexical.idf, windows=held)
        if not rows:
            continue
        x, y, passage = [], [], []
        places = {h.chunk.id: n for n, h in enumerate(hits, start=1)}
        for hit, sentence, values in rows:
            stems = {Path(s).stem for s in sources.get(hit.chunk.doc_id, [hit.chunk.meta.source])}
            doc_ok = not ncp or q.doc in stems
            every = split_sentences(hit.chunk.text)
            index = every.index(sentence) if sentence in every else 0
            quote = _expand(every, index) if sentence in every else sentence
            # where the sentence sits: its passage's place, its length, its position in the passage
            values = {
                **values,
                "place": 1.0 / places[hit.chunk.id],
                "length": min(len(sentence), 200) / 100.0,
                "position": index / len(every),
            }
            x.append([values[f] for f in SENTENCE_FEATURES])
            y.append(relevant(quote, q, doc_ok, ncp))
            passage.append(
                relevant(hit.chunk.text, q, doc_ok, ncp) if ncp else contains_phrase(hit.chunk.text, q.expect)
            )
        groups.append(Group(q.id, np.array(x, dtype=float), np.array(y, dtype=float), np.array(passage, dtype=float)))
    return groups


Model = tuple[np.ndarray, np.ndarray, np.ndarray]


def fit(groups: list[Group], l2: float = L2, pairwise: bool = PAIRWISE) -> Model:
    """(mean, scale, weights with the intercept last)."""
    usable = [g for g in groups if 0 < g.y.sum() < len(g.y)]
    if pairwise:
        diffs, weights = [], []
        for g in usable:
            d = (g.x[g.y > 0][:, None, :] - g.x[g.y == 0][None, :, :]).reshape(-1, g.x.shape[1])
            diffs.append(d)
            weights.append(np.full(len(d), 1.0 / len(d)))
        x, weight, y = np.vstack(diffs), np.concatenate(weights), None
        mean = np.zeros(x.shape[1])
    else:
        x = np.vstack([g.x for g in usable])
        y = np.concatenate([g.y for g in usable])
        weight = np.concatenate([np.where(g.y > 0, 0.5 / g.y.sum(), 0.5 / (len(g.y) - g.y.sum())) for g in usable])
        mean = x.mean(0)
    scale = x.std(0)
    scale[scale < 1e-9] = 1.0
    z = (x - mean) / scale
    if not pairwise:
        z = np.c_[z, np.ones(len(z))]
    penalty = np.full(z.shape[1], l2)
    if not pairwise:
        penalty[-1] = 0.0
    target = np.ones(len(z)) if y is None else y
    w = newton_logistic(z, target, weight, penalty)
    return mean, scale, (np.r_[w, 0.0] if pairwise else w)


def hand_set(g: Group) -> np.ndarray:
    """The fallback's scores (kb.answer.score_sentences without a model)."""
    return hand_score({name: g.x[:, i] for i, name in enumerate(SENTENCE_FEATURES)})


def top_hits(groups: list[Group], model: Model | None) -> tuple[float, float]:
    """Share of questions whose best sentence is relevant, and whose best sentence's passage is."""
    s1 = p1 = 0
    for g in groups:
        if model is None:
            scores = hand_set(g)
        else:
            mean, scale, w = model
            scores = ((g.x - mean) / scale) @ w[:-1]
        best = int(np.argmax(scores))
        s1 += bool(g.y[best])
        p1 += bool(g.passage[best])
    n = len(groups) or 1
    return s1 / n, p1 / n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.fit_sentences", description=__doc__)
    parser.add_argument("--dry-run", action="store_true", help="print, do not update RESULTS.md")
    parser.add_argument("--fresh", action="store_true", help="collect the sentences again")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("kb").setLevel(logging.WARNING)
    if args.fresh:
        fresh("sentences")
    sets = question_sets("sentences", Group, collect, ranker=True)
    calibration, ncp_train = sets["users-calibration"], sets["ncp-train"]
    dev = {name: sets[name] for name in ("seed-dev", "ncp-dev")}
    lines = [
        "## The sentence scorer (`python -m evals.fit_sentences`)",
        "",
        f"Measured {date.today().isoformat()}. Fitted on NCP train ({len(ncp_train)} questions) and the users' "
        f"calibration half ({len(calibration)}); chosen on seed-dev ({len(dev['seed-dev'])}) and NCP dev "
        f"({len(dev['ncp-dev'])}). Figures: sentence hit@1 / passage hit@1 — the share of questions whose best-scored "
        "sentence, as quoted, holds the expected phrase (NCP: the answer, from the right document), and whose "
        "best sentence's passage does. Cross-validation: 5 folds by a fixed rule on the id.",
        "",
    ]
    rows: list[tuple[str, Callable]] = [("hand-set weights (fallback)", lambda _g: None)]
    for l2, pw in CHOICES:
        rows.append((f"{'pairwise' if pw else 'pointwise'}, L2 {l2:g}", lambda g, l2=l2, pw=pw: fit(g, l2, pw)))
    lines += compare(sets, rows, top_hits)
    lines += [
        "",
        "Not shipped: no fitted model beats the hand-set weights on both dev sets and the calibration half together "
        "(kb/answer.py keeps them). The hand-set weights include the similarity of the sentence's window "
        "(kb/windows.py, embedded at ingest) at kb.answer.WINDOW_WEIGHT, chosen on NCP dev among 0, 4, 6, 8 and 12 "
        "(evals/RESULTS.md, users' section, stop 21).",
    ]
    publish("sentences", lines, not args.dry_run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
