"""`python -m evals.bench_load`: the web app under concurrent clients, and its memory over 500 questions.

The app (`python -m bot`) serves an index of the product corpus (a copy of evals/.data/product, brought up to date
with corpus/) on a free loopback port. Clients are threads that ask through the app's `/ask` API over plain HTTP,
as an integrator would (POST /gradio_api/call/ask, then read the event stream until its result); questions are
drawn in turn from evals/seed-dev.jsonl, answerable and unanswerable alike. First the memory run: 500 questions in
rounds of 50, the server's resident memory sampled after each round; then the load run on the warm server, every
client asking its questions one after another.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PRODUCT_INDEX = HERE / ".data" / "product"
MEMORY_ROUND = 50

log = logging.getLogger("bench_load")


@dataclass
class Result:
    question: str
    seconds: float
    error: str = ""
    refused: bool = False


def seed_questions() -> list[dict]:
    return [json.loads(line) for line in (HERE / "seed-dev.jsonl").read_text(encoding="utf-8").splitlines() if line]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ask(base: str, question: str, timeout: float) -> Result:
    """One question through the app's API, timed from the request to the result."""
    t0 = time.perf_counter()
    try:
        request = urllib.request.Request(
            f"{base}/gradio_api/call/ask",
            data=json.dumps({"data": [question]}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            event_id = json.loads(response.read())["event_id"]
        event, data = "", ""
        with urllib.request.urlopen(f"{base}/gradio_api/call/ask/{event_id}", timeout=timeout) as stream:
            for raw in stream:
                line = raw.decode("utf-8").rstrip("\n")
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data = line[5:].strip()
                    if event in ("complete", "error"):
                        break
        seconds = time.perf_counter() - t0
        if event != "complete":
            return Result(question, seconds, f"event {event or '(none)'}: {data[:200]}")
        answer = json.loads(data)[0]
        if not isinstance(answer, dict) or "answer" not in answer:
            return Result(question, seconds, f"unexpected result: {data[:200]}")
        return Result(question, seconds, refused=bool(answer.get("refused")))
    except Exception as exc:  # every failure is a counted error, not the end of the run
        return Result(question, time.perf_counter() - t0, f"{type(exc).__name__}: {exc}")


def run_clients(base: str, batches: list[list[str]], timeout: float, deadline: float) -> tuple[list[Result], float]:
    """Each batch is one client asking its questions in turn; all clients at once. Returns results and wall time."""

    def client(batch: list[str]) -> list[Result]:
        out = []
        for q in batch:
            if time.monotonic() > deadline:
                out.append(Result(q, 0.0, "not asked: the run's time limit was reached"))
                continue
            out.append(ask(base, q, timeout))
        return out

    t0 = time.perf_counter()
    results: list[Result] = []
    with ThreadPoolExecutor(max_workers=len(batches)) as pool:
        for future in as_completed([pool.submit(client, b) for b in batches]):
            results.extend(future.result())
    return results, time.perf_counter() - t0


def deal(qs: list[str], clients: int, per_client: int, offset: int = 0) -> list[list[str]]:
    """`clients` lists of `per_client` questions, dealt in turn from the question set (cycled)."""
    return [[qs[(offset + c * per_client + i) % len(qs)] for i in range(per_client)] for c in range(clients)]


def rss_mb(pid: int) -> float:
    import psutil

    proc = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20


def start_app(data_dir: Path, port: int, log_path: Path, timeout: float) -> tuple[subprocess.Popen, float]:
    """`python -m bot` on 127.0.0.1:`port`; returns once its page is served (or raises)."""
    t0 = time.perf_counter()
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "--data-dir", str(data_dir), "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT,
        )  # fmt: skip
    while time.perf_counter() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with {proc.returncode}:\n{log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                if response.status == 200:
                    return proc, time.perf_counter() - t0
        except OSError:
            time.sleep(0.2)
    stop_app(proc)
    raise RuntimeError(f"the app did not answer within {timeout:.0f} s:\n{log_path.read_text()[-2000:]}")


def stop_app(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


def prepare_index(data_dir: Path) -> None:
    """A copy of evals/.data/product (if any) brought up to date with corpus/: the eval index is never written."""
    if PRODUCT_INDEX.exists():
        shutil.copytree(PRODUCT_INDEX, data_dir)
    subprocess.run(
        [sys.executable, "ingest.py", str(ROOT / "corpus"), "--data-dir", str(data_dir), "--quiet"],
        cwd=ROOT, check=True, capture_output=True, timeout=1800,
    )  # fmt: skip


def measure(args: argparse.Namespace, tmp: Path) -> dict:
    data_dir = tmp / "data"
    t0 = time.perf_counter()
    prepare_index(data_dir)
    prepare_s = time.perf_counter() - t0
    rows = seed_questions()
    qs = [r["question"] for r in rows]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + args.time_limit
    proc, ready_s = start_app(data_dir, port, tmp / "app.log", timeout=180)
    try:
        memory: list[tuple[int, float]] = [(0, rss_mb(proc.pid))]
        mem_results: list[Result] = []
        for asked in range(0, args.memory_questions, MEMORY_ROUND):
            n = min(MEMORY_ROUND, args.memory_questions - asked)
            per = -(-n // args.clients)
            batches = [b[: max(0, min(per, n - i * per))] for i, b in enumerate(deal(qs, args.clients, per, asked))]
            results, _ = run_clients(base, [b for b in batches if b], args.request_timeout, deadline)
            mem_results += results
            memory.append((asked + n, rss_mb(proc.pid)))
            log.info("memory: %d questions, RSS %.0f MB", asked + n, memory[-1][1])
        batches = deal(qs, args.clients, args.per_client)
        load_results, wall = run_clients(base, batches, args.request_timeout, deadline)
        memory.append((args.memory_questions + len(load_results), rss_mb(proc.pid)))
    finally:
        stop_app(proc)
    return {
        "prepare_s": prepare_s,
        "ready_s": ready_s,
        "questions": len(qs),
        "unanswerable": sum(1 for r in rows if r["kind"] == "unanswerable"),
        "load": load_results,
        "wall_s": wall,
        "memory": memory,
        "memory_results": mem_results,
    }


def summary(results: list[Result], percentile: Callable[[list[float], float], float]) -> dict:
    ok = [r.seconds * 1000 for r in results if not r.error]
    return {
        "requests": len(results),
        "errors": sum(1 for r in results if r.error),
        "refused": sum(1 for r in results if r.refused),
        "p50": percentile(ok, 50),
        "p95": percentile(ok, 95),
        "max": max(ok, default=0.0),
        "first_errors": sorted({r.error for r in results if r.error})[:3],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.bench_load", description=__doc__)
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (threads), at most 64")
    parser.add_argument("--per-client", type=int, default=10, help="questions each client asks in the load run")
    parser.add_argument("--memory-questions", type=int, default=500, help="questions in the memory run")
    parser.add_argument("--request-timeout", type=float, default=120.0, help="seconds before a request is an error")
    parser.add_argument("--time-limit", type=float, default=1200.0, help="seconds for both runs together")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 64:  # the app's queue holds 64 requests
        parser.error("--clients must be between 1 and 64")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from .score import percentile

    load_1m = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        m = measure(args, Path(tmp))
    load = summary(m["load"], percentile)
    mem = summary(m["memory_results"], percentile)
    samples = dict(m["memory"])
    warm = samples[min(MEMORY_ROUND, args.memory_questions)]
    end = samples[args.memory_questions]
    growth = (end - warm) / warm * 100
    lines = [
        "## Web app under load (`python -m evals.bench_load`)",
        "",
        f"Measured {date.today().isoformat()} on {platform.machine()} ({os.cpu_count()} cores, load average "
        f"{load_1m:.2f} at the start). The app (`python -m bot` as shipped, extractive answers) "
        f"served the product corpus on loopback, started in {m['ready_s']:.1f} s; clients asked through its `/ask` "
        f"API over HTTP, each waiting for its answer before the next question; the {m['questions']} seed-dev "
        f"questions ({m['unanswerable']} of them unanswerable) were dealt out in turn. Latency is per request, from "
        "the request to its result, queueing included.",
        "",
        "| run | clients | requests | errors | refused | p50 ms | p95 ms | max ms | throughput req/s |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| load ({args.per_client} questions a client, warm server) | {args.clients} | {load['requests']} | "
        f"{load['errors']} | {load['refused']} | {load['p50']:.0f} | {load['p95']:.0f} | {load['max']:.0f} | "
        f"{load['requests'] / m['wall_s']:.2f} |",
        f"| memory ({args.memory_questions} questions in rounds of {MEMORY_ROUND}) | {args.clients} | "
        f"{mem['requests']} | {mem['errors']} | {mem['refused']} | {mem['p50']:.0f} | {mem['p95']:.0f} | "
        f"{mem['max']:.0f} | — |",
        "",
        f"Server memory (RSS): {samples[0]:.0f} MB when ready, {warm:.0f} MB after the first "
        f"{min(MEMORY_ROUND, args.memory_questions)} questions (warm), {end:.0f} MB after {args.memory_questions}: "
        f"growth {growth:+.1f}% from warm to end (target under 10%), "
        f"{(end - warm) * 1024 / max(1, args.memory_questions - MEMORY_ROUND):.0f} KB a question; "
        f"{m['memory'][-1][1]:.0f} MB after the load run. "
        "Samples (questions answered: MB): " + ", ".join(f"{n}: {v:.0f}" for n, v in m["memory"]) + ".",
    ]
    for name, s in (("load", load), ("memory", mem)):
        if s["errors"]:
            lines += ["", f"Errors in the {name} run (first kinds): " + "; ".join(s["first_errors"])]
    from .__main__ import publish

    publish("load", lines, not args.no_write)
    return 0 if load["errors"] == 0 and mem["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
