"""`python -m evals.topic_switch`: two-turn dialogues whose second turn points with 这个 / 那个 / 该 …

The dialogues (evals/topic-switch.jsonl) were written by a helper (an AI) after the rule they measure (kb/query.py
may_stand_alone, kb/service.py) was in place and before it was run on them; nothing was changed to fit them.

`switch`: the second turn is a new question on another document that points at its own subject (「国家这个人工智能+
行动是分几步走的…？」 after a question on loans); `follow`: it points back and cannot be answered alone (「该政策对
小微企业也适用吗？」). Each is asked as the users' evaluation asks a dialogue (the first turn answered with 10
passages, its cited documents carried), on corpus/. Scored on the second turn: hit@1 / hit@5 of a passage holding
the expected phrase, answered confidently (answered with it among the first five), the phrase in the answer's text.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import date
from pathlib import Path

from kb.query import Turn
from kb.service import KnowledgeBase

from .__main__ import ROOT, build, publish
from .score import contains_phrase

DIALOGUES = Path(__file__).with_name("topic-switch.jsonl")


def evaluate(kb: KnowledgeBase, dialogues: list[dict]) -> dict[str, dict[str, float]]:
    """Per kind: n, hit@1, hit@5, confident, phrase over the second turns."""
    scores: dict[str, list[tuple[int | None, str, bool]]] = {}
    for d in dialogues:
        first = kb.ask(d["turns"][0], k=10, log_unanswered=False)
        history = [Turn(d["turns"][0], first.text, list(dict.fromkeys(h.chunk.doc_id for h in first.citations)))]
        answer = kb.ask(d["turns"][1], history=history, k=10, log_unanswered=False)
        rank = next(
            (i for i, h in enumerate(answer.citations[:10], 1) if contains_phrase(h.chunk.text, d["expect"])), None
        )
        scores.setdefault(d["kind"], []).append((rank, answer.status, contains_phrase(answer.text, d["expect"])))
    out = {}
    for kind, rows in scores.items():
        n = len(rows)
        out[kind] = {
            "n": n,
            "hit1": sum(r == 1 for r, _s, _p in rows) / n,
            "hit5": sum(r is not None and r <= 5 for r, _s, _p in rows) / n,
            "confident": sum(s == "answered" and r is not None and r <= 5 for r, s, _p in rows) / n,
            "phrase": sum(p for _r, _s, p in rows) / n,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.topic_switch", description=__doc__)
    parser.add_argument("--no-write", action="store_true", help="print, do not update RESULTS.md")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("kb").setLevel(logging.WARNING)
    kb = KnowledgeBase(build("product", ROOT / "corpus", {}))
    dialogues = [json.loads(line) for line in DIALOGUES.read_text(encoding="utf-8").splitlines() if line.strip()]
    results = evaluate(kb, dialogues)
    lines = [
        "## Topic switches and follow-ups that point (`python -m evals.topic_switch`)",
        "",
        f"Measured {date.today().isoformat()} on corpus/, evals/topic-switch.jsonl (second turns scored).",
        "",
        "| kind | n | hit@1 | hit@5 | answered confidently | expected phrase in the answer |",
        "|---|---|---|---|---|---|",
    ]
    for kind, r in results.items():
        lines.append(
            f"| {kind} | {r['n']:.0f} | {r['hit1']:.3f} | {r['hit5']:.3f} | {r['confident']:.3f} | {r['phrase']:.3f} |"
        )
    publish("topic-switch", lines, not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
