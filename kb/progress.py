"""How an ingest shows its progress: tqdm bars on a terminal, plain log lines anywhere else (a pipe, a log file,
cron), so that a long ingest whose output is piped is never silent for a minute."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from .ingest import Progress

log = logging.getLogger(__name__)

EVERY_DOCUMENTS = 10  # a line at least every this many documents (or files read) …
EVERY_SECONDS = 5.0  # … and at least every this many seconds while work goes on, whichever comes first


class Bars(Progress):
    """tqdm bars on stderr: files read, then documents and chunks embedded."""

    def __init__(self) -> None:
        self.bars: dict[str, Any] = {}

    def _open(self, name: str, total: int, unit: str, position: int) -> None:
        if total:
            from tqdm import tqdm

            self.bars[name] = tqdm(total=total, unit=unit, desc=f"{name:<9}", position=position, file=sys.stderr)

    def reading(self, total: int) -> None:
        self._open("reading", total, "file", 0)

    def file_read(self, path: str) -> None:
        self._step("reading", 1, path)

    def documents(self, total: int) -> None:
        self._close("reading")
        self._open("documents", total, "doc", 0)

    def chunks(self, total: int) -> None:
        self._open("chunks", total, "chunk", 1)

    def document_done(self, path: str) -> None:
        self._step("documents", 1, path)

    def chunks_done(self, n: int) -> None:
        self._step("chunks", n)

    def _step(self, name: str, n: int, path: str = "") -> None:
        bar = self.bars.get(name)
        if bar is not None:
            if path:
                bar.set_postfix_str(Path(path).name[:40])
            bar.update(n)

    def _close(self, name: str) -> None:
        bar = self.bars.pop(name, None)
        if bar is not None:
            bar.close()

    def close(self) -> None:
        for name in ("chunks", "documents", "reading"):
            self._close(name)


class LogLines(Progress):
    """A plain INFO line on the `kb.progress` logger every EVERY_DOCUMENTS documents or EVERY_SECONDS seconds,
    whichever comes first, and one when a phase ends: `ingested 40/599 documents, 1234 chunks, 35 s`."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.started = clock()
        self.phase, self.total, self.done, self.chunk_count = "", 0, 0, 0
        self.last_time, self.last_done = self.started, 0

    def _begin(self, phase: str, total: int) -> None:
        self.phase, self.total, self.done = phase, total, 0
        self.last_time, self.last_done = self.clock(), 0

    def reading(self, total: int) -> None:
        self._begin("read", total)
        if total:
            log.info("reading %d new or changed file(s)", total)

    def file_read(self, path: str) -> None:
        self.done += 1
        self._maybe_log()

    def documents(self, total: int) -> None:
        self._begin("ingested", total)
        self.chunk_count = 0
        if total:
            log.info("embedding %d document(s)", total)

    def document_done(self, path: str) -> None:
        self.done += 1
        self._maybe_log()

    def chunks_done(self, n: int) -> None:
        self.chunk_count += n
        self._maybe_log()  # a long document still gets a line every EVERY_SECONDS

    def _maybe_log(self) -> None:
        now = self.clock()
        finished = self.done == self.total and self.done != self.last_done
        if finished or self.done - self.last_done >= EVERY_DOCUMENTS or now - self.last_time >= EVERY_SECONDS:
            self.last_time, self.last_done = now, self.done
            unit = "files" if self.phase == "read" else "documents"
            chunks = f", {self.chunk_count} chunks" if self.phase == "ingested" else ""
            log.info("%s %d/%d %s%s, %.0f s", self.phase, self.done, self.total, unit, chunks, now - self.started)


def for_stream(stream: IO[str], quiet: bool) -> Progress:
    """Bars when `stream` is a terminal, log lines when it is not, nothing with `quiet`."""
    if quiet:
        return Progress()
    return Bars() if stream.isatty() else LogLines()


def progress_lines_to(stream: IO[str]) -> None:
    """Write LogLines' lines to `stream` as they are (no level, no logger name), whatever the root level is."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.INFO)
