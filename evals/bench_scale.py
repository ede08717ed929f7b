"""`python -m evals.bench_scale`: ingest time and query latency of the NCP corpus at 1× to 16× its size.

The larger corpora are the 589 stored NCP documents plus copies of them. Ingest stores a document once when its
normalised text or its 文号 is already stored, so copy k of a file carries a marker (`评测副本kk`) or, when the file
has a 文号, that 文号 with k appended to its number. The marker goes where it changes the fewest characters of the
document's chunks (chosen per file by running the real load → clean → metadata → split steps on it), because ingest
keeps the vector of any chunk whose text it has seen before: a copy re-embeds only the chunk with the marker.

Sizes grow one index, as a knowledge base grows: a copy of evals/.data/ncp is brought up to date with
evals/ncp/docs (1×), then the copies for each next size are added; a size whose ingest would take longer than
`--max-step-min` at the last step's pace is not run, and the section says so. Each ingest runs in a child process,
timed per step, with the time spent in the store's main operations; the NCP dev questions are then asked in a fresh
child process (as the web app would after a restart).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NCP_DOCS = HERE / "ncp" / "docs"
NCP_INDEX = HERE / ".data" / "ncp"
MARK = "评测副本{:02d}"
WHERE = (
    "after first line", "end, new line", "end of last line", "after first sentence", "after last sentence",
    "after word 1", "after word 2", "after word 3", "after word -2", "after word -3",
)  # fmt: skip
# Store operations timed inside the ingest child (class, method); a missing one is skipped.
TIMED = [
    ("kb.store", "Store", "commit"),
    ("kb.store", "Store", "add_chunks"),
    ("kb.store", "Store", "vectors_for"),
    ("kb.store", "Store", "delete_versions"),
    ("kb.lexical", "LexicalIndex", "add"),
    ("kb.lexical", "LexicalIndex", "remove_doc"),
]

log = logging.getLogger("bench_scale")


# --- copies --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Recipe:
    """How copy k of one source file is made, and what a copy changes in its chunks."""

    path: Path
    where: str  # "文号" or one of WHERE
    doc_no: str
    changed_chunks: int
    changed_chars: int


def copy_text(raw: str, where: str, doc_no: str, k: int) -> str:
    mark = MARK.format(k)
    lines = raw.split("\n")
    if where.startswith("文号"):  # "文号", "文号 2": its first, its second occurrence
        m = re.fullmatch(r"(.+)〔(\d{4})〕(\d+)号", doc_no)
        assert m is not None
        prefix, year, number = m.groups()
        written = re.compile(rf"{re.escape(prefix)}\s*\W\s*{year}\s*\W\s*{number}(?=\s*号)")  # any brackets
        occurrences = list(written.finditer(raw))[int(where[2:] or 1) - 1 :]
        if not occurrences:
            raise ValueError(f"{doc_no} is not written out in the file so often")
        end = occurrences[0].end()
        return raw[:end] + f"{k:02d}" + raw[end:]
    if where == "after first line":
        first = next(i for i, line in enumerate(lines) if line.strip())
        return "\n".join([*lines[: first + 1], mark, *lines[first + 1 :]])
    body = raw.rstrip()
    tail = raw[len(body) :]  # a file without a line break must stay so: its text would be read another way
    if where == "end, new line":
        return body + "\n" + mark + tail
    if where == "end of last line":
        return body + mark + "。" + tail
    if where.startswith("after word"):  # words: what white space separates, in a file of one line or many
        gaps = list(re.finditer(r"\s+", body))
        n = int(where.rsplit(" ", 1)[1])
        if not -len(gaps) <= (n - 1 if n > 0 else n) < len(gaps):
            raise ValueError("too few words")
        gap = gaps[n - 1 if n > 0 else n]
        return raw[: gap.end()] + mark + gap.group() + raw[gap.end() :]
    ends = [i + 1 for i, ch in enumerate(body) if ch == "。"]
    if where == "after first sentence" and ends:
        return raw[: ends[0]] + mark + "。" + raw[ends[0] :]
    if where == "after last sentence" and ends:
        return raw[: ends[-1]] + mark + "。" + raw[ends[-1] :]
    raise ValueError(where)


def _analyse(path: Path, size: int, overlap: int) -> tuple[str, set[str], str, str, str]:
    """(doc_id, chunk text hashes, title, fingerprint, 文号) as ingest would see the file."""
    from kb import clean, load, meta, split

    doc = clean.clean(load.load(path))
    info = meta.extract(doc)
    chunks = split.split(doc, info, size, overlap)
    return info.doc_id, {c.text_hash() for c in chunks}, info.title, meta.text_fingerprint(doc.text), info.doc_no


def plan_copies(files: list[Path], scratch: Path) -> list[Recipe]:
    """Per file, the copy method that changes the fewest chunk characters and still gives a new document."""
    from kb import Settings, clean, load, meta, split

    settings = Settings.from_env()
    originals = {f: _analyse(f, settings.chunk_size, settings.chunk_overlap) for f in files}
    taken = {doc_id for doc_id, *_ in originals.values()}
    scratch.mkdir(parents=True, exist_ok=True)
    recipes = []
    for f in files:
        _doc_id, hashes, title, fingerprint, doc_no = originals[f]
        raw = f.read_text(encoding="utf-8")
        best: Recipe | None = None
        for where in ("文号", "文号 2", "文号 3", *WHERE) if doc_no else WHERE:
            try:
                text = copy_text(raw, where, doc_no, 1)
            except ValueError:
                continue
            trial = scratch / f.name
            trial.write_text(text, encoding="utf-8")
            doc = clean.clean(load.load(trial))
            info = meta.extract(doc)
            if info.title != title or info.doc_id in taken or meta.text_fingerprint(doc.text) == fingerprint:
                continue  # the copy would be stored as the original, or its chunks would all change
            chunks = split.split(doc, info, settings.chunk_size, settings.chunk_overlap)
            new = [c for c in chunks if c.text_hash() not in hashes]
            recipe = Recipe(f, where, doc_no, len(new), sum(len(c.indexed_text()) for c in new))
            if best is None or recipe.changed_chars < best.changed_chars:
                best = recipe
        if best is None:
            raise RuntimeError(f"{f}: no way found to copy it as a distinct document")
        recipes.append(best)
    return recipes


def write_copies(recipes: list[Recipe], k: int, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for r in recipes:
        text = copy_text(r.path.read_text(encoding="utf-8"), r.where, r.doc_no, k)
        (folder / r.path.name).write_text(text, encoding="utf-8")


def primary_files(data_dir: Path) -> list[Path]:
    """The NCP files the 1× index stores as documents (files it found to duplicate another are not copied)."""
    from kb import Settings, list_documents

    sources = {Path(d["source"]).name for d in list_documents(Settings.from_env(data_dir=data_dir))}
    return sorted(p for p in NCP_DOCS.glob("*.txt") if p.name in sources)


# --- children ------------------------------------------------------------------------------------------------
def _timed(totals: dict[str, list[float]]) -> None:
    """Wrap the store operations in TIMED so that the child can say where ingest time goes."""
    import importlib

    for module_name, class_name, method in TIMED:
        cls = getattr(importlib.import_module(module_name), class_name, None)
        original = getattr(cls, method, None)
        if original is None:
            continue

        def wrapper(*args, _original=original, _name=f"{class_name}.{method}", **kwargs):  # type: ignore[no-untyped-def]
            t0 = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                totals[_name][0] += time.perf_counter() - t0
                totals[_name][1] += 1

        setattr(cls, method, wrapper)


def child_ingest(data_dir: Path, paths: list[Path]) -> dict:
    from kb import Settings, ingest

    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
    _timed(totals)
    settings = Settings.from_env(data_dir=data_dir)
    t0 = time.perf_counter()
    report = ingest(paths, settings)
    return {
        "ingest_s": time.perf_counter() - t0,
        "added": len(report.added),
        "updated": len(report.updated),
        "unchanged": len(report.unchanged),
        "duplicates": len(report.duplicates),
        "failed": len(report.failed),
        "chunks_written": report.chunks,
        "embedded": report.embedded,
        "embed_s": report.embed_seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "ops": {name: {"s": s, "calls": n} for name, (s, n) in totals.items()},
    }


def child_query(data_dir: Path, rounds: int) -> dict:
    from kb import Settings
    from kb.service import KnowledgeBase

    from .__main__ import first_hit, load_ncp, ncp_hit
    from .score import percentile

    settings = Settings.from_env(data_dir=data_dir)
    t0 = time.perf_counter()
    kb = KnowledgeBase(settings)
    kb.retriever.warm_up()
    questions = load_ncp()
    kb.ask(questions[0].question, log_unanswered=False)
    open_s = time.perf_counter() - t0
    sources = {doc_id: d["sources"] for doc_id, d in kb.retriever.manifest.docs.items()}
    stages: dict[str, list[float]] = defaultdict(list)
    hits = 0
    for r in range(rounds):
        for q in questions:
            answer = kb.ask(q.question, log_unanswered=False)
            for stage in ("embed", "retrieve", "answer", "total"):
                stages[stage].append(answer.timings_ms.get(stage, 0.0))
            if r == 0 and not answer.refused:
                rank = first_hit(answer.citations, q, ncp_hit, sources)
                hits += rank is not None and rank <= 5
    kb.retriever.close()
    return {
        "open_s": open_s,
        "questions": len(questions),
        "asks": len(stages["total"]),
        "hit5": hits / len(questions),
        "latency": {s: {"p50": percentile(v, 50), "p95": percentile(v, 95), "max": max(v)} for s, v in stages.items()},
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_child(args: list[str], timeout: float) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "evals.bench_scale", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")},  # as the shells set it
    )  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(f"child {args[0]} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- the run -------------------------------------------------------------------------------------------------
def disk_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def index_counts(data_dir: Path) -> tuple[int, int]:
    from kb import Settings, list_documents

    docs = list_documents(Settings.from_env(data_dir=data_dir))
    return len(docs), sum(d["chunks"] for d in docs)


def measure(sizes: list[int], rounds: int, max_step_s: float, tmp: Path) -> tuple[list[dict], list[Recipe], list[str]]:
    data_dir = tmp / "data"
    if NCP_INDEX.exists():
        shutil.copytree(NCP_INDEX, data_dir)
    notes: list[str] = []
    rows: list[dict] = []
    recipes: list[Recipe] = []
    made = 0  # copies written so far (copy k lives in copies/xKK)
    for n in sizes:
        if n > 1 and not recipes:
            t0 = time.perf_counter()
            recipes = plan_copies(primary_files(data_dir), tmp / "trial")
            logging.info("copy plan for %d files: %.1f s", len(recipes), time.perf_counter() - t0)
        if rows and rows[-1]["added"]:
            per_doc = rows[-1]["ingest_s"] / rows[-1]["added"]
            projected = per_doc * len(recipes) * (n - 1 - made)
            if projected > max_step_s:
                notes.append(
                    f"{n}× not run: at the {rows[-1]['size']}× step's {per_doc:.2f} s per added document, adding "
                    f"{len(recipes) * (n - 1 - made)} documents would take about {projected / 60:.0f} min, over the "
                    f"{max_step_s / 60:.0f} min bound (`--max-step-min`)."
                )
                break
        for k in range(made + 1, n):
            write_copies(recipes, k, tmp / "copies" / f"x{k:02d}")
        made = max(made, n - 1)
        paths = [NCP_DOCS] + [tmp / "copies" / f"x{k:02d}" for k in range(1, n)]
        load_1m = os.getloadavg()[0]
        logging.info("%d×: ingest of %d folder(s), load average %.2f", n, len(paths), load_1m)
        try:
            row = run_child(["--child-ingest", str(data_dir), *map(str, paths)], timeout=max_step_s * 2)
        except subprocess.TimeoutExpired:
            docs, chunks = index_counts(data_dir)
            notes.append(f"{n}× stopped: the ingest was still running after {2 * max_step_s / 60:.0f} min "
                         f"({docs} documents, {chunks} chunks stored by then).")  # fmt: skip
            break
        row["size"], row["load"] = n, load_1m
        row["documents"], row["chunks"] = index_counts(data_dir)
        row["disk_mb"] = disk_mb(data_dir)
        logging.info("%d×: %s", n, row)
        row["query"] = run_child(["--child-query", str(data_dir), str(rounds)], timeout=1800)
        logging.info("%d×: queries %s", n, row["query"])
        rows.append(row)
    return rows, recipes, notes


def table(rows: list[dict]) -> list[str]:
    out = [
        "| size | documents | chunks | documents added (+ re-chunked) | ingest s | s per added document | "
        "chunks newly embedded | vectors reused | embedding s | query p50 ms | query p95 ms | query max ms | "
        "retrieve p95 ms | answer hit@5 | open s | index on disk MB | load average at the step's start |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        q = r["query"]["latency"]
        work = r["added"] + r["updated"]
        out.append(
            f"| {r['size']}× | {r['documents']} | {r['chunks']} | {r['added']} (+{r['updated']}) | "
            f"{r['ingest_s']:.1f} | {r['ingest_s'] / work if work else 0:.3f} | {r['embedded']} | "
            f"{r['chunks_written'] - r['embedded']} | {r['embed_s']:.1f} | {q['total']['p50']:.1f} | "
            f"{q['total']['p95']:.1f} | {q['total']['max']:.1f} | {q['retrieve']['p95']:.1f} | "
            f"{r['query']['hit5']:.3f} | {r['query']['open_s']:.1f} | {r['disk_mb']:.0f} | {r['load']:.2f} |"
        )
    return out


def ops_table(rows: list[dict]) -> list[str]:
    names = sorted({name for r in rows for name in r["ops"]})
    out = ["| size | " + " | ".join(f"{n} s (calls)" for n in names) + " | embedding s | other s |"]
    out.append("|---" * (len(names) + 3) + "|")
    for r in rows:
        ops = r["ops"]
        cells = [f"{ops[n]['s']:.1f} ({ops[n]['calls']})" if n in ops else "—" for n in names]
        # Store.add_chunks and .vectors_for do not overlap the others, nor embedding; commit runs outside them all.
        other = r["ingest_s"] - r["embed_s"] - sum(o["s"] for o in ops.values())
        out.append(f"| {r['size']}× | " + " | ".join(cells) + f" | {r['embed_s']:.1f} | {other:.1f} |")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench_scale", description=__doc__)
    parser.add_argument("--child-ingest", nargs="+", metavar="DIR", help=argparse.SUPPRESS)
    parser.add_argument("--child-query", nargs=2, metavar=("DATA_DIR", "ROUNDS"), help=argparse.SUPPRESS)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 2, 4, 8, 16], help="multiples of the NCP corpus")
    parser.add_argument("--rounds", type=int, default=2, help="times each dev question is asked per size")
    parser.add_argument("--max-step-min", type=float, default=25.0, help="skip a size whose ingest would take longer")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    if args.child_ingest:
        data_dir, *paths = args.child_ingest
        print(json.dumps(child_ingest(Path(data_dir), [Path(p) for p in paths])))
        return 0
    if args.child_query:
        print(json.dumps(child_query(Path(args.child_query[0]), int(args.child_query[1]))))
        return 0
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from kb import Settings

    settings = Settings.from_env()
    load_1m = os.getloadavg()[0]
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        rows, recipes, notes = measure(sorted(set(args.sizes)), args.rounds, args.max_step_min * 60, Path(tmp))
    total_min = (time.perf_counter() - t0) / 60
    ways = defaultdict(int)
    for r in recipes:
        ways[r.where] += 1
    lines = [
        "## Scale: the NCP corpus at 1× to 16× its size (`python -m evals.bench_scale`)",
        "",
        f"Measured {date.today().isoformat()} on {platform.machine()} ({os.cpu_count()} cores, load average "
        f"{load_1m:.2f} at the start), embedder {settings.embed_model}, chunk size {settings.chunk_size}; "
        f"{total_min:.0f} min in all. One index grows step by step: each row's ingest adds the copies that take it "
        "from the size above to its own (the 1× row brings a copy of evals/.data/ncp up to date with the current "
        "pipeline: documents are re-chunked only when the pipeline changed since it was built). "
        f"Queries: the {rows[0]['query']['questions'] if rows else 0} NCP dev questions asked {args.rounds} time(s) "
        "each, through `KnowledgeBase.ask` as the web app does, in a fresh process after one warm-up question; "
        '"open s" is loading the index and the model up to the first answer.',
        "",
        "How copies differ: copy k of a file gets the line `评测副本kk` (or, if the file has a 文号, k appended to "
        "its number) where it changes the fewest chunk characters: "
        + ", ".join(f"{where} for {n} files" for where, n in sorted(ways.items(), key=lambda x: -x[1]))
        + f"; each copy changes {sum(r.changed_chunks for r in recipes)} chunks of {len(recipes)} documents "
        f"({sum(r.changed_chars for r in recipes) / max(1, len(recipes)):.0f} characters a document on average).",
        "",
        *table(rows),
        "",
        "Where the ingest time went (seconds inside each store operation, and how often it ran):",
        "",
        *ops_table(rows),
        *(["", *notes] if notes else []),
    ]
    from .__main__ import publish

    publish("scale", lines, not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
