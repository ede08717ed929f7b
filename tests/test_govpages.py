"""Pages of the State Council's policy library read right: the metadata table (kb/fields.py, kb/load.py) and, without
one, titles that wrap, regulation numbers, local regions, short documents' sections and their signatures."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from kb import answer
from kb.clean import clean, is_signature_line
from kb.fields import read_cells
from kb.ingest import _parse
from kb.load import load
from kb.meta import canonical_doc_no, doc_numbers_in, extract
from kb.query import Query
from kb.region import province_of, within
from kb.retrieve import Filters
from kb.split import split
from kb.types import Chunk, DocMeta, Hit, SourceDoc

PAGES = Path(__file__).parent / "fixtures" / "govcn-pages"
EXPECTED = {
    row["file"]: row for row in map(json.loads, (PAGES / "expected.jsonl").read_text(encoding="utf-8").splitlines())
}
FIELDS = ("title", "doc_no", "issuer", "signed", "published")


def meta_of(text: str, *, title_hint: str | None = None, fmt: str = "txt") -> DocMeta:
    return extract(clean(SourceDoc(path="doc.txt", text=text, content_hash="h", format=fmt, title_hint=title_hint)))


def page(tmp_path: Path, body: str, title: str = "测试页面_政府信息公开专栏") -> Path:
    path = tmp_path / "page.html"
    path.write_text(f"<html><head><meta charset='utf-8'><title>{title}</title></head><body>{body}</body></html>")
    return path


# --- the six real pages -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_sample_page_gets_what_its_metadata_table_says(name: str) -> None:
    doc, meta = _parse(PAGES / name, name)  # load, clean and meta, as `python ingest.py` does
    assert {f: getattr(meta, f) for f in FIELDS} == {f: EXPECTED[name][f] for f in FIELDS}
    assert meta.region == "国家" and meta.topic  # 主题分类, e.g. 市场监管、安全生产监管\工商
    assert "\\\\" not in meta.topic  # the crawl's doubled backslash is single again
    assert "索引号" not in doc.text and "主题分类" not in doc.text  # the table is not the document's text


def test_the_topic_and_the_regulation_number_of_the_decree_page() -> None:
    _doc, meta = _parse(PAGES / "33.html", "33.html")
    assert (meta.doc_id, meta.doc_no, meta.kind) == ("国令第707号", "国令第707号", "条例")
    assert meta.topic == "财政、金融、审计\\税务"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_without_the_table_the_text_still_gives_title_number_issuer_and_date(name: str) -> None:
    """What the pages' texts say without the table: each title wraps over two lines, 33 is a decree (国务院令 over
    第707号, signed by the premier), 32 ends with its attachment, 26 is dated 二〇〇六年十月十八日."""
    doc = clean(load(PAGES / name))
    meta = extract(replace(doc, fields=()))
    assert {f: getattr(meta, f) for f in FIELDS[:4]} == {f: EXPECTED[name][f] for f in FIELDS[:4]}
    if name != "33.html":  # the decree's first lines are 「中华人民共和国国务院令」「第707号」, not its title
        assert extract(replace(doc, fields=(), title_hint=None)).title == EXPECTED[name]["title"]


# --- other markups of the table -----------------------------------------------------------------------------------

BODY = (
    "<div id='UCAP-CONTENT'><p>国务院办公厅关于测试工作的通知</p><p>各省、自治区、直辖市人民政府：</p>"
    "<p>为做好测试工作，根据《国务院关于促进就业的意见》（国发〔2018〕39号），现就有关事项通知如下。</p>"
    "<p>一、总体要求</p><p>认真做好各项工作，确保取得实效。</p><p>二、工作措施</p><p>加强组织领导，落实工作责任。</p>"
    "<p>国务院办公厅</p><p>2020年1月3日</p></div>"
)
VARIANTS = {
    "th labels, no colons, ISO and dotted dates": (
        "<table><tr><th>索引号</th><td>000014349/2020-00001</td><th>主题分类</th><td>劳动、人事、监察\\\\就业</td></tr>"
        "<tr><th>发文机关</th><td>国务院办公厅</td><th>成文日期</th><td>2020-01-03</td></tr>"
        "<tr><th>标题</th><td colspan='3'>国务院办公厅关于测试工作的通知</td></tr>"
        "<tr><th>发文字号</th><td>国办发〔2020〕1号</td><th>发布日期</th><td>2020.1.9</td></tr></table>"
    ),
    "label and value in one cell, ASCII and full-width colons, spaced labels": (
        "<table><tr><td>索 引 号: 000014349/2020-00001</td><td>主题分类：劳动、人事、监察</td></tr>"
        "<tr><td>发文机关: 国务院办公厅</td><td>成 文 日 期：2020年01月03日</td></tr>"
        "<tr><td colspan='2'>标　　题：国务院办公厅关于测试工作的通知</td></tr>"
        "<tr><td>发文字号:国办发〔2020〕1号</td><td>发布日期:2020年01月09日</td></tr></table>"
    ),
    "spans in divs, two fields in one paragraph": (
        "<div class='xxgk'><p><span>标题：</span><span>国务院办公厅关于<span>测试工作</span>的通知</span></p>"
        "<p><span>发文机关：</span><span>国务院办公厅</span>　<span>主题分类：</span><span>劳动、人事、监察</span></p>"
        "<p><b>发文字号：</b>国办发〔2020〕1号　<b>成文日期：</b>2020年1月3日　<b>发布日期：</b>2020年1月9日</p></div>"
    ),
    "nested tables, bold labels, other names (发布机构, 文号, 发布时间)": (
        "<table><tr><td><table><tr><td><table>"
        "<tr><td><b>标 题：</b></td><td>国务院办公厅关于测试工作的通知</td></tr>"
        "<tr><td><b>发布机构：</b></td><td><span>国务院办公厅</span></td>"
        "<td><b>文　号：</b></td><td>国办发〔2020〕1号</td></tr>"
        "<tr><td><b>成文日期：</b></td><td>2020年01月03日</td><td><b>发布时间：</b></td><td>2020-01-09 10:30</td></tr>"
        "</table></td></tr></table></td></tr></table>"
    ),
    "a definition list, labels in dt and values in dd": (
        "<dl class='info'><dt>索引号：</dt><dd>000014349/2020-00001</dd><dt>发文机关：</dt><dd>国务院办公厅</dd>"
        "<dt>标题：</dt><dd>国务院办公厅关于测试工作的通知</dd><dt>发文字号：</dt><dd>国办发〔2020〕1号</dd>"
        "<dt>成文日期：</dt><dd>2020年1月3日</dd><dt>发布日期：</dt><dd>2020年1月9日</dd></dl>"
    ),
}


@pytest.mark.parametrize("body", VARIANTS.values(), ids=VARIANTS.keys())
def test_other_markups_of_the_metadata_table(tmp_path: Path, body: str) -> None:
    doc, meta = _parse(page(tmp_path, body + BODY), "page.html")
    assert {f: getattr(meta, f) for f in (*FIELDS, "region")} == {
        "title": "国务院办公厅关于测试工作的通知",
        "doc_no": "国办发〔2020〕1号",
        "issuer": "国务院办公厅",
        "signed": "2020-01-03",
        "published": "2020-01-09",
        "region": "国家",
    }
    assert "发文机关" not in doc.text and doc.text.startswith("国务院办公厅关于测试工作的通知")


@pytest.mark.parametrize("empty", ["", "无", "—"])
def test_an_empty_doc_number_in_the_table_is_no_doc_number(tmp_path: Path, empty: str) -> None:
    table = (
        "<table><tr><td>发文机关：</td><td>国务院办公厅</td><td>成文日期：</td><td>2020年01月03日</td></tr>"
        "<tr><td>标题：</td><td>国务院办公厅关于测试工作的通知</td></tr>"
        f"<tr><td>发文字号：</td><td>{empty}</td><td>发布日期：</td><td>2020年01月09日</td></tr></table>"
    )
    body = BODY.replace("<p>各省", "<p>国发〔2018〕39号</p><p>各省")  # a 文号 line of its own in the head: not this
    _doc, meta = _parse(page(tmp_path, table + body), "page.html")
    assert (meta.doc_no, meta.published, meta.doc_id[0]) == ("", "2020-01-09", "h")


def test_a_table_inside_the_article_is_read_and_taken_out_of_its_text(tmp_path: Path) -> None:
    table = (
        "<table><tr><td>发文机关</td><td>国务院办公厅</td><td>发文字号</td><td>国办发〔2020〕1号</td></tr>"
        "<tr><td>成文日期</td><td>2020年01月03日</td><td>发布日期</td><td>2020年01月09日</td></tr></table>"
    )
    body = BODY.replace("<div id='UCAP-CONTENT'>", "<div id='UCAP-CONTENT'>" + table)
    doc, meta = _parse(page(tmp_path, body, title="国务院办公厅关于测试工作的通知"), "page.html")
    assert (meta.doc_no, meta.signed, meta.published) == ("国办发〔2020〕1号", "2020-01-03", "2020-01-09")
    assert doc.text.startswith("国务院办公厅关于测试工作的通知\n各省") and "发文字号" not in doc.text


def test_column_heads_over_a_list_of_documents_are_no_metadata_table() -> None:
    cells = ["序号", "文件名称", "文号", "发文机关", "1", "关于甲的通知", "国发〔2018〕1号", "国务院"]
    assert read_cells(cells) == {}
    assert read_cells(["发布时间：2020-01-09", "来源：中国政府网"]) == {}  # one field is no table either


# --- without a table ----------------------------------------------------------------------------------------------

NANCHANG = """南昌市人力资源和社会保障局
南昌市财政局
关于印发南昌市就业补助资金
管理办法的通知
洪人社发〔2020〕12号
各县（区）人力资源和社会保障局、财政局：
现将《南昌市就业补助资金管理办法》印发给你们，请认真贯彻执行。
一、补助对象
登记失业人员和高校毕业生。
二、补助标准
每人每月补助500元。
特此通知。
南昌市人力资源和社会保障局
南昌市财政局
2020年3月1日
（此件公开发布）
"""


def test_a_title_wrapped_over_lines_is_taken_whole_with_its_issuers() -> None:
    meta = meta_of(NANCHANG)
    assert meta.title == "南昌市人力资源和社会保障局南昌市财政局关于印发南昌市就业补助资金管理办法的通知"
    assert (meta.doc_no, meta.signed, meta.kind) == ("洪人社发〔2020〕12号", "2020-03-01", "通知")
    # … and a title that ends in a kind of document on its first line (…暂行办法) goes on with 「的通知」.
    text = "国务院关于印发个人所得税专项附加扣除暂行办法\n的通知\n国发〔2018〕41号\n各省人民政府：\n正文。\n"
    assert meta_of(text).title == "国务院关于印发个人所得税专项附加扣除暂行办法的通知"
    text = "国务院关于测试工作的通知\n国务院办公厅\n2020年1月3日\n各省人民政府：\n正文。\n"
    assert meta_of(text).title == "国务院关于测试工作的通知"  # a whole title does not take the next line


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("国令第707号", "国令第707号"),
        ("国务院令第707号", "国令第707号"),
        ("中华人民共和国国务院令 第707号", "国令第707号"),
        ("人力资源和社会保障部令第43号", "人力资源和社会保障部令第43号"),
        ("国家发展改革委第29号令", "国家发展改革委令第29号"),
        ("国家税务总局公告2019年第1号", "国家税务总局公告2019年第1号"),
        ("财政部 税务总局公告2019年第39号", "财政部税务总局公告2019年第39号"),
        ("发改办高技[2020]244号", "发改办高技〔2020〕244号"),
    ],
)
def test_regulation_and_announcement_numbers_are_doc_numbers(raw: str, canonical: str) -> None:
    assert canonical_doc_no(raw) == canonical


def test_a_decree_number_in_a_question_and_in_a_head() -> None:
    assert "国令第707号" in doc_numbers_in("请问国务院令第707号讲了什么？")
    assert doc_numbers_in("1994年1月28日中华人民共和国国务院令第142号发布") == ["国令第142号"]
    decree = "中华人民共和国国务院令\n第707号\n现公布《某某条例》，自2019年1月1日起施行。\n总理　李克强\n2018年12月18日"
    meta = meta_of(decree)
    assert (meta.doc_no, meta.issuer, meta.signed) == ("国令第707号", "国务院", "2018-12-18")


@pytest.mark.parametrize(
    ("issuer", "region"),
    [
        ("南昌市人力资源和社会保障局", "江西省南昌市"),
        ("中共南昌市委办公厅", "江西省南昌市"),
        ("江西省南昌市人民政府", "江西省南昌市"),
        ("江西省人力资源和社会保障厅", "江西省"),
        ("吉林市人民政府", "吉林省吉林市"),  # the city, not the province of the same name
        ("海南藏族自治州人民政府", "青海省海南藏族自治州"),  # not 海南省
        ("深圳市人力资源和社会保障局", "广东省深圳市"),
        ("北京市海淀区人民政府", "北京市"),
    ],
)
def test_a_local_issuer_gives_its_province_and_city(issuer: str, region: str) -> None:
    meta = meta_of(f"关于做好就业工作的通知\n各有关单位：\n现将有关事项通知如下。\n{issuer}\n2020年3月1日\n")
    assert (meta.issuer, meta.region) == (issuer, region)


def test_a_city_region_lies_in_its_province() -> None:
    assert meta_of(NANCHANG).region == "江西省南昌市"
    assert province_of("江西省南昌市") == "江西省" and province_of("国家") == "国家"
    assert within("江西省南昌市", "江西省") and within("江西省", "江西省") and not within("江西省", "江西省南昌市")
    assert Filters(region="江西省").admits({"doc_id": "x", "region": "江西省南昌市", "signed": ""})
    assert not Filters(region="江西省九江市").admits({"doc_id": "x", "region": "江西省南昌市", "signed": ""})


# --- short documents' sections, signatures ------------------------------------------------------------------------


def test_a_short_document_gets_its_sections() -> None:
    doc = clean(SourceDoc(path="doc.txt", text=NANCHANG, content_hash="h", format="txt"))
    chunks = split(doc, extract(doc), 300, 60)
    section = {marker: next(c.section for c in chunks if marker in c.text) for marker in ("登记失业人员", "每人每月")}
    assert section == {"登记失业人员": "一、补助对象", "每人每月": "二、补助标准"}


def test_the_holiday_notice_gets_a_section_for_each_holiday() -> None:
    doc, meta = _parse(PAGES / "38.html", "38.html")
    chunks = split(doc, meta, 300, 60)
    assert next(c for c in chunks if "4月5日放假" in c.text).section.startswith("三、清明节")
    assert next(c for c in chunks if "5月1日放假" in c.text).section == "四、劳动节：5月1日放假"


def test_signature_lines_are_never_quoted() -> None:
    doc = clean(SourceDoc(path="doc.txt", text=NANCHANG, content_hash="h", format="txt"))
    meta = extract(doc)
    tail = next(c for c in split(doc, meta, 300, 60) if "2020年3月1日" in c.text)
    question = "南昌市人力资源和社会保障局南昌市财政局2020年3月1日发布的特此通知"  # the signature's own words
    query = Query(original=question, text=question)
    hits = [Hit(tail, 1.0, dense=0.9)]
    sentences = answer.score_sentences(query, hits, tokenize=lambda t: list(t), idf=lambda _t: 1.0)
    assert sentences and not any(is_signature_line(s.text) for s in sentences)
    text, _cited = answer.compose(query, hits, sentences, k=1)
    assert "南昌市财政局" not in text.split("：", 1)[-1] and "2020年3月1日" not in text and "公开发布" not in text


@pytest.mark.parametrize(
    "line",
    [
        "南昌市人力资源和社会保障局南昌市财政局",
        "国务院办公厅",
        "2020年3月1日",
        "二〇〇六年十月十八日",
        "（此件公开发布）",
        "总理　李克强",
    ],
)
def test_signature_lines(line: str) -> None:
    assert is_signature_line(line)


@pytest.mark.parametrize("line", ["各地要认真贯彻执行。", "一、补助对象", "每人每月补助500元。", "四、劳动节：放假"])
def test_content_is_no_signature(line: str) -> None:
    assert not is_signature_line(line)


def test_a_chunk_carries_the_topic_through_the_store_metadata() -> None:
    meta = DocMeta(doc_id="国令第707号", title="条例", doc_no="国令第707号", topic="财政、金融、审计\\税务")
    chunk = Chunk("国令第707号:0", "国令第707号", 0, "正文。", "", 0, 3, None, meta)
    assert Chunk.from_metadata(chunk.id, chunk.text, chunk.metadata()).meta.topic == "财政、金融、审计\\税务"
