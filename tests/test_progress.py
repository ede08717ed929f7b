"""kb/progress.py: plain progress lines when stderr is not a terminal, every 10 documents or 5 s, whichever first."""

from __future__ import annotations

import io
import logging

import pytest

from kb.ingest import Progress
from kb.progress import Bars, LogLines, for_stream


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "kb.progress"]


def test_a_line_every_ten_documents_and_one_at_the_end(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    shown = LogLines(clock)
    with caplog.at_level(logging.INFO, logger="kb.progress"):
        shown.documents(25)
        shown.chunks(250)
        for n in range(25):
            clock.now += 0.2  # fast documents: the count decides
            shown.chunks_done(10)
            shown.document_done(f"doc{n}.txt")
    assert lines(caplog) == [
        "embedding 25 document(s)",
        "ingested 10/25 documents, 100 chunks, 2 s",
        "ingested 20/25 documents, 200 chunks, 4 s",
        "ingested 25/25 documents, 250 chunks, 5 s",
    ]


def test_a_line_every_five_seconds_even_inside_one_long_document(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    shown = LogLines(clock)
    with caplog.at_level(logging.INFO, logger="kb.progress"):
        shown.reading(2)
        clock.now += 6  # a slow PDF
        shown.file_read("slow.pdf")
        shown.file_read("quick.txt")
        shown.documents(2)
        for _ in range(4):  # one document of 4 batches, 3 s each
            clock.now += 3
            shown.chunks_done(16)
        shown.document_done("big.txt")
        clock.now += 1
        shown.chunks_done(8)
        shown.document_done("small.txt")
    assert lines(caplog) == [
        "reading 2 new or changed file(s)",
        "read 1/2 files, 6 s",
        "read 2/2 files, 6 s",
        "embedding 2 document(s)",
        "ingested 0/2 documents, 32 chunks, 12 s",
        "ingested 0/2 documents, 64 chunks, 18 s",
        "ingested 2/2 documents, 72 chunks, 19 s",
    ]


class Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_bars_on_a_terminal_lines_elsewhere_nothing_when_quiet() -> None:
    assert isinstance(for_stream(Stream(tty=True), quiet=False), Bars)
    assert isinstance(for_stream(Stream(tty=False), quiet=False), LogLines)
    quiet = for_stream(Stream(tty=False), quiet=True)
    assert type(quiet) is Progress
