"""`python -m evals.ncp_answers`: NCP train and dev answered as shipped, with why each miss missed.

Asked of corpus/ plus the NCP documents (evals/.data/distracted, `python -m evals.distractors` builds it). Scored as
`python -m evals` scores NCP (the right document — or a near-duplicate folded into a citation, shown as 亦见于 —
holding the answer). NCP train is what the ranker was fitted on, so its figures are not held out; dev is.

Each miss is put in one class: refused; the right document cited in the first five but no cited passage of it
holds the answer (the window missed the answering sentence); the right document cited only below the fifth place;
the right document not cited at all. Answer-span coverage: of the questions whose right document is among the first
five citations, the share where one of those citations holds the answer (issue 11, item 4).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections import Counter
from datetime import date

import numpy as np

from kb.service import KnowledgeBase
from kb.types import Answer, Hit

from .__main__ import Question, first_hit, load_ncp, ncp_hit, of_document, publish
from .training import load_ncp_train

CLASSES = ("hit", "refused", "right document, passage without the answer", "right document below 5th", "wrong document")


def classify(answer: Answer, q: Question, sources: dict[str, list[str]]) -> tuple[str, int | None]:
    """The question's class (CLASSES) and the rank of its first correct citation."""
    rank = first_hit(answer.citations, q, ncp_hit, sources)
    if rank is not None and rank <= 5:
        return "hit", rank
    if answer.status == "refused":
        return "refused", rank

    def right(hit: Hit) -> bool:
        return any(of_document(c, q, sources) for c in (hit.chunk, *hit.also))

    if any(right(h) for h in answer.citations[:5]):
        return "right document, passage without the answer", rank
    if any(right(h) for h in answer.citations):
        return "right document below 5th", rank
    return "wrong document", rank


def evaluate(kb: KnowledgeBase, questions: list[Question]) -> dict:
    sources = {d: v["sources"] for d, v in kb.retriever.manifest.docs.items()}
    classes: Counter[str] = Counter()
    ranks, ms = [], []
    for q in questions:
        t0 = time.perf_counter()
        answer = kb.ask(q.question, k=10, log_unanswered=False)
        ms.append((time.perf_counter() - t0) * 1000)
        kind, rank = classify(answer, q, sources)
        classes[kind] += 1
        ranks.append(rank)
    n = len(questions) or 1
    right_in_5 = classes["hit"] + classes["right document, passage without the answer"]
    return {
        "n": len(questions),
        "hit1": sum(r == 1 for r in ranks) / n,
        "hit5": sum(r is not None and r <= 5 for r in ranks) / n,
        "mrr10": sum(1 / r for r in ranks if r is not None and r <= 10) / n,
        "classes": classes,
        "span": classes["hit"] / right_in_5 if right_in_5 else 0.0,
        "p50": float(np.percentile(ms, 50)) if ms else 0.0,
        "p95": float(np.percentile(ms, 95)) if ms else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.ncp_answers", description=__doc__)
    parser.add_argument("--no-write", action="store_true", help="print, do not update RESULTS.md")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("kb").setLevel(logging.WARNING)
    from .distractors import build_distracted

    kb = KnowledgeBase(build_distracted()[0])
    kb.retriever.warm_up()
    results = {"dev": evaluate(kb, load_ncp()), "train (the ranker's fitting set)": evaluate(kb, load_ncp_train())}
    lines = [
        "## NCP answered as shipped, and why the misses missed (`python -m evals.ncp_answers`)",
        "",
        f"Measured {date.today().isoformat()} on corpus/ + the NCP documents. hit@k / MRR@10 of the answer's "
        "citations (near-duplicates folded into a citation count); answer-span coverage: of the questions whose "
        "right document is among the first five citations, the share where one of them holds the answer.",
        "",
        "| set | n | hit@1 | hit@5 | MRR@10 | answer-span coverage | p50 / p95 ms | "
        + " | ".join(c for c in CLASSES if c != "hit")
        + " |",
        "|---" * (7 + len(CLASSES) - 1) + "|",
    ]
    for name, r in results.items():
        misses = " | ".join(str(r["classes"][c]) for c in CLASSES if c != "hit")
        lines.append(
            f"| {name} | {r['n']} | {r['hit1']:.3f} | {r['hit5']:.3f} | {r['mrr10']:.3f} | {r['span']:.3f} | "
            f"{r['p50']:.0f} / {r['p95']:.0f} | {misses} |"
        )
    publish("ncp-answers", lines, not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
