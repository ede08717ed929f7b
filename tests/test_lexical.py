"""kb/lexical.py: one jieba tokenizer with the policy-term dictionary, and a BM25 index persisted as JSON."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.lexical import LexicalIndex, Tokenizer
from kb.types import Chunk, DocMeta


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer()


def make_chunk(doc_id: str, seq: int, text: str, title: str = "测试通知") -> Chunk:
    meta = DocMeta(doc_id=doc_id, title=title, doc_no=doc_id if "〔" in doc_id else "")
    return Chunk(f"{doc_id}:{seq}", doc_id, seq, text, "", 0, len(text), None, meta, doc_hash="h-" + doc_id)


def test_policy_terms_stay_whole(tokenizer: Tokenizer) -> None:
    tokens = tokenizer.tokenize("创业担保贷款贴息和政府性融资担保")
    assert "创业担保贷款" in tokens and "贴息" in tokens and "政府性融资担保" in tokens


def test_a_doc_number_is_one_canonical_token(tokenizer: Tokenizer) -> None:
    for raw in ("发改办高技[2020]244号", "发改办高技（2020）244号", "发改办高技〔２０２０〕２４４号"):
        assert "发改办高技〔2020〕244号" in tokenizer.tokenize(raw)
        assert "发改办高技〔2020〕244号" in tokenizer.tokenize(f"{raw}的主要内容是什么？")
        assert "发改办高技〔2020〕244号" in tokenizer.tokenize(f"关于《…》（{raw}）的解读")


@pytest.mark.parametrize("question", ["请问国发〔2019〕4号的主要内容", "根据国发[2019]4号要求", "想了解国发(2019)4号"])
def test_a_doc_number_inside_a_question_is_found(tokenizer: Tokenizer, question: str) -> None:
    assert "国发〔2019〕4号" in tokenizer.tokenize(question)


def test_stop_words_and_punctuation_are_dropped(tokenizer: Tokenizer) -> None:
    tokens = tokenizer.tokenize("请问，关于家政服务的补贴是多少？")
    assert "家政服务" in tokens
    for noise in ("请问", "关于", "的", "是", "，", "？"):
        assert noise not in tokens


def test_indexing_and_querying_share_the_tokenizer(tokenizer: Tokenizer) -> None:
    text = "对新招用家政服务人员的企业给予一次性补贴"
    assert tokenizer.tokenize(text) == Tokenizer().tokenize(text)


def test_search_remove_save_and_reload(tmp_path: Path) -> None:
    path = tmp_path / "lexical" / "bm25.json"
    index = LexicalIndex(path)
    index.add(
        [
            make_chunk("国发〔2024〕1号", 0, "国发〔2024〕1号\n对新招用家政服务人员的企业，每人给予500元一次性补贴。"),
            make_chunk("国发〔2024〕1号", 1, "支持家政企业开展职业技能培训。"),
            make_chunk("赣府发〔2023〕9号", 0, "对新增托位给予每个1万元建设补助。", title="托育意见"),
        ]
    )
    assert index.search("家政服务补贴")[0][0] == "国发〔2024〕1号:0"
    assert [cid for cid, _ in index.search("托位补助")] == ["赣府发〔2023〕9号:0"]
    assert index.search("国发[2024]1号")[0][0].startswith("国发〔2024〕1号")
    assert {cid for cid, _ in index.search("补贴 补助", allowed_docs={"赣府发〔2023〕9号"})} == {"赣府发〔2023〕9号:0"}
    assert index.search("托育意见")[0][0] == "赣府发〔2023〕9号:0"  # the header (title) is indexed too

    index.remove_doc("国发〔2024〕1号")
    assert index.doc_ids() == {"赣府发〔2023〕9号"}
    assert index.search("家政服务") == []
    index.save()

    reloaded = LexicalIndex(path)
    assert len(reloaded) == 1
    assert reloaded.chunk("赣府发〔2023〕9号:0") == make_chunk(
        "赣府发〔2023〕9号", 0, "对新增托位给予每个1万元建设补助。", title="托育意见"
    )
    assert reloaded.search("托位")[0][0] == "赣府发〔2023〕9号:0"


def test_an_empty_index_finds_nothing(tmp_path: Path) -> None:
    assert LexicalIndex(tmp_path / "none.json").search("家政服务") == []


def test_a_typo_is_corrected_only_to_a_word_that_sounds_alike(tmp_path: Path) -> None:
    """Pinyin input makes typos by sound: 担宝 is 担保 and 浮化 孵化; 有个 is no typo of 有效, nor 带娃 of 带动."""
    index = LexicalIndex(tmp_path / "bm25.json")
    text = "政府性融资担保机构要强化对创业孵化基地的支持，有效带动就业。融资担保和孵化服务都要强化。"
    index.add([make_chunk("国发〔2018〕39号", 0, text)])
    assert index.correct("担宝") == "担保" and index.correct("浮化") == "孵化"  # not the commoner 强化
    assert index.correct("有个") is None and index.correct("带娃") is None
    assert index.correct("担保") is None  # a word the index knows is no typo
