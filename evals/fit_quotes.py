"""`python -m evals.fit_quotes`: how many sentences should an answer quote, and how much of the question must a
further one cover?

kb/answer.py quotes the best-scored sentence of the top passages and then further ones (up to MAX_QUOTES, each at
least NEXT_QUOTE_RATIO of the best score and NEXT_QUOTE_COVERAGE of the question). In users' own words a further
sentence rarely shares the question's words, so with a coverage floor most answers quoted one sentence, and the
clause asked about was often the second best. The grid is scored on the training sets (the users' calibration half
on corpus/, NCP train on corpus/ + the NCP documents) and chosen on the dev sets (seed-dev, NCP dev); the users'
test half is never read. Figures: the share of answerable questions whose answer holds an expected phrase (NCP: the
whole answer; "20 chars": 20 consecutive characters of it), and the mean answer length in characters.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from datetime import date

import kb.answer as answer_mod
from kb.service import KnowledgeBase

from .__main__ import ROOT, build, load_ncp, load_seed, publish
from .distractors import build_distracted
from .score import contains_answer, contains_phrase
from .training import load_ncp_train
from .users import ask, load

GRID = ((2, 0.3), (2, 0.15), (2, 0.0), (3, 0.3), (3, 0.15), (3, 0.0))  # (MAX_QUOTES, NEXT_QUOTE_COVERAGE)
log = logging.getLogger("evals.fit_quotes")


def scored(answers: Callable[[], list[tuple[str, list[str]]]], whole: bool) -> tuple[float, float, float]:
    """(phrase share, 20-character share, mean length) over (answer text, expected phrases) pairs."""
    pairs = answers()
    n = len(pairs) or 1
    phrase = sum(contains_phrase(text, expect) for text, expect in pairs) / n
    part = sum(contains_answer(text, expect[0]) for text, expect in pairs) / n if whole else phrase
    return phrase, part, sum(len(text) for text, _ in pairs) / n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.fit_quotes", description=__doc__)
    parser.add_argument("--no-write", action="store_true", help="print, do not update RESULTS.md")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    product = KnowledgeBase(build("product", ROOT / "corpus", {}))
    distracted = KnowledgeBase(build_distracted()[0])
    calibration = [q for q in load("calibration") if q.kind == "answerable"]
    seed = [q for q in load_seed() if q.kind == "answerable"]
    ncp_train, ncp_dev = load_ncp_train(), load_ncp()

    def plain(kb: KnowledgeBase, questions: list) -> Callable[[], list[tuple[str, list[str]]]]:  # type: ignore[type-arg]
        return lambda: [(kb.ask(q.question, k=10, log_unanswered=False).text, q.expect) for q in questions]

    sets = {
        "users calibration (fit)": (lambda: [(ask(product, q).text, q.expect) for q in calibration], False),
        "NCP train (fit)": (plain(distracted, ncp_train), True),
        "seed-dev (choose)": (plain(product, seed), False),
        "NCP dev (choose)": (plain(distracted, ncp_dev), True),
    }
    shipped = (answer_mod.MAX_QUOTES, answer_mod.NEXT_QUOTE_COVERAGE)
    lines = [
        "## How much the answer quotes (`python -m evals.fit_quotes`)",
        "",
        f"Measured {date.today().isoformat()}. Share of answerable questions whose answer holds an expected phrase "
        "(NCP: the whole answer / 20 consecutive characters of it), and mean answer length. Fit: the users' "
        "calibration half and NCP train; choose: seed-dev and NCP dev; the test half is not read.",
        "",
        "| quotes at most | further quote covers ≥ | " + " | ".join(sets) + " |",
        "|---|---|" + "---|" * len(sets),
    ]
    try:
        for quotes, coverage in GRID:
            answer_mod.MAX_QUOTES, answer_mod.NEXT_QUOTE_COVERAGE = quotes, coverage
            cells = []
            for name, (make, whole) in sets.items():
                phrase, part, length = scored(make, whole)
                cells.append(
                    f"{phrase:.3f} / {part:.3f}, {length:.0f} chars" if whole else f"{phrase:.3f}, {length:.0f} chars"
                )
                log.info("%d quotes, coverage %.2f, %s: %s", quotes, coverage, name, cells[-1])
            mark = " (shipped)" if (quotes, coverage) == shipped else ""
            lines.append(f"| {quotes}{mark} | {coverage:.2f} | " + " | ".join(cells) + " |")
    finally:
        answer_mod.MAX_QUOTES, answer_mod.NEXT_QUOTE_COVERAGE = shipped
    lines += [
        "",
        "Chosen: the most quotes and the lowest coverage floor, best on both fitting sets and on NCP dev (seed-dev "
        "is the same for all); the answer grows by about one sentence.",
    ]
    publish("quotes", lines, not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
