"""What the model-fitting scripts (fit_ranker, fit_sentences) share: the question sets they fit and choose on, the
cache of what was collected for them, and cross-validation by a fixed rule on the question id.

Fit on: NCP train.jsonl (asked of corpus/ + the NCP documents, evals/.data/distracted) and the users' calibration
half (corpus/). Choose on: seed-dev (corpus/) and NCP dev (distracted). The users' test half is never read here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import fields
from functools import partial
from typing import Any, TypeVar

import numpy as np

from kb.query import Query
from kb.service import KnowledgeBase

from .__main__ import DATA, HERE, ROOT, Question, build, load_ncp, load_seed
from .users import history_of, load

FOLDS = 5
G = TypeVar("G")
log = logging.getLogger("evals.training")
# collect(kb, questions, ncp, with_history) → one group per question
Collect = Callable[[KnowledgeBase, list, bool, bool], list]


def load_ncp_train() -> list[Question]:
    rows = [
        json.loads(line) for line in (HERE / "ncp" / "train.jsonl").read_text(encoding="utf-8").splitlines() if line
    ]
    return [Question(r["id"], r["question"], "answerable", [r["answer"]], r["docid"]) for r in rows]


def prepared(kb: KnowledgeBase, q, with_history: bool) -> tuple[Query, tuple[str, ...]]:  # type: ignore[no-untyped-def]
    """A question as the service asks it: rewritten with its earlier turns (asked first when `with_history`), and the
    documents of the previous answer a follow-up boosts."""
    history = history_of(kb, q) if with_history else []
    query = kb._rewrite(q.question, history)
    return query, tuple(history[-1].doc_ids) if history and query.rewritten else ()


def question_sets(folder: str, kind: type[G], collect: Collect, ranker: bool) -> dict[str, list[G]]:
    """users-calibration and ncp-train (to fit on), seed-dev and ncp-dev (to choose on), each collected once into
    evals/.data/<folder>/ (delete it, or pass --fresh, to collect again). `ranker`: retrieve with the learned ranker."""
    from .distractors import build_distracted

    product = KnowledgeBase(build("product", ROOT / "corpus", {}), ranker=ranker)
    distracted = KnowledgeBase(build_distracted()[0], ranker=ranker)
    plan: dict[str, tuple[KnowledgeBase, list, bool, bool]] = {
        "users-calibration": (product, load("calibration"), False, True),
        "ncp-train": (distracted, load_ncp_train(), True, False),
        "seed-dev": (product, load_seed(), False, False),
        "ncp-dev": (distracted, load_ncp(), True, False),
    }
    return {
        name: _cached(DATA / folder / f"{name}.npz", kind, [q.id for q in qs], partial(collect, kb, qs, *flags))
        for name, (kb, qs, *flags) in plan.items()
    }


def _cached(path, kind: type[G], asked: list[str], make: Callable[[], list[G]]) -> list[G]:  # type: ignore[no-untyped-def]
    """What was collected for the questions `asked`, from `path` unless the question set has changed since."""
    arrays = [f.name for f in fields(kind) if f.name != "id"]  # type: ignore[arg-type]
    if path.exists():
        data = np.load(path, allow_pickle=False)
        if "asked" in data and list(data["asked"]) == asked:
            b = data["bounds"]
            return [
                kind(str(i), *(data[a][s:e] for a in arrays))  # type: ignore[call-arg]
                for i, s, e in zip(data["ids"], b[:-1], b[1:], strict=True)
            ]
        log.info("%s was collected for another question set: collecting again", path.name)
    groups = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    stacked: dict[str, Any] = {a: np.concatenate([getattr(g, a) for g in groups]) for a in arrays}
    bounds = np.cumsum([0] + [len(getattr(g, arrays[0])) for g in groups])
    ids = np.array([g.id for g in groups])
    np.savez(path, ids=ids, bounds=bounds, asked=np.array(asked), **stacked)  # type: ignore[attr-defined]
    return groups


def cross_validated(held: list[G], others: list[G], make: Callable, score: Callable) -> tuple[float, ...]:
    """`score(part, model)` on each fold of `held`, the model made from `held`'s other folds and `others`; the
    figures weighted by fold size. Folds by a fixed rule on the id."""
    folds = np.array([sum(map(ord, g.id)) % FOLDS for g in held])  # type: ignore[attr-defined]
    total: np.ndarray | None = None
    for f in range(FOLDS):
        part = [g for g, k in zip(held, folds, strict=True) if k == f]
        rest = [g for g, k in zip(held, folds, strict=True) if k != f]
        figures = np.array(score(part, make(rest + others))) * len(part)
        total = figures if total is None else total + figures
    return tuple((total if total is not None else np.zeros(2)) / (len(held) or 1))


def pair(values: tuple[float, ...]) -> str:
    return " / ".join(f"{v:.3f}" for v in values)


def newton_logistic(z: np.ndarray, target: np.ndarray, weight: np.ndarray, penalty: np.ndarray) -> np.ndarray:
    """Weights of a weighted, L2-penalised logistic regression on design matrix `z` (Newton steps)."""
    w = np.zeros(z.shape[1])
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(z @ w)))
        grad = z.T @ (weight * (p - target)) + penalty * w
        hess = z.T @ (z * (weight * p * (1 - p))[:, None]) + np.diag(penalty)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def compare(
    sets: dict[str, list],
    rows: list[tuple[str, Callable]],
    score: Callable,
    results: dict | None = None,
    head: bool = True,
) -> list[str]:
    """A table: each (label, make) row with `score` cross-validated on the calibration half and on NCP train, and
    on the dev sets for the model made from both training sets (`make(groups)`; None for the baseline). `results`,
    when given, receives each row's figures by label: {"users-calibration": …, "ncp-train": …, "seed-dev": …, …};
    `head` off: the rows only, to continue a table already begun."""
    calibration, ncp_train = sets["users-calibration"], sets["ncp-train"]
    dev = {name: sets[name] for name in ("seed-dev", "ncp-dev")}
    titles = " | ".join(f"{name} (dev)" for name in dev)
    lines = [f"| model | users calibration (CV) | NCP train (CV) | {titles} |", "|---" * (len(dev) + 3) + "|"]
    if not head:
        lines = []
    for label, make in rows:
        cv_users = cross_validated(calibration, ncp_train, make, score)
        cv_ncp = cross_validated(ncp_train, calibration, make, score)
        model = make(calibration + ncp_train)
        on_dev = {name: tuple(score(g, model)) for name, g in dev.items()}
        if results is not None:
            results[label] = {"users-calibration": cv_users, "ncp-train": cv_ncp, **on_dev}
        figures = " | ".join(pair(v) for v in on_dev.values())
        lines.append(f"| {label} | {pair(cv_users)} | {pair(cv_ncp)} | {figures} |")
    return lines


def fresh(folder: str) -> None:
    """Forget what was collected for `folder` (the index or the features changed)."""
    for old in (DATA / folder).glob("*.npz"):
        old.unlink()
