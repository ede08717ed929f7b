"""kb/llm.py and the LLM path of kb/service.py.

No LLM service can run here, so these tests talk to tests/fake_llm.py, a local HTTP server that speaks the
OpenAI chat-completions protocol (streamed and not). They check the protocol and the verification of replies —
markers, renumbering, facts that must appear in the cited passages, fallbacks — not the quality of any model.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from fake_llm import FakeLLM

from kb.config import Settings
from kb.llm import verify
from kb.query import Turn
from kb.service import KnowledgeBase
from kb.types import Chunk, DocMeta, Hit

META = DocMeta(
    doc_id="国发〔2018〕39号", title="国务院关于做好当前和今后一个时期促进就业工作的若干意见", doc_no="国发〔2018〕39号"
)


def hit(seq: int, text: str) -> Hit:
    chunk = Chunk(f"国发〔2018〕39号:{seq}", META.doc_id, seq, text, "二、鼓励支持就业创业", 0, len(text), None, META)
    return Hit(chunk, 1.0 / (seq + 1))


HITS = [
    hit(0, "符合创业担保贷款申请条件的人员自主创业的，可申请最高不超过15万元的创业担保贷款。"),
    hit(1, "从2019年1月1日起，实施三年百万青年见习计划，将就业见习补贴范围扩展至16—24岁失业青年。"),
    hit(2, "对符合条件的企业，返还其上年度实际缴纳失业保险费的50%。"),
]


def test_a_faithful_reply_passes_and_is_renumbered_by_first_use():
    checked = verify("失业保险费可返还50%[3]；自主创业最高可贷15万元[1]。", HITS)
    assert checked.ok
    assert checked.text == "失业保险费可返还50%[1]；自主创业最高可贷15万元[2]。"
    assert [h.chunk.seq for h in checked.citations] == [2, 0]


def test_unknown_markers_are_removed():
    checked = verify("自主创业最高可贷15万元[1][7]。", HITS)
    assert checked.ok and checked.text == "自主创业最高可贷15万元[1]。"


def test_an_amount_not_in_the_cited_passage_fails_the_check():
    checked = verify("自主创业最高可贷20万元[1]。", HITS)
    assert not checked.ok and "20万元" in checked.reason


def test_a_fact_from_an_uncited_passage_fails_the_check():
    checked = verify("失业保险费可返还50%[1]。", HITS)  # 50% is in passage 3, not passage 1
    assert not checked.ok


def test_a_date_must_appear_in_the_cited_passage():
    assert verify("见习计划从2019年1月起实施[2]。", HITS).ok
    assert not verify("见习计划从2020年1月起实施[2]。", HITS).ok


def test_a_reply_without_citations_fails_the_check():
    assert not verify("可以贷款。", HITS).ok


def test_the_models_refusal_is_recognised():
    checked = verify("知识库中没有找到相关政策。", HITS)
    assert checked.refused


@pytest.fixture
def llm_kb(corpus_store: Settings):
    with FakeLLM() as server:
        settings = replace(corpus_store, llm_base_url=server.url, llm_model="fake-qwen", llm_api_key="test-key")
        yield KnowledgeBase(settings), server


def test_the_llm_is_called_streamed_with_the_passages_and_its_verified_reply_is_returned(llm_kb):
    kb, server = llm_kb
    server.replies.append("符合条件的个人自主创业可申请最高不超过15万元的创业担保贷款[1]。")
    pieces = list(kb.ask_stream("个人自主创业最多能申请多少创业担保贷款？", log_unanswered=False))
    partial = [text for text, final in pieces if final is None]
    final = pieces[-1][1]
    assert len(partial) >= 2  # streamed in pieces
    assert final is not None and not final.refused and final.note == "llm"
    assert final.text == "符合条件的个人自主创业可申请最高不超过15万元的创业担保贷款[1]。"
    assert "15万元" in final.citations[0].chunk.text
    request = server.requests[-1]
    assert request["model"] == "fake-qwen" and request["stream"] is True
    system, user = request["messages"][0]["content"], request["messages"][1]["content"]
    assert "[编号]" in system and "知识库中没有找到相关政策" in system
    assert "[1]" in user and "个人自主创业最多能申请多少创业担保贷款？" in user


def test_an_invented_amount_falls_back_to_the_extractive_answer_with_a_note(llm_kb):
    kb, server = llm_kb
    server.replies.append("个人自主创业最高可贷50万元[1]。")
    answer = kb.ask("个人自主创业最多能申请多少创业担保贷款？", log_unanswered=False)
    assert answer.note.startswith("llm-rejected")
    assert answer.text.startswith("（生成式回答未通过原文核验")
    assert "50万元" not in answer.text and "[1]" in answer.text


def test_the_llm_is_not_asked_when_the_evidence_is_too_weak(llm_kb):
    kb, server = llm_kb
    answer = kb.ask("今天北京天气怎么样？", log_unanswered=False)
    assert answer.refused and server.requests == []


def test_a_follow_up_is_rewritten_by_the_llm_when_one_is_configured(llm_kb):
    kb, server = llm_kb
    server.replies.extend(["个人创业担保贷款最多能贷多少？", "最高不超过15万元[1]。"])
    answer = kb.ask(
        "这个贷款最多多少？", history=[Turn("个人创业担保贷款的申请条件是什么？", "……")], log_unanswered=False
    )
    rewrite_request = server.requests[0]
    assert "追问：这个贷款最多多少？" in rewrite_request["messages"][1]["content"]
    assert not answer.refused and "15万元" in answer.citations[0].chunk.text


def test_an_unreachable_llm_falls_back_to_the_extractive_answer(corpus_store: Settings):
    settings = replace(corpus_store, llm_base_url="http://127.0.0.1:9/v1", llm_model="none")
    answer = KnowledgeBase(settings).ask("个人自主创业最多能申请多少创业担保贷款？", log_unanswered=False)
    assert not answer.refused and answer.note.startswith("llm-error") and "[1]" in answer.text
