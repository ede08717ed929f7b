"""`python -m evals`: score seed-dev and NCP-dev (hybrid, BM25-only, dense-only), latency per stage, and the
support-measure cards against their hand-checked expected file → RESULTS.md."""

from __future__ import annotations

import argparse
import json
import logging
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from kb import Settings, ingest
from kb.query import rewrite
from kb.retrieve import Weights
from kb.service import KnowledgeBase
from kb.types import Answer, Chunk, Hit

from . import cards as cards_eval
from . import cards_heldout
from .score import Row, Summary, contains_answer, contains_phrase, percentile, summarise

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / ".data"
RESULTS = HERE / "RESULTS.md"
log = logging.getLogger("evals")


@dataclass
class Question:
    id: str
    question: str
    kind: str
    expect: list[str]
    doc: str | None  # the 文号 (seed) or docid (NCP) that must hold the answer


def load_seed() -> list[Question]:
    rows = [json.loads(line) for line in (HERE / "seed-dev.jsonl").read_text(encoding="utf-8").splitlines() if line]
    return [Question(r["id"], r["question"], r["kind"], r["expect"], r.get("doc")) for r in rows]


def load_ncp() -> list[Question]:
    rows = [json.loads(line) for line in (HERE / "ncp" / "dev.jsonl").read_text(encoding="utf-8").splitlines() if line]
    return [Question(r["id"], r["question"], "answerable", [r["answer"]], r["docid"]) for r in rows]


def build(name: str, source: Path, settings_overrides: dict) -> Settings:
    """Ingest `source` into evals/.data/<name> (incremental: a no-op when nothing changed)."""
    settings = Settings.from_env(data_dir=DATA / name, **settings_overrides)
    t0 = time.perf_counter()
    report = ingest([source], settings)
    log.info(
        "%s: %d added, %d unchanged, %.1f s", name, len(report.added), len(report.unchanged), time.perf_counter() - t0
    )
    return settings


def seed_hit(hit: Hit, q: Question, sources: dict[str, list[str]]) -> bool:
    return contains_phrase(hit.chunk.text, q.expect)


def ncp_hit(hit: Hit, q: Question, sources: dict[str, list[str]]) -> bool:
    """The passage comes from the right document — itself, or as a near-duplicate folded into it (`Hit.also`,
    shown to users as 亦见于) — and holds the answer."""
    return any(
        of_document(chunk, q, sources) and contains_answer(chunk.text, q.expect[0]) for chunk in (hit.chunk, *hit.also)
    )


def of_document(chunk: Chunk, q: Question, sources: dict[str, list[str]]) -> bool:
    """Whether `chunk` comes from the NCP question's document (NCP names documents by their file's stem)."""
    return q.doc in {Path(s).stem for s in sources.get(chunk.doc_id, [chunk.meta.source])}


def first_hit(hits: list[Hit], q: Question, is_hit: Callable, sources: dict[str, list[str]], k: int = 10) -> int | None:
    for rank, hit in enumerate(hits[:k], start=1):
        if is_hit(hit, q, sources):
            return rank
    return None


def run_system(kb: KnowledgeBase, questions: list[Question], is_hit: Callable) -> tuple[list[Row], list[Answer]]:
    sources = {doc_id: d["sources"] for doc_id, d in kb.retriever.manifest.docs.items()}
    rows, answers = [], []
    for q in questions:
        answer = kb.ask(q.question, k=10, log_unanswered=False)
        answers.append(answer)
        cited = answer.citations
        rows.append(
            Row(
                id=q.id,
                question=q.question,
                kind=q.kind,
                refused=answer.refused,
                first_hit=None if answer.refused else first_hit(cited, q, is_hit, sources),
                answer_has_phrase=contains_phrase(answer.text, q.expect) if q.expect else False,
                cited_chars=[len(h.chunk.text) for h in cited[:5]],
                total_ms=answer.timings_ms.get("total", 0.0),
                note=answer.note,
            )
        )
    return rows, answers


def run_baseline(
    kb: KnowledgeBase, questions: list[Question], is_hit: Callable, weights: Weights, ranked: bool = False
) -> Summary:
    """Retrieval ranking alone (no answer step, no refusal) with one signal switched off; the learned ranker only
    when `ranked`."""
    sources = {doc_id: d["sources"] for doc_id, d in kb.retriever.manifest.docs.items()}
    saved, saved_ranker = kb.retriever.weights, kb.retriever.ranker
    kb.retriever.weights = weights
    kb.retriever.ranker = saved_ranker if ranked else None
    try:
        rows = []
        for q in questions:
            if q.kind != "answerable":
                continue
            hits = kb.retriever.retrieve(rewrite(q.question), k=10).hits
            rows.append(
                Row(
                    q.id,
                    q.question,
                    q.kind,
                    False,
                    first_hit(hits, q, is_hit, sources),
                    False,
                    [len(h.chunk.text) for h in hits[:5]],
                )
            )
        return summarise(rows)
    finally:
        kb.retriever.weights, kb.retriever.ranker = saved, saved_ranker


def latency(kb: KnowledgeBase, questions: list[Question]) -> dict[str, dict[str, float]]:
    """Warm per-stage latency of the extractive path, and the query-embedding floor alone."""
    kb.ask(questions[0].question, log_unanswered=False)
    stages: dict[str, list[float]] = {"embed": [], "retrieve": [], "answer": [], "total": []}
    floor = []
    for q in questions:
        answer = kb.ask(q.question, log_unanswered=False)
        for stage in stages:
            stages[stage].append(answer.timings_ms.get(stage, 0.0))
        t0 = time.perf_counter()
        kb.retriever.embedder.embed_query(q.question)
        floor.append((time.perf_counter() - t0) * 1000)
    stages["query embedding alone"] = floor
    return {
        s: {"p50": percentile(v, 50), "p95": percentile(v, 95), "mean": statistics.fmean(v)} for s, v in stages.items()
    }


def fmt(x: float | None) -> str:
    return "—" if x is None else f"{x:.3f}"


def summary_table(rows: list[tuple[str, Summary]], with_refusal: bool) -> list[str]:
    head = "| system | n | hit@1 | hit@5 | MRR@10 | phrase in answer | mean cited chars |"
    sep = "|---|---|---|---|---|---|---|"
    if with_refusal:
        head += " unanswerable refused | false refusals |"
        sep += "---|---|"
    out = [head, sep]
    for name, s in rows:
        cells = [name, s.n, fmt(s.hit1), fmt(s.hit5), fmt(s.mrr10), fmt(s.answer_phrase), f"{s.mean_cited_chars:.0f}"]
        line = "| " + " | ".join(str(c) for c in cells) + " |"
        if with_refusal:
            line += f" {fmt(s.refused_unanswerable)} | {fmt(s.false_refusals)} |"
        out.append(line)
    return out


def per_question(rows: list[Row]) -> list[str]:
    out = [
        "| id | kind | question | refused | first correct citation | phrase in answer | ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        rank = "—" if r.first_hit is None else str(r.first_hit)
        phrase = "yes" if r.answer_has_phrase else ("—" if r.kind != "answerable" else "no")
        refused = "yes" if r.refused else "no"
        out.append(f"| {r.id} | {r.kind} | {r.question} | {refused} | {rank} | {phrase} | {r.total_ms:.0f} |")
    return out


def latency_table(lat: dict[str, dict[str, float]]) -> list[str]:
    out = ["| stage | p50 ms | p95 ms | mean ms |", "|---|---|---|---|"]
    out += [f"| {stage} | {v['p50']:.1f} | {v['p95']:.1f} | {v['mean']:.1f} |" for stage, v in lat.items()]
    return out


def evaluate(name: str, settings: Settings, questions: list[Question], is_hit: Callable, lines: list[str]) -> dict:
    kb = KnowledgeBase(settings)
    kb.retriever.warm_up()
    rows, _answers = run_system(kb, questions, is_hit)
    system = summarise(rows)
    bm25 = run_baseline(kb, questions, is_hit, Weights(dense=0.0, lexical=1.0))
    dense = run_baseline(kb, questions, is_hit, Weights(dense=1.0, lexical=0.0))
    fused = run_baseline(kb, questions, is_hit, kb.retriever.weights)
    ranked = run_baseline(kb, questions, is_hit, kb.retriever.weights, ranked=True)
    lat = latency(kb, [q for q in questions])
    with_refusal = any(q.kind == "unanswerable" for q in questions)
    lines += [f"### {name}", ""]
    lines += summary_table(
        [
            ("answers (hybrid + extractive, as shipped)", system),
            (f"hybrid retrieval, {kb.settings.ranker} order, no answer step", ranked),
            ("hybrid retrieval, fused order (no learned ranker), no answer step", fused),
            ("BM25 only (retrieval ranking)", bm25),
            ("dense only (retrieval ranking)", dense),
        ],
        with_refusal,
    )
    lines += ["", f"Latency, warm, extractive path, {len(questions)} questions:", "", *latency_table(lat), ""]
    lines += ["<details><summary>Per question</summary>", "", *per_question(rows), "", "</details>", ""]
    kb.retriever.close()
    return {"system": system, "bm25": bm25, "dense": dense, "fused": fused, "latency": lat, "rows": rows}


def evaluate_cards(settings: Settings) -> list[str]:
    """Cards of corpus/ against evals/cards-expected.jsonl, plus the held-out checks' verdict files."""
    kb = KnowledgeBase(settings)
    result = cards_eval.score(kb, cards_eval.load_expected())
    lines = [
        "## Support-measure cards (`python -m evals`, cards part)",
        "",
        f"Measured {date.today().isoformat()}: {result['cards']} cards read from corpus/ against "
        f"{result['expected']} hand-labelled measures in evals/cards-expected.jsonl (how it was labelled: "
        "evals/README-cards.md). Values compared as sets per measure; amounts and ratios by number and unit.",
        "",
        *cards_eval.report(result),
        "",
        "<details><summary>Every disagreement</summary>",
        "",
        *[f"- {e}" for e in cards_eval.errors(result)],
        "",
        "</details>",
        "",
    ]
    lines += [
        "我能申请吗 on hand-judged situations (evals/eligibility-expected.jsonl: measures a reader finds open to the",
        "person, and measures clearly not for them):",
        "",
        *cards_eval.score_eligibility(kb),
        "",
        "The same, on situations written after the ranking rules were (evals/eligibility-heldout.jsonl; nothing was",
        "changed to fit them):",
        "",
        *cards_eval.score_eligibility(kb, cards_eval.ELIGIBILITY_HELDOUT),
        "",
    ]
    for path in sorted(HERE.glob("cards-heldout-*.jsonl")):
        rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
        lines += [f"Held-out check `{path.name}` (NCP cards judged by reading):", "", "```"]
        lines += [*cards_heldout.report(rows).splitlines(), "```", ""]
    kb.retriever.close()
    return lines


def publish(marker: str, lines: list[str], write: bool = True) -> None:
    """Print a benchmark's report and (unless `write` is off, as with --no-write) put it into RESULTS.md."""
    sys.stdout.write("\n".join(lines) + "\n")
    if write:
        write_section(marker, lines)


def write_section(marker: str, body: list[str]) -> None:
    """Replace the block between <!-- marker:start --> and <!-- marker:end --> in RESULTS.md (append if absent)."""
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    text = (
        RESULTS.read_text(encoding="utf-8")
        if RESULTS.exists()
        else "# Results\n\nEvery figure here was measured by the scripts named in each section.\n"
    )
    block = "\n".join([start, *body, end])
    if start in text and end in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals", description=__doc__)
    parser.add_argument("--skip-ncp", action="store_true", help="only the product corpus (seed-dev)")
    parser.add_argument("--no-write", action="store_true", help="print, do not update RESULTS.md")
    parser.add_argument("--cards-only", action="store_true", help="only the support-measure cards")
    parser.add_argument(
        "--ncp-distracted",
        action="store_true",
        help="ask NCP-dev of corpus/ + NCP docs (evals/.data/distracted, `python -m evals.distractors`), not NCP alone",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings_product = build("product", ROOT / "corpus", {})
    card_lines = evaluate_cards(settings_product)
    publish("cards", card_lines, not args.no_write)
    if args.cards_only:
        return 0
    lines = [
        "## Answer quality and latency (`python -m evals`)",
        "",
        f"Measured {date.today().isoformat()} on {platform.machine()} ({_cpus()} cores), embedder "
        f"{settings_product.embed_model}, chunk size {settings_product.chunk_size}, "
        f"overlap {settings_product.chunk_overlap}.",
        "A hit: one of the first k cited passages contains an expected phrase (seed-dev), or comes from the right "
        "document and contains the answer or 20 consecutive characters of it (NCP), compared without punctuation "
        "and white space.",
        "",
    ]
    results = {"seed-dev": evaluate("seed-dev (product corpus)", settings_product, load_seed(), seed_hit, lines)}
    if not args.skip_ncp:
        if args.ncp_distracted:
            from .distractors import build_distracted

            settings_ncp, label = build_distracted()[0], "ncp-dev (corpus/ + the NCP documents)"
        else:
            settings_ncp, label = build("ncp", HERE / "ncp" / "docs", {}), "ncp-dev (599 NCP documents)"
        results["ncp-dev"] = evaluate(label, settings_ncp, load_ncp(), ncp_hit, lines)
    publish("evals", lines, not args.no_write)
    return 0


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    sys.exit(main())
