"""Sentence windows of a passage and their stored vectors (kb/windows.py), on the real embedder and store."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from kb import windows
from kb.config import Settings
from kb.ingest import ingest
from kb.judge import OPEN_GATE
from kb.retrieve import Retriever
from kb.service import KnowledgeBase
from kb.store import Store


def test_a_passage_is_cut_into_runs_of_whole_sentences():
    text = "第一句话说的是家政服务。第二句话说的是养老托育的新模式。第三句很短。" * 3
    cut = windows.windows(text, limit=40)
    assert "".join(cut) == text.replace("\n", "")
    assert all(len(w) <= 40 or w.count("。") == 1 for w in cut)
    assert all(w.endswith("。") for w in cut)  # never in the middle of a sentence
    assert windows.windows("没有句号的一行字") == ["没有句号的一行字"]


def test_stored_vectors_read_back_as_written():
    rows = np.random.default_rng(0).normal(size=(5, 8)).astype(np.float32)
    vectors = {"c1": ("h1", rows[:2]), "c2": ("h2", rows[2:])}
    back = windows.loads(windows.dumps(vectors))
    assert set(back) == {"c1", "c2"} and back["c1"][0] == "h1" and back["c2"][1].shape == (3, 8)
    assert np.allclose(back["c2"][1], rows[2:], atol=1e-2)  # half precision
    with pytest.raises(ValueError, match="not a windows blob"):
        windows.loads('{"format": 99}')


def test_a_passage_s_best_window_is_closer_to_a_question_on_one_of_its_sentences(
    settings: Settings, source_dir: Path, embedder
):
    _ingest(
        settings,
        source_dir,
        embedder,
        "关于支持小微企业的通知\n"
        "一、加大金融支持力度。对符合条件的小微企业给予贷款贴息，降低融资成本，鼓励银行增加信贷投放。"
        "二、支持托育机构发展。托育机构用水、用电、用气按居民生活类价格执行，减轻运营负担。"
        "三、加强组织领导。各地要明确责任分工，抓好政策落实，及时总结推广经验做法。\n",
    )
    retriever = Retriever(settings, embedder=embedder, ranker=False)
    question = "托儿所交电费能按家里的价格算吗？"
    found = retriever.candidates(retriever_query(question))
    hit = found.hits[0]
    [best] = retriever.window_scores([hit], found.vector)
    assert best is not None and best > (hit.dense or 0.0)  # one sentence says it; the passage says much else
    stored = Store(settings, embedder.name).doc_windows(hit.chunk.doc_id)
    assert stored is not None and hit.chunk.id in windows.loads(stored)


def test_a_damaged_windows_blob_is_named_and_the_passage_keeps_its_own_similarity(
    settings: Settings, source_dir: Path, embedder, caplog
):
    _ingest(settings, source_dir, embedder, "关于促进就业的通知\n一、对失业人员给予培训补贴。二、支持创业担保贷款。\n")
    store = Store(settings, embedder.name)
    doc_id = next(iter(store.manifest.docs))
    store.save_windows(doc_id, store.manifest.docs[doc_id]["hash"], "not json")
    retriever = Retriever(settings, embedder=embedder)
    found = retriever.candidates(retriever_query("失业了有培训补贴吗"))
    with caplog.at_level(logging.WARNING):
        assert retriever.window_scores(found.hits, found.vector) == [None] * len(found.hits)
    assert found.hits and f"window vectors of {doc_id} unreadable" in caplog.text
    assert retriever.retrieve(retriever_query("失业了有培训补贴吗"), k=3).hits  # still answered


def _ingest(settings: Settings, source_dir: Path, embedder, text: str) -> None:  # type: ignore[no-untyped-def]
    """One circular of `text` in the source folder, ingested with the real embedder."""
    (source_dir / "a.txt").write_text(text, encoding="utf-8")
    ingest([source_dir], settings, embedder=embedder)


def retriever_query(text: str):  # type: ignore[no-untyped-def]
    from kb.query import rewrite

    return rewrite(text)


def test_the_sentence_whose_window_is_closest_in_meaning_is_quoted_first(
    settings: Settings, source_dir: Path, embedder
):
    """Three sentences of a window each (kb/windows.py) share next to no word with the question; the one meaning
    what it asks leads the answer."""
    _ingest(
        settings,
        source_dir,
        embedder,
        "关于支持托育服务的通知\n"
        "一、各地要加强组织领导，明确责任分工，建立健全部门协调机制，及时研究解决工作推进中遇到的困难和问题，"
        "认真总结推广各地在实践中形成的好经验好做法。"
        "托育机构用水、用电、用气按居民生活类价格执行，减轻机构运营负担，切实降低服务成本，让更多家庭受益。"
        "各地要按规定做好统计监测工作，完善信息报送制度，定期报送工作进展情况，确保各项任务落到实处。\n",
    )
    kb = KnowledgeBase(settings, embedder=embedder, gate=OPEN_GATE)
    answer = kb.ask("娃娃托管班交水电煤气贵不贵，能不能便宜点？", log_unanswered=False)
    first_quote = answer.text.split("》：", 1)[1]  # after a yes / no lead and the source
    assert first_quote.startswith("托育机构用水、用电、用气")
