"""`python -m evals.bench_crash`: SIGKILL `python ingest.py` again and again; what does a reader see before repair?

Two series on a copy of corpus/, each run against a snapshot of kb/ taken at the start (the tree may change meanwhile):

1. first ingest: an empty data dir; every run is killed and restarted until one completes;
2. update: the first .txt document is withdrawn and the others edited, and that is ingested (timed: this gives an
   update's duration); then the originals are put back, and that update is killed and restarted until one completes.

Kills land at a random time (seeded) within a full run, when the journal names its k-th document (that document is
being written), when the lexical index file is replaced (the commit has begun), or when the manifest is replaced
(committed, not yet cleaned up). After each kill, before anything repairs the store, a child process opens it as a
reader would and counts records of versions the manifest does not list, listed documents that are not whole, and
search hits of unlisted versions. At the end each store must be consistent and hold the same document and chunk
ids as a clean ingest of the same files by the same code.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = ROOT / "corpus"
REFERENCE = HERE / ".data" / "product"
QUESTIONS = 7  # seed-dev questions searched after each kill: the first one about each document
EDIT = "\n附：本段为崩溃测试临时追加的文字。\n"  # appended to each .txt document for the update series
log = logging.getLogger("evals.bench_crash")


# --- the child: read a data dir as a reader would --------------------------------------------------------------


def inspect(data_dir: Path, search: bool) -> dict[str, Any]:
    """The store's state without repairing anything: what is listed, what else is stored, what search serves.

    The same checks as tests/conftest.py (`StoreState.assert_consistent`, `assert_no_partial_document`).
    """
    from kb import IndexMissing, Settings
    from kb.store import Manifest, Store, open_blobs

    settings = Settings.from_env(data_dir=data_dir)
    manifest = Manifest.load(open_blobs(settings))
    listed = {doc_id: doc["hash"] for doc_id, doc in manifest.docs.items()}
    wanted = {cid: doc["hash"] for doc in manifest.docs.values() for cid in doc["chunk_ids"]}
    chroma = chroma_records(settings)
    bm25_path = settings.lexical_dir / "bm25.json"
    bm25 = json.loads(bm25_path.read_text(encoding="utf-8"))["chunks"] if bm25_path.exists() else {}
    bm25_md = {cid: entry["metadata"] for cid, entry in bm25.items()}
    texts_dir = settings.data_dir / "texts"
    texts = {p.name for p in texts_dir.iterdir()} if texts_dir.exists() else set()
    expected_texts = {Path(Store.text_name(doc_id, h)).name for doc_id, h in listed.items()}

    def good(md: dict[str, Any]) -> bool:
        return wanted.get(str(md["chunk_id"])) == md.get("doc_hash")

    chroma_good = {str(md["chunk_id"]) for md in chroma.values() if good(md)}
    bm25_good = {cid for cid, md in bm25_md.items() if good(md)}
    not_whole = {}
    for doc_id, doc in manifest.docs.items():
        missing = [
            name
            for name, present in (("Chroma", chroma_good), ("BM25", bm25_good))
            if any(cid not in present for cid in doc["chunk_ids"])
        ]
        if Path(Store.text_name(doc_id, doc["hash"])).name not in texts:
            missing.append("text")
        if missing:
            not_whole[doc_id] = missing
    # A chunk of a listed version that the manifest does not list (a reader filtering by version would show it).
    for md in [*chroma.values(), *bm25_md.values()]:
        if listed.get(md["doc_id"]) == md.get("doc_hash") and str(md["chunk_id"]) not in wanted:
            not_whole.setdefault(md["doc_id"], []).append("unlisted chunk")
    journal = settings.data_dir / "ingest.journal"
    state: dict[str, Any] = {
        "listed": len(listed),
        "versions": listed,
        "chunk_ids": sorted(wanted),
        "chroma_strays": sum(not good(md) for md in chroma.values()),
        "bm25_strays": sum(not good(md) for md in bm25_md.values()),
        "text_strays": len(texts - expected_texts),
        "not_whole": not_whole,
        "journal": journal.exists(),
        "hits": None,
        "wrong_hits": [],
    }
    if search:
        try:
            state["hits"], state["wrong_hits"] = search_hits(settings, listed, wanted)
        except IndexMissing:
            pass  # no manifest yet (or an empty one): a reader refuses to start, so nothing is served
    return state


def chroma_records(settings) -> dict[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Record id → metadata of every stored vector, without creating the store or its collection."""
    if not settings.chroma_dir.exists():
        return {}
    from chromadb.errors import NotFoundError

    from kb.store import make_client

    try:
        collection = make_client(settings).get_collection(settings.collection, embedding_function=None)
    except NotFoundError:
        return {}
    found: dict[str, dict[str, Any]] = {}
    for offset in range(0, collection.count(), 1000):
        got = collection.get(include=["metadatas"], limit=1000, offset=offset)
        found.update(zip(got["ids"], got["metadatas"], strict=True))
    return found


def search_hits(settings, listed: dict[str, str], wanted: dict[str, str]) -> tuple[int, list[str]]:  # type: ignore[no-untyped-def]
    """Search a few seed-dev questions as a reader; hits (or folded near-duplicates) of unlisted versions."""
    from kb.service import KnowledgeBase

    kb = KnowledgeBase(settings)
    served, wrong = 0, []
    for question in questions():
        for hit in kb.search(question, k=10):
            served += 1
            for chunk in (hit.chunk, *hit.also):
                if listed.get(chunk.doc_id) != chunk.doc_hash or chunk.id not in wanted:
                    wrong.append(f"{question} → {chunk.id}@{chunk.doc_hash[:12]}")
    kb.retriever.close()
    return served, wrong


def questions() -> list[str]:
    rows = [json.loads(line) for line in (HERE / "seed-dev.jsonl").read_text(encoding="utf-8").splitlines() if line]
    first: dict[str, str] = {}
    for row in rows:
        if row["kind"] == "answerable" and row.get("doc"):
            first.setdefault(row["doc"], row["question"])
    return list(first.values())[:QUESTIONS]


class StandIn:
    """Named like the real embedder, gives fixed vectors: a reference ingest for ids, which vectors do not shape."""

    def __init__(self, name: str) -> None:
        self.name = name

    dim = 8

    def embed_documents(self, texts):  # type: ignore[no-untyped-def]
        import numpy as np

        return np.full((len(texts), self.dim), self.dim**-0.5, dtype=np.float32)

    def embed_query(self, text: str):  # type: ignore[no-untyped-def]
        return self.embed_documents([text])[0]


def reference(source: Path, data_dir: Path) -> dict[str, Any]:
    """Runs in the child: a clean ingest of `source` with the stand-in embedder; its ids and pipeline signature."""
    from kb import Settings, ingest
    from kb.ingest import pipeline_signature

    settings = Settings.from_env(data_dir=data_dir)
    report = ingest([source], settings, embedder=StandIn(settings.embed_model))
    from kb.ingest import COMMIT_EVERY

    state = inspect(data_dir, search=False)
    state.update(
        signature=pipeline_signature(settings, settings.embed_model),
        failed=report.failed,
        embed_model=settings.embed_model,
        chunk_size=settings.chunk_size,
        commit_every=COMMIT_EVERY,
    )
    return state


# --- the parent: run, kill, look ---------------------------------------------------------------------------------


@dataclass
class Kill:
    how: str  # "time", "journal", "lexical" (index file replaced) or "commit" (manifest replaced)
    arg: float = 0.0  # seconds for "time", the k-th document for "journal"

    def label(self) -> str:
        if self.how == "time":
            return f"at {self.arg:.1f} s (random)"
        if self.how == "journal":
            return f"journal names doc {int(self.arg)}"
        return {"lexical": "BM25 file replaced", "commit": "manifest replaced"}[self.how]


@dataclass
class Run:
    """One `python ingest.py` process: when it was killed (or that it completed), and when it repaired."""

    kill: Kill | None
    killed_at: float | None = None
    completed: bool = False
    seconds: float = 0.0
    returncode: int | None = None
    repair_logged: float | None = None  # seconds from start to its first log line about the repair
    repair_done: float | None = None  # seconds from start to the old journal's removal
    repair_note: str = ""
    in_flight: list[str] | None = None  # the journal right after the kill
    summary: str = ""
    state: dict[str, Any] = field(default_factory=dict)  # what a reader saw after the kill, before any repair


class Bench:
    def __init__(self, tmp: Path, seed: int) -> None:
        self.code = tmp / "code"  # the snapshot of kb/ and ingest.py that every process runs
        self.work = tmp / "work"  # holds corpus/ (as in the product, sources read corpus/<file>)
        self.data = self.work / "data"
        self.rng = random.Random(seed)
        self.env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "OMP_WAIT_POLICY": "PASSIVE",
            "PYTHONPATH": str(self.code),
        }
        shutil.copytree(ROOT / "kb", self.code / "kb", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy2(ROOT / "ingest.py", self.code / "ingest.py")
        shutil.copytree(CORPUS, self.work / "corpus")

    def child(self, *args: str) -> dict[str, Any]:
        """This script in a child process on the snapshot (its directory first on sys.path, then the snapshot)."""
        out = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), *args],
            cwd=self.work, env=self.env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        if out.returncode != 0:
            raise RuntimeError(f"child {args} failed:\n{out.stderr[-3000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])

    def look(self) -> dict[str, Any]:
        return self.child("--inspect", str(self.data))

    def run(self, kill: Kill | None, docs: int) -> Run:
        """Start an ingest; kill it as `kill` says (None: let it finish). `docs`: how many documents it writes."""
        result = Run(kill)
        journal = self.data / "ingest.journal"
        old_journal = _stamp(journal)
        err: list[tuple[float, str]] = []
        out: list[str] = []
        start_ns = time.time_ns()
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, str(self.code / "ingest.py"), "corpus", "--data-dir", str(self.data), "-q"],
            cwd=self.work, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        readers = [
            threading.Thread(target=_read_lines, args=(proc.stderr, err, t0), daemon=True),
            threading.Thread(target=lambda: out.append(proc.stdout.read()), daemon=True),  # type: ignore[union-attr]
        ]
        for reader in readers:
            reader.start()
        while proc.poll() is None:
            now = time.perf_counter() - t0
            if old_journal is not None and result.repair_done is None and _stamp(journal) != old_journal:
                result.repair_done = now  # the killed run's journal is gone (removed, or replaced by a new one)
            if kill is not None and self.due(kill, now, start_ns):
                os.kill(proc.pid, signal.SIGKILL)
                result.killed_at = time.perf_counter() - t0
                proc.wait()
                result.in_flight = _journal(journal)
                break
            if now > 1800:
                proc.kill()
                raise RuntimeError("an ingest ran for 30 minutes")
            # The commit takes milliseconds: watch closely once the journal names every document, not before.
            near = kill is not None and kill.how in ("lexical", "commit") and len(self.flight(start_ns)) >= docs
            time.sleep(0.0002 if near else 0.005)
        for reader in readers:
            reader.join(timeout=10)
        result.seconds = time.perf_counter() - t0
        result.returncode = proc.returncode
        result.completed = proc.returncode == 0
        repair = [(t, line) for t, line in err if "interrupted" in line or "disagreed" in line]  # _repair's lines
        if repair:
            result.repair_logged, result.repair_note = repair[0]
        result.summary = "".join(out)
        if proc.returncode not in (0, -signal.SIGKILL):
            raise RuntimeError(f"ingest exited with {proc.returncode}: {''.join(line for _, line in err)[-3000:]}")
        return result

    def flight(self, start_ns: int) -> list[str]:
        """The documents the journal names, if this run wrote it (not the one a killed run left)."""
        stamp = _stamp(self.data / "ingest.journal")
        return _journal(self.data / "ingest.journal") if stamp and stamp[1] > start_ns else []

    def due(self, kill: Kill, now: float, start_ns: int) -> bool:
        if kill.how == "time":
            return now >= kill.arg
        if kill.how == "journal":
            return len(self.flight(start_ns)) >= kill.arg
        path = self.data / ("lexical/bm25.json" if kill.how == "lexical" else "manifest.json")
        stamp = _stamp(path)
        return stamp is not None and stamp[1] > start_ns  # replaced by this run

    def series(self, kills: list[Kill | None], docs: int, name: str) -> list[Run]:
        """Kill one run per entry, looking at the store after each kill; then let one run complete.

        An entry None is a timed kill drawn now: within the start-up and first document, as the first kill timed it.
        """
        runs: list[Run] = []
        for n, kill in enumerate(kills, start=1):
            if kill is None:
                assert runs and runs[0].killed_at is not None
                kill = Kill("time", self.rng.uniform(0.0, runs[0].killed_at))
            run = self.run(kill, docs)
            run.state = self.look()
            runs.append(run)
            if run.completed:
                log.info("%s %d: the run completed before the kill (%s)", name, n, kill.label())
                return runs
            log.info(
                "%s %d: killed (%s) at %.1f s, %d in flight, %d listed, strays %d/%d/%d, not whole %d, wrong hits %d",
                name, n, kill.label(), run.killed_at, len(run.in_flight or []), run.state["listed"],
                run.state["chroma_strays"], run.state["bm25_strays"], run.state["text_strays"],
                len(run.state["not_whole"]), len(run.state["wrong_hits"]),
            )  # fmt: skip
        final = self.run(None, docs)
        final.state = self.look()
        runs.append(final)
        log.info("%s: completed in %.1f s; %s", name, final.seconds, _written(final.summary))
        return runs


def _stamp(path: Path) -> tuple[int, int] | None:
    """(inode, mtime in ns) of a file, None when it does not exist: tells a replaced file from the old one."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns


def _journal(path: Path) -> list[str]:
    try:
        return list(json.loads(path.read_text(encoding="utf-8")))
    except (FileNotFoundError, json.JSONDecodeError):
        return []


def _read_lines(stream, lines: list[tuple[float, str]], t0: float) -> None:  # type: ignore[no-untyped-def]
    for line in stream:
        lines.append((time.perf_counter() - t0, line.rstrip()))


def _written(summary: str) -> str:
    found = re.search(r"chunks written: .*", summary)
    return found.group(0) if found else "(no summary)"


def plan(n: int) -> tuple[list[Kill | None], list[tuple[str, float]]]:
    """Split n kills between the two series.

    First ingest (nothing is committed before its end, so the repair discards a killed run's work): at its first
    document, (once that timed the start-up) at a random time before it, at its fourth document, at the
    commit. Update: random times and k-th documents alternately, then the lexical index's save, then the commit.
    A timed kill's time is drawn later: its range is only known then.
    """
    first: list[Kill | None] = [Kill("commit")]
    if n >= 5:
        first = [Kill("journal", 1), Kill("journal", 4), Kill("commit")]
    if n >= 8:
        first.insert(1, None)
    rest = max(n - len(first), 0)
    middle = [("time", 0.0) if i % 2 == 0 else ("journal", (1, 3, 5, 2, 4)[(i // 2) % 5]) for i in range(rest - 2)]
    return first, [*middle, *[("lexical", 0.0), ("commit", 0.0)][:rest]]


# --- the report ------------------------------------------------------------------------------------------------


def rows(series: str, runs: list[Run]) -> list[str]:
    out = []
    for n, (run, after) in enumerate(itertools.pairwise(runs), start=1):
        s = run.state
        if after.repair_logged is None:
            repair = "nothing logged" + ("" if after.completed else " before it was killed")
        else:
            done = "not finished when killed" if after.repair_done is None else f"{after.repair_done:.2f} s"
            repair = f"logged {after.repair_logged:.2f} s, journal gone {done}"
        served = "none (no index yet)" if s["hits"] is None else str(s["hits"])
        not_whole = "; ".join(f"{d}: {', '.join(w)}" for d, w in s["not_whole"].items())
        out.append(
            f"| {series} {n} | {run.kill.label() if run.kill else '—'} | {run.killed_at:.2f} | "
            f"{len(run.in_flight or [])} | {s['listed']} | {s['chroma_strays']} / {s['bm25_strays']} / "
            f"{s['text_strays']} | {len(s['not_whole'])}{f' ({not_whole})' if not_whole else ''} | {served} | "
            f"{len(s['wrong_hits'])} | {repair} ({after.seconds:.1f} s in all"
            f"{', completed' if after.completed else ''}) |"
        )
    return out


def final_line(series: str, run: Run, ref: dict[str, Any]) -> str:
    s = run.state
    consistent = (
        s["chroma_strays"] == s["bm25_strays"] == s["text_strays"] == 0
        and not s["not_whole"]
        and not s["journal"]
        and not s["wrong_hits"]
    )
    same_ids = sorted(s["versions"]) == sorted(ref["versions"]) and s["chunk_ids"] == ref["chunk_ids"]
    return (
        f"- {series}: the run that completed took {run.seconds:.1f} s ({_written(run.summary)}); store consistent "
        f"(no strays, every listed document whole, no journal left): {'yes' if consistent else 'NO'}; "
        f"{s['listed']} documents, {len(s['chunk_ids'])} chunks; same doc ids and chunk ids as the clean reference: "
        f"{'yes' if same_ids else 'NO'}; same versions: {'yes' if s['versions'] == ref['versions'] else 'NO'}."
    )


def measure(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    first, update = plan(args.kills)
    bench = Bench(tmp, args.seed)
    corpus = bench.work / "corpus"
    runs = {"first": bench.series(first, len([p for p in corpus.rglob("*") if p.is_file()]), "first ingest")}
    edited = sorted(corpus.glob("*.txt"))
    originals = {path: path.read_bytes() for path in edited}
    for path in edited[1:]:
        path.write_bytes(originals[path] + EDIT.encode("utf-8"))
    edited[0].unlink()  # withdrawn, so that the update adds a document as well as changing some
    edit_run = bench.run(None, len(edited))
    for path in edited:
        path.write_bytes(originals[path])
    kills = [Kill(how, bench.rng.uniform(0.0, edit_run.seconds) if how == "time" else arg) for how, arg in update]
    runs["update"] = bench.series(kills, len(edited), "update") if kills else []
    ref = bench.child("--reference", "corpus", str(bench.work / "reference"))
    return {"runs": runs, "edit_run": edit_run, "edited": len(edited), "ref": ref}


def code_version() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "kb", "ingest.py"], cwd=ROOT, capture_output=True, text=True
    )
    changed = len(dirty.stdout.splitlines())
    return f"kb/ at {head.stdout.strip()}" + (f" plus uncommitted changes to {changed} file(s)" if changed else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench_crash", description=__doc__)
    parser.add_argument("--kills", type=int, default=10, help="kills in all, over both series (default 10)")
    parser.add_argument("--seed", type=int, default=20251128, help="for the random kill times")
    parser.add_argument("--no-write", action="store_true", help="print, do not update RESULTS.md")
    parser.add_argument("--inspect", metavar="DATA_DIR", help=argparse.SUPPRESS)
    parser.add_argument("--reference", nargs=2, metavar=("SOURCE", "DATA_DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inspect:
        print(json.dumps(inspect(Path(args.inspect), search=True), ensure_ascii=False))
        return 0
    if args.reference:
        print(json.dumps(reference(Path(args.reference[0]), Path(args.reference[1])), ensure_ascii=False))
        return 0
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    started, load_before, code = time.perf_counter(), os.getloadavg()[0], code_version()
    with tempfile.TemporaryDirectory(prefix="bench-crash-") as tmp:
        result = measure(args, Path(tmp))
    result.update(seconds=time.perf_counter() - started, load=(load_before, os.getloadavg()[0]), code=code)
    lines = report(result, args)
    from .__main__ import publish

    publish("crash", lines, not args.no_write)
    return 0


def report(result: dict[str, Any], args: argparse.Namespace) -> list[str]:
    runs, ref, load = result["runs"], result["ref"], result["load"]
    killed = [run for series in runs.values() for run in series if run.killed_at is not None]
    strays = [r.state["chroma_strays"] + r.state["bm25_strays"] + r.state["text_strays"] for r in killed]
    lines = [
        "## Crash safety of ingest (`python -m evals.bench_crash`)",
        "",
        f"Measured {date.today().isoformat()} on {platform.machine()} ({os.cpu_count()} cores, shared; 1-minute load "
        f"average {load[0]:.2f} at the start, {load[1]:.2f} at the end), {result['code']}, embedder "
        f"{ref['embed_model']}, chunk size {ref['chunk_size']}, manifest committed every {ref['commit_every']} "
        f"documents, seed {args.seed}, {args.kills} kills asked, {len(killed)} made, {result['seconds']:.0f} s in all.",
        "",
        "`python ingest.py corpus -q` on a copy of corpus/ is killed with SIGKILL and restarted until a run "
        "completes: first from an empty data dir, then an update back to the original files after the "
        f"{result['edited']} .txt documents were changed (the first withdrawn, the others edited) and ingested "
        f"(that ingest took "
        f"{result['edit_run'].seconds:.1f} s: the range of the update's random kill times). After each kill, before "
        "any repair, a child process reads the store: strays are Chroma records / BM25 entries / cleaned texts of "
        "versions the manifest does not list; a listed document is half-written when any of its listed chunks is "
        "missing from Chroma or BM25 (as the listed version) or its text is missing; "
        f"{len(questions())} seed-dev questions are searched (`KnowledgeBase.search`, 10 hits each) and a hit is "
        "wrong when its version or chunk is not listed. The last column is the next run's: its first log line "
        "about the repair and the removal of the killed run's journal (seconds from its start), and its length.",
        "",
        "| kill | trigger | killed at s | docs in flight (journal) | docs listed | strays before repair "
        "(Chroma / BM25 / texts) | half-written docs visible (must be 0) | hits served | wrong hits (must be 0) | "
        "next run: repair |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *[row for name, series in runs.items() for row in rows(name, series)],
        "",
        f"Summary: {len(killed)} kills; strays before repair after {sum(1 for s in strays if s)} of them (up to "
        f"{max(strays, default=0)}); half-written documents visible: "
        f"{sum(len(r.state['not_whole']) for r in killed)}; wrong hits served: "
        f"{sum(len(r.state['wrong_hits']) for r in killed)}.",
        "",
        *[final_line(f"{name} series", series[-1], ref) for name, series in runs.items() if series],
        f"- clean reference: the same files ingested once by the same code with a stand-in embedder (ids and "
        f"versions do not depend on vectors): {ref['listed']} documents, {len(ref['chunk_ids'])} chunks.",
        reference_line(ref),
    ]
    for run in killed:
        lines += [f"- wrong hit after the kill ({run.kill.label()}): {w}" for w in run.state["wrong_hits"][:3]]  # type: ignore[union-attr]
    return lines


def reference_line(ref: dict[str, Any]) -> str:
    """Whether evals/.data/product (what `python -m evals` scores) matches the clean reference."""
    path = REFERENCE / "manifest.json"
    if not path.exists():
        return f"- {REFERENCE.relative_to(ROOT)}: absent."
    data = json.loads(path.read_text(encoding="utf-8"))
    chunk_ids = sorted(cid for doc in data["docs"].values() for cid in doc["chunk_ids"])
    same = sorted(data["docs"]) == sorted(ref["versions"]) and chunk_ids == ref["chunk_ids"]
    signature = data.get("pipeline", {}).get("signature")
    return (
        f"- {REFERENCE.relative_to(ROOT)} (pipeline {signature}; this code's is {ref['signature']}): same doc ids and "
        f"chunk ids as the clean reference: {'yes' if same else 'no'}."
    )


if __name__ == "__main__":
    sys.exit(main())
