"""kb/meta.py: title, 文号, issuer, dates, region and kind read from each document's own text."""

from __future__ import annotations

import pytest
from conftest import CORPUS, CORPUS_META

from kb.clean import clean
from kb.meta import canonical_doc_no, doc_id_for, extract, iso_date, text_fingerprint
from kb.types import SourceDoc

FIELDS = ("title", "doc_no", "issuer", "signed", "published", "region", "kind")


def meta_of(text: str, *, path: str = "doc.txt", title_hint: str | None = None, fmt: str = "txt"):
    return extract(clean(SourceDoc(path=path, text=text, content_hash="h", format=fmt, title_hint=title_hint)))


# --- the product corpus -------------------------------------------------------------------------------------------


def test_the_expected_table_covers_the_whole_corpus() -> None:
    assert sorted(p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*.*")) == sorted(CORPUS_META)


@pytest.mark.parametrize("name", sorted(CORPUS_META))
def test_corpus_metadata_exactly(corpus_docs, name: str) -> None:
    doc = corpus_docs[name]
    meta = extract(doc)
    assert {f: getattr(meta, f) for f in FIELDS} == CORPUS_META[name]
    assert meta.source == str(CORPUS / name)
    expected_id = CORPUS_META[name]["doc_no"] or "h" + text_fingerprint(doc.text)[:16]
    assert meta.doc_id == expected_id


def test_a_quoted_doc_number_is_not_the_documents_own(corpus_docs) -> None:
    table = corpus_docs["pdf/jiangxi_rongque-shenpi-chengnuozhi-shixiang-qingdan_fujian1.pdf"]
    assert "赣府发〔2017〕7号" in table.text  # quoted in a cell …
    assert extract(table).doc_no == ""  # … but not its own
    meta = meta_of(
        "关于做好融资担保工作的通知\n各省人民政府：\n根据《国务院关于促进融资担保行业加快发展的意见》（国发〔2015〕43号），"
        "现就有关事项通知如下。\n一、总体要求\n做好工作。\n"
    )
    assert meta.doc_no == ""
    assert meta.doc_id.startswith("h")


# --- 文号 and dates -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "发改办高技[2020]244号",
        "发改办高技(2020)244号",
        "发改办高技（2020）244号",
        "发改办高技〔2020〕244号",
        "发改办高技［2020］244号",
        "发改办高技【2020】244号",
        "发改办高技〔２０２０〕２４４号",
        "发改办高技 〔 2020 〕 244 号",
        "文号：发改办高技[2020]244号",
    ],
)
def test_canonical_doc_no(raw: str) -> None:
    assert canonical_doc_no(raw) == "发改办高技〔2020〕244号"


@pytest.mark.parametrize("raw", ["", "无文号", "2020年3月26日", "〔2020〕244号", "发改办高技2020年244号"])
def test_no_doc_no(raw: str) -> None:
    assert canonical_doc_no(raw) == ""


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("2020年3月26日", "2020-03-26"),
        ("2020年03月26日", "2020-03-26"),
        ("2020 年 3 月 26 日", "2020-03-26"),
        ("成文日期：2018年11月16日", "2018-11-16"),
        ("2020-3-26", "2020-03-26"),
        ("2020/03/26", "2020-03-26"),
        ("2020.3.26", "2020-03-26"),
        ("二〇〇六年十月十八日", "2006-10-18"),
        ("二〇二〇年三月二十六日", "2020-03-26"),
        ("二〇一九年十二月三十一日", "2019-12-31"),
        ("2020年13月1日", ""),
        ("2020年0月1日", ""),
        ("无日期", ""),
        ("", ""),
    ],
)
def test_iso_date(raw: str, iso: str) -> None:
    assert iso_date(raw) == iso


@pytest.mark.parametrize("raw", ["2020年2月30日", "2021年4月31日", "2019-02-29"])
def test_iso_date_rejects_impossible_dates(raw: str) -> None:
    assert iso_date(raw) == ""


def test_doc_id_is_the_doc_no_or_a_text_hash() -> None:
    assert doc_id_for("国发〔2019〕4号", "任何文本") == "国发〔2019〕4号"
    assert doc_id_for("", "正文") == "h" + text_fingerprint("正文")[:16]
    # The same text however it was saved: white space and punctuation do not count.
    assert text_fingerprint("一、总体要求\n做好工作。") == text_fingerprint("一、 总体要求 做好工作.")
    assert text_fingerprint("做好工作") != text_fingerprint("做好就业工作")


# --- titles, issuers, regions, kinds ------------------------------------------------------------------------------


def test_rubbish_pdf_title_metadata_is_ignored(corpus_docs) -> None:
    table = corpus_docs["pdf/jiangxi_rongque-shenpi-chengnuozhi-shixiang-qingdan_fujian1.pdf"]
    assert table.title_hint is None  # its /Title is 标题
    assert extract(table).title == "江西省投资项目“容缺审批+承诺制”办理模式事项清单"


def test_a_useful_title_hint_picks_the_title_line() -> None:
    text = "索引号：000014349/2024-00001\n国务院关于测试工作的通知\n国发〔2024〕5号\n各省人民政府：\n正文。\n"
    meta = meta_of(text, title_hint="国务院关于测试工作的通知_中国政府网", fmt="html")
    assert meta.title == "国务院关于测试工作的通知"


def test_a_policy_library_page_title_loses_its_column_name() -> None:
    text = "国务院办公厅关于2019年\n部分节假日安排的通知\n国办发明电〔2018〕15号\n各省人民政府：\n正文。\n"
    meta = meta_of(text, title_hint="国务院办公厅关于2019年部分节假日安排的通知_政府信息公开专栏", fmt="html")
    assert meta.title == "国务院办公厅关于2019年部分节假日安排的通知"


def test_without_a_title_line_the_first_sentence_is_used() -> None:
    meta = meta_of("各地要把稳就业摆在更加突出的位置，落实落细各项政策。\n加强组织领导。\n", path="/x/稳就业.txt")
    assert meta.title == "各地要把稳就业摆在更加突出的位置"


def test_issuer_from_the_signature_when_the_title_does_not_say() -> None:
    meta = meta_of(
        "关于做好2024年高校毕业生就业工作的通知\n各市人力资源社会保障局：\n现将有关事项通知如下。\n"
        "一、拓宽就业渠道\n做好工作。\n二、强化服务\n加强指导。\n广东省人力资源和社会保障厅\n2024年3月8日\n"
    )
    assert (meta.issuer, meta.signed, meta.region, meta.kind) == (
        "广东省人力资源和社会保障厅",
        "2024-03-08",
        "广东省",
        "通知",
    )


def test_fields_of_a_gov_cn_style_head() -> None:
    meta = meta_of(
        "国务院办公厅关于印发测试行动方案的通知\n文号：国办发〔2024〕12号\n发文机关：国务院办公厅\n"
        "成文日期：2024年03月01日\n发布日期：2024年03月05日\n各省人民政府：\n正文。\n"
    )
    assert {f: getattr(meta, f) for f in FIELDS} == {
        "title": "国务院办公厅关于印发测试行动方案的通知",
        "doc_no": "国办发〔2024〕12号",
        "issuer": "国务院办公厅",
        "signed": "2024-03-01",
        "published": "2024-03-05",
        "region": "国家",
        "kind": "通知",
    }


@pytest.mark.parametrize(
    ("title", "doc_no", "region"),
    [
        ("粤府办关于测试工作的通知", "粤府办〔2021〕3号", "广东省"),
        ("浙江省人民政府关于测试工作的意见", "", "浙江省"),
        ("内蒙古自治区人民政府办公厅关于测试的通知", "", "内蒙古自治区"),
        ("人力资源社会保障部关于测试工作的通知", "人社部发〔2019〕1号", "国家"),
    ],
)
def test_region(title: str, doc_no: str, region: str) -> None:
    text = f"{title}\n{doc_no}\n各单位：\n正文。\n" if doc_no else f"{title}\n各单位：\n正文。\n"
    assert meta_of(text).region == region


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("国务院关于印发国家职业教育改革实施方案的通知", "通知"),
        ("国务院办公厅关于促进养老托育服务健康发展的意见", "意见"),
        ("江西省人民政府办公厅关于促进3岁以下婴幼儿照护服务发展的实施意见", "意见"),
        ("国家职业教育改革实施方案", "方案"),
        ("某某省就业补贴资金管理办法（试行）", "办法"),
        ("江西省投资项目“容缺审批+承诺制”办理模式事项清单", "清单"),
    ],
)
def test_kind_from_the_title(title: str, kind: str) -> None:
    assert meta_of(f"{title}\n各单位：\n正文。\n").kind == kind
