"""Support-measure cards against the hand-checked expected file (evals/cards-expected.jsonl).

Expected cards name their document by 文号 and their paragraph by an `anchor` (words it contains). An extracted card
matches the expected card whose anchor its paragraph contains. Per field, values are compared as sets: who, kinds,
amounts, ratios, window and departments exactly (amounts and ratios by number and unit,
「最高不超过15万元」→「15万元」); conditions when one contains the other. Values of extracted cards that match no
expected card count as false positives, values of expected cards no extracted card matches as misses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from kb.cards import Card
from kb.eligibility import MET, Match
from kb.service import KnowledgeBase

HERE = Path(__file__).resolve().parent
EXPECTED = HERE / "cards-expected.jsonl"
SCORED = ("who", "kinds", "amounts", "ratios", "conditions", "window", "departments")
TARGETS = ("amounts", "ratios", "who")  # the target: precision ≥ 0.9 on these


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


def load_expected(path: Path = EXPECTED) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _same(name: str, a: str, b: str) -> bool:
    return (a in b or b in a) if name == "conditions" else a == b


def _compare(name: str, expected: list[str], got: list[str], counts: Counts, where: str) -> None:
    unmatched = list(dict.fromkeys(got))
    for value in dict.fromkeys(expected):
        hit = next((g for g in unmatched if _same(name, value, g)), None)
        if hit is None:
            counts.fn += 1
            counts.errors.append(f"{where}: missed {value}")
        else:
            counts.tp += 1
            unmatched.remove(hit)
    counts.fp += len(unmatched)
    counts.errors += [f"{where}: extra {g}" for g in unmatched]


def score(kb: KnowledgeBase, expected: list[dict]) -> dict:
    """Card-level and per-field precision / recall over the documents the expected file covers."""
    by_no = {d["meta"]["doc_no"]: doc_id for doc_id, d in kb.retriever.manifest.docs.items() if d["meta"]["doc_no"]}
    # The whole corpus the file covers: a card in a document the file lists no measure for is a wrong card.
    cards = list(kb.retriever.cards)
    texts = {c.id: kb.card_text(c) for c in cards}
    pairs: list[tuple[dict, Card]] = []
    unmatched_cards = list(cards)
    missed: list[dict] = []
    for e in expected:
        doc_id = by_no.get(e["doc_no"])
        card = next((c for c in unmatched_cards if c.doc_id == doc_id and e["anchor"] in texts[c.id]), None)
        if card is None:
            missed.append(e)
        else:
            pairs.append((e, card))
            unmatched_cards.remove(card)
    fields = {name: Counts() for name in SCORED}
    for name in SCORED:
        for e, card in pairs:
            _compare(name, e[name], card.values(name), fields[name], f"{card.id} {card.name}")
        for card in unmatched_cards:  # a paragraph that is no measure: everything on it is wrong
            _compare(name, [], card.values(name), fields[name], f"{card.id} {card.name} (no measure)")
        for e in missed:
            _compare(name, e[name], [], fields[name], f"{e['doc_no']} {e['anchor']} (not found)")
    measures = Counts(tp=len(pairs), fp=len(unmatched_cards), fn=len(missed))
    measures.errors = [f"extra card {c.id} {c.name}" for c in unmatched_cards] + [
        f"missed measure {e['doc_no']} {e['anchor']}" for e in missed
    ]
    return {"measures": measures, "fields": fields, "cards": len(cards), "expected": len(expected)}


def fmt(x: float | None) -> str:
    return "—" if x is None else f"{x:.3f}"


def report(result: dict) -> list[str]:
    m: Counts = result["measures"]
    lines = [
        "| field | precision | recall | correct | wrong | missed |",
        "|---|---|---|---|---|---|",
        f"| measures (cards) | {fmt(m.precision)} | {fmt(m.recall)} | {m.tp} | {m.fp} | {m.fn} |",
    ]
    for name, c in result["fields"].items():
        mark = " ◀ target ≥ 0.9 precision" if name in TARGETS else ""
        lines.append(f"| {name}{mark} | {fmt(c.precision)} | {fmt(c.recall)} | {c.tp} | {c.fp} | {c.fn} |")
    return lines


def errors(result: dict) -> list[str]:
    out = list(result["measures"].errors)
    for c in result["fields"].values():
        out += c.errors
    return out


ELIGIBILITY = HERE / "eligibility-expected.jsonl"
ELIGIBILITY_HELDOUT = HERE / "eligibility-heldout.jsonl"


def _places(listed: list[tuple[str, str, Match]], no: str, anchor: str) -> list[int]:
    """Where in the list the measure of document `no` whose paragraph holds `anchor` stands (0-based)."""
    return [i for i, (d, text, _m) in enumerate(listed) if no == d and anchor in text]


def score_eligibility(kb: KnowledgeBase, path: Path = ELIGIBILITY) -> list[str]:
    """我能申请吗 on hand-judged situations: measures that must be listed, measures that must not be, measures that
    must lead the list (`first`: all of them within the first len(first) places), and measures whose plan or window
    has ended (`stale`: if listed, never marked ✓ 有效性)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    lines = [
        "| situation | listed | must list: found | must not list: listed anyway | must lead: in the first places "
        "| ended, yet ✓ 有效性 |",
        "|---|---|---|---|---|---|",
    ]
    found = wanted = wrong = leading = leads = stale = 0
    for row in rows:
        answer = kb.ask(row["question"], log_unanswered=False)
        listed = [(m.card.doc_no, kb.card_text(m.card), m) for m in answer.matches]
        at = partial(_places, listed)
        hits = sum(bool(at(no, a)) for no, a in row["include"])
        bad = [f"{no} {a}".strip() for no, a in row["exclude"] if at(no, a)]
        first = row.get("first", [])
        ahead = sum(any(i < len(first) for i in at(no, a)) for no, a in first)
        current = [
            f"{no} {a}"
            for no, a in row.get("stale", [])
            for i in at(no, a)
            if any(c.label == "有效性" and c.state == MET for c in listed[i][2].conditions)
        ]
        found, wanted, wrong = found + hits, wanted + len(row["include"]), wrong + len(bad)
        leading, leads, stale = leading + ahead, leads + len(first), stale + len(current)
        lines.append(
            f"| {row['question']} | {len(listed)} | {hits}/{len(row['include'])} | {'、'.join(bad) or '0'} "
            f"| {f'{ahead}/{len(first)}' if first else '—'} | {'、'.join(current) or '0'} |"
        )
    lines += [
        "",
        f"{len(rows)} situations. Must-list measures found: {found}/{wanted}; must-not-list measures listed: {wrong}; "
        f"must-lead measures in the first places: {leading}/{leads}; ended measures marked ✓ 有效性: {stale}.",
    ]
    return lines
