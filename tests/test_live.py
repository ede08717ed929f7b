"""Ingest while the web app serves (issue 12): real app processes, a real `python ingest.py` in another process, a
browser page open during the ingest, embedded and server mode."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import CIRCULAR_A, CIRCULAR_B, CIRCULAR_C, server_settings, start_app, stop_app

from kb.config import Settings
from kb.errors import IngestBusy
from kb.ingest import Progress, ingest
from kb.serving import LOCK_NAME, IngestService, ingest_here_or_in_app, serving_socket

NEW_DOC_NO = "国发〔2024〕7号"  # CIRCULAR_C
NEW_QUESTION = "国发〔2024〕7号对老年助餐服务怎么说？"
OLD_QUESTION = "国办发〔2024〕1号说了什么？"
SERVED_WITHIN = 10.0  # seconds after the ingest commits (the bar)


def ask(url: str, question: str) -> dict:
    from gradio_client import Client

    return Client(url, verbose=False).predict(question, api_name="/ask")


def cites(answer: dict, doc_no: str) -> bool:
    return not answer["refused"] and any(c["doc_no"] == doc_no for c in answer["citations"])


def wait_for(check: Callable[[], bool], seconds: float) -> float:
    """Seconds until `check()` held; fails after `seconds`."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > seconds:
            pytest.fail(f"not within {seconds:.0f} s")
        time.sleep(0.5)
    return time.monotonic() - started


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text(CIRCULAR_A, encoding="utf-8")
    (src / "b.txt").write_text(CIRCULAR_B, encoding="utf-8")
    return src


@pytest.fixture
def served(sources: Path, tmp_path: Path, embedder) -> Iterator[tuple[subprocess.Popen, str, Path]]:
    """The app serving an embedded store of circulars A and B: (process, url, data dir)."""
    data = tmp_path / "data"
    assert ingest([sources], Settings(data_dir=data), embedder=embedder).ok
    proc, url = start_app(data)
    yield proc, url, data
    log = stop_app(proc)
    assert "Error finding id" not in log and "Traceback" not in log, log[-3000:]


def library_titles(page) -> str:  # type: ignore[no-untyped-def]
    return page.locator("#kb-doc-table").inner_text()


@pytest.mark.slow
def test_an_ingest_by_another_process_is_served_without_a_restart_embedded(served, tmp_path, run_cli, browser):
    _proc, url, data = served
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url)
    page.get_by_role("tab", name="文件库").click()
    page.wait_for_function("document.querySelector('#kb-doc-table').innerText.includes('国办发')", timeout=60_000)
    assert "银发经济" not in library_titles(page)
    assert cites(ask(url, OLD_QUESTION), "国办发〔2024〕1号")

    new = tmp_path / "new"
    new.mkdir()
    (new / "c.txt").write_text(CIRCULAR_C, encoding="utf-8")
    done = run_cli(new, "--data-dir", data)
    finished = time.monotonic()
    assert done.returncode == 0, done.stderr
    assert "added: 1" in done.stdout and "web app" in done.stderr  # handed to the app, and said so

    waited = wait_for(lambda: cites(ask(url, NEW_QUESTION), NEW_DOC_NO), SERVED_WITHIN - (time.monotonic() - finished))
    assert waited + (time.monotonic() - finished) <= SERVED_WITHIN + 1
    assert cites(ask(url, OLD_QUESTION), "国办发〔2024〕1号")  # the old documents keep working
    # The open page follows without a reload: the library lists the new circular.
    page.wait_for_function(
        "document.querySelector('#kb-doc-table').innerText.includes('银发经济')", timeout=SERVED_WITHIN * 1000
    )
    page.close()
    # No dense search failed in the app (the `served` fixture checks its log for chromadb's "Error finding id",
    # which every question on the new 文号 raised before the hand-over); the stored library lists the new circular.
    listing = json.loads(run_cli("--list", "--json", "--data-dir", data).stdout)
    assert NEW_DOC_NO in {row["doc_no"] for row in listing}


@pytest.mark.slow
def test_a_handed_over_ingest_reports_a_bad_file_by_name_and_keeps_what_was_stored(served, tmp_path, run_cli):
    _proc, url, data = served
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "broken.pdf").write_bytes(b"%PDF-1.4 this is not a pdf")
    (bad / "c.txt").write_text(CIRCULAR_C, encoding="utf-8")
    done = run_cli(bad, "--data-dir", data)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "broken.pdf" in done.stdout and "added: 1" in done.stdout
    assert cites(ask(url, OLD_QUESTION), "国办发〔2024〕1号")
    wait_for(lambda: cites(ask(url, NEW_QUESTION), NEW_DOC_NO), SERVED_WITHIN)


@pytest.mark.slow
def test_an_ingest_by_another_host_is_served_without_a_restart_server_mode(chroma_server, sources, tmp_path, embedder):
    host = server_settings(chroma_server, tmp_path / "host")
    assert ingest([sources], host, embedder=embedder).ok
    env = {"KB_CHROMA_URL": chroma_server, "KB_COLLECTION": host.collection}
    proc, url = start_app(tmp_path / "replica", env)
    try:
        assert cites(ask(url, OLD_QUESTION), "国办发〔2024〕1号")
        (sources / "c.txt").write_text(CIRCULAR_C, encoding="utf-8")
        report = ingest([sources], host, embedder=embedder)  # another process: the ingest host
        assert report.added and report.ok
        finished = time.monotonic()
        wait_for(lambda: cites(ask(url, NEW_QUESTION), NEW_DOC_NO), SERVED_WITHIN)
        assert time.monotonic() - finished <= SERVED_WITHIN + 1
        assert cites(ask(url, OLD_QUESTION), "国办发〔2024〕1号")
    finally:
        log = stop_app(proc)
    assert "Traceback" not in log, log[-3000:]


def test_without_a_serving_app_the_ingest_runs_here_even_after_an_app_stopped(sources, tmp_path, embedder):
    settings = Settings(data_dir=tmp_path / "data")
    settings.data_dir.mkdir()
    (settings.data_dir / LOCK_NAME).write_text('{"pid": 1, "socket": "/nonexistent"}\n')  # left by a stopped app
    assert serving_socket(settings) is None
    report = ingest_here_or_in_app([sources], settings, progress=Progress())
    assert report.ok and len(report.added) == 2


def test_a_second_app_on_the_same_data_dir_does_not_take_the_ingests(sources, tmp_path, embedder):
    settings = Settings(data_dir=tmp_path / "data")
    assert ingest([sources], settings, embedder=embedder).ok
    first, second = IngestService(settings, embedder), IngestService(settings, embedder)
    try:
        assert first.start()
        assert not second.start()
        assert serving_socket(settings) is not None
    finally:
        first.stop()
    assert serving_socket(settings) is None


def test_an_app_whose_socket_does_not_answer_is_named_not_bypassed(sources, tmp_path, embedder):
    """The store must not be written behind a serving app's back: the ingest stops with a clear message."""
    settings = Settings(data_dir=tmp_path / "data")
    assert ingest([sources], settings, embedder=embedder).ok
    service = IngestService(settings, embedder)
    assert service.start()
    try:
        assert service._server is not None
        service._server.shutdown()
        service._server.server_close()
        Path(str(service._server.server_address)).unlink()
        service._server = None
        with pytest.raises(IngestBusy, match="does not answer"):
            ingest_here_or_in_app([sources], settings)
    finally:
        service.stop()


def test_the_app_runs_a_handed_over_job_and_returns_its_errors_by_kind(sources, tmp_path, embedder):
    settings = Settings(data_dir=tmp_path / "data")
    assert ingest([sources], settings, embedder=embedder).ok
    reloaded: list[int] = []
    service = IngestService(settings, embedder, after=lambda report: reloaded.append(len(report.added)))
    assert service.start()
    try:
        (sources / "c.txt").write_text(CIRCULAR_C, encoding="utf-8")
        seen: list[str] = []

        class Seen(Progress):
            def document_done(self, path: str) -> None:
                seen.append(path)

        report = ingest_here_or_in_app([sources], settings, progress=Seen())
        assert [Path(p).name for p in report.added] == ["c.txt"] and len(report.unchanged) == 2
        assert reloaded == [1] and any(p.endswith("c.txt") for p in seen)
        from kb.errors import ConfigError

        with pytest.raises(ConfigError, match="no such file"):
            ingest_here_or_in_app([tmp_path / "missing"], settings)
    finally:
        service.stop()


def test_the_socket_folder_must_be_private(tmp_path, monkeypatch):
    """A folder others may write to could hold someone else's socket: the app and the CLI refuse to use it."""
    from kb.serving import _socket_path

    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    folder = tmp_path / f"kb-{os.getuid()}"
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)
    with pytest.raises(IngestBusy, match="not a private folder"):
        _socket_path(tmp_path / "data")
    folder.chmod(0o700)
    assert _socket_path(tmp_path / "data").parent == folder
