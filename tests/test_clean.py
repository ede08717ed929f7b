"""kb/clean.py: web chrome, PDF print furniture, radicals, 文号 spacing, broken lines, page ranges."""

from __future__ import annotations

import re
import unicodedata

import pytest
from conftest import AI_PDF, CHROME, NOTICE_TXT, TABLE_PDF, pdf_doc, radical_chars, txt_doc

from kb.clean import clean, normalise_text
from kb.load import load
from kb.types import Page, SourceDoc

NOTICE = NOTICE_TXT.name
AI = "pdf/" + AI_PDF.name
TABLE = "pdf/" + TABLE_PDF.name


def lines_of(doc: SourceDoc) -> list[str]:
    return doc.text.split("\n")


# --- web-page chrome ----------------------------------------------------------------------------------------------


def test_the_notice_loses_its_web_chrome(corpus_docs) -> None:
    raw = NOTICE_TXT.read_text(encoding="utf-8")
    for chrome in ("打开微信扫描二维码", "您当前的位置", "打印页面", "浏览字号", "保护视力色"):
        assert chrome in raw  # the test means something only if the chrome was there
    doc = corpus_docs[NOTICE]
    for chrome in ("打开微信扫描二维码", "您当前的位置", "首页 >", "打印页面", "浏览字号", "保护视力色"):
        assert chrome not in doc.text
    lines = lines_of(doc)
    assert "A" not in lines  # the lone font-size button
    assert not [line for line in lines if re.fullmatch(r"来源[:：]\s*", line)]  # the empty 来源:
    assert "" not in lines  # no empty lines either


def test_the_notice_head_after_cleaning(corpus_docs) -> None:
    # The title was split by a space on the web page; the dateline and the 文号 stay.
    assert lines_of(corpus_docs[NOTICE])[:4] == [
        "国家发展改革委办公厅关于开展社会服务领域双创带动就业示范工作的通知",
        "2020-04-08",
        "发改办高技〔2020〕244号",
        "各省、自治区、直辖市及计划单列市、新疆生产建设兵团发展改革委：",
    ]
    assert lines_of(corpus_docs[NOTICE])[-2:] == ["国家发展改革委办公厅", "2020年3月26日"]


def test_half_width_punctuation_in_chinese_text_becomes_full_width(corpus_docs) -> None:
    text = corpus_docs[NOTICE].text
    assert "为落实国务院常务会议部署要求，更好发挥“双创”带动就业的重要作用，" in text
    assert "有关事项通知如下：" in text
    assert "," not in text and ":" not in text


@pytest.mark.parametrize(
    "chrome",
    [
        "打开微信扫描二维码",
        "微信扫一扫",
        "分享到：",
        "您当前的位置：首页 > 政策 > 文件",
        "当前位置：首页 > 政策",
        "首页 > 政策 > 国务院文件",
        "打印页面",
        "打印本页",
        "关闭窗口",
        "【打印】",
        "[ 打印 ]",
        "浏览字号",
        "字号：大 中 小",
        "大 中 小",
        "保护视力色：",
        "来源:",
        "责任编辑：",
        "作者:",
        "A",
    ],
)
def test_a_chrome_line_is_dropped(chrome: str) -> None:
    doc = clean(txt_doc(f"国务院关于测试的通知\n{chrome}\n正文第一段。\n"))
    assert lines_of(doc) == ["国务院关于测试的通知", "正文第一段。"]


def test_chrome_inside_a_useful_line_is_cut_and_real_fields_stay() -> None:
    doc = clean(txt_doc("来源：中国政府网 字号：[大][中][小]\n来源：新华社\n发布时间：2025-08-27 来源：中国政府网\n"))
    assert lines_of(doc) == ["来源：中国政府网", "来源：新华社", "发布时间：2025-08-27 来源：中国政府网"]


# --- PDF print furniture ------------------------------------------------------------------------------------------


def test_the_ai_pdf_loses_its_browser_print_lines(corpus_docs, corpus_raw) -> None:
    raw = corpus_raw[AI].text
    assert "2026/5/19 19:11" in raw and "https://www.mee.gov.cn" in raw and "仅打印内容" in raw
    text = corpus_docs[AI].text
    for chrome in ("2026/5/19", "19:11", "https://", "mee.gov.cn", "1/3", "2/3", "3/3", "打印", "字号"):
        assert chrome not in text
    assert "发布时间：2025-08-27 来源：中国政府网" in lines_of(corpus_docs[AI])  # the 字号 buttons are cut off


def test_the_table_pdf_loses_its_page_numbers(corpus_docs, corpus_raw) -> None:
    raw = corpus_raw[TABLE].text
    assert "—8—" in raw and "—31—" in raw
    text = corpus_docs[TABLE].text
    assert not re.search(r"—\s*\d+\s*—", text)


# Paragraphs as the PDF loader sees them: indented, full width.
LONG_1 = "为深入实施行动，推动人工智能与经济社会各行业各领域广泛深度融合，重塑人类生产生活范式。"
LONG_2 = "加快形成人机协同、跨界融合、共创分享的智能经济和智能社会新形态，现提出如下意见。"


@pytest.mark.parametrize(
    "footer",
    [
        "—8—",
        "- 3 -",
        "－ 12 －",
        "~5~",
        "第3页 共10页",
        "第 3 页",
        "3 / 10",
        "2026/5/19 19:11 国务院关于深入实施“人工智能+”行动的意见",
        "https://www.mee.gov.cn/zcwj/gwywj/202508/t20250827_1126207.shtml 1/3",
        "www.gov.cn",
    ],
)
def test_a_print_footer_line_is_dropped(footer: str) -> None:
    doc = clean(pdf_doc([f"国务院关于测试的通知\n  {LONG_1}\n{footer}\n  {LONG_2}"]))
    assert lines_of(doc) == ["国务院关于测试的通知", LONG_1, LONG_2]


@pytest.mark.parametrize("make", [txt_doc, lambda text: pdf_doc([text])], ids=["txt", "pdf"])
def test_a_url_on_its_own_line_in_the_body_is_content(make) -> None:
    doc = clean(make(f"  {LONG_1}\n申请网址：\nhttps://www.jxzwfww.gov.cn/col/apply.html\n  {LONG_2}"))
    assert "https://www.jxzwfww.gov.cn/col/apply.html" in lines_of(doc)


PARAGRAPHS = [
    [
        "  为深入实施行动，推动人工智能与经济社会各行业各领域广泛深度融合，重塑人类生产生活范式。",
        "  加快形成人机协同、跨界融合、共创分享的智能经济和智能社会新形态，现提出如下意见。",
    ],
    [
        "  坚持以人民为中心的发展思想，充分发挥我国数据资源丰富、产业体系完备、应用场景广阔等优势。",
        "  强化前瞻谋划、系统布局、分业施策、开放共享、安全可控，以科技、产业、消费等领域为重点。",
    ],
    [
        "  加快培育发展新质生产力，使全体人民共享人工智能发展成果，更好服务中国式现代化建设。",
        "  到2030年，我国人工智能全面赋能高质量发展，智能经济成为我国经济发展的重要增长极。",
    ],
]


def test_a_running_header_repeated_on_every_page_is_kept_once() -> None:
    pages = ["\n".join(["江西省人民政府公报", *paragraphs, f"—{n + 7}—"]) for n, paragraphs in enumerate(PARAGRAPHS, 1)]
    doc = clean(pdf_doc(pages))
    assert doc.text.count("江西省人民政府公报") == 1
    for paragraphs in PARAGRAPHS:
        for paragraph in paragraphs:
            assert paragraph.strip() in lines_of(doc)


def test_repeated_table_cells_in_the_middle_of_pages_are_content() -> None:
    items = ["企业投资项目核准", "政府投资项目可行性研究报告审批", "建设项目用地预审与选址意见书核发"]
    notes = [
        "  申请材料应当真实、完整、有效，复印件须注明与原件一致并由经办人签字确认，逾期不再受理。",
        "  容缺材料应在承诺期限内补齐，未按期补齐的，审批部门依法撤销已作出的审批决定并记入信用记录。",
        "  材料齐全、符合法定形式的项目即时受理，审批部门应当在法定时限内办结，并通过在线平台公开办理结果。",
    ]
    pages = [
        "\n".join(["序号 事项名称 材料类型", note, str(n), item, "主审材料", note, note, f"—{n + 7}—"])
        for n, (item, note) in enumerate(zip(items, notes, strict=True), start=1)
    ]
    text = clean(pdf_doc(pages)).text
    assert text.count("主审材料") == 3
    for row in ("1", "2", "3"):
        assert re.search(rf"(?m)^{row}(?!\d)", text), f"row number {row} is gone"


def test_the_table_pdf_keeps_its_material_types(corpus_docs, corpus_raw) -> None:
    raw = re.sub(r"\s", "", corpus_raw[TABLE].text)
    text = corpus_docs[TABLE].text
    for cell in ("容缺材料", "主审材料"):
        assert text.count(cell) == raw.count(cell), cell


# --- radicals and NFKC --------------------------------------------------------------------------------------------


def test_radicals_stand_for_the_characters_they_look_like() -> None:
    assert normalise_text("⻅⺠⻓⻔") == "见民长门"  # CJK Radicals Supplement: NFKC leaves these alone
    assert normalise_text("⼈⼯智能⽣产⼒") == "人工智能生产力"  # Kangxi Radicals: NFKC folds these
    doc = clean(txt_doc("国务院关于深⼊实施“⼈⼯智能+”⾏动的意⻅\n各省⼈⺠政府：\n⻓期坚持，⻔槛降低。"))
    assert lines_of(doc) == ["国务院关于深入实施“人工智能+”行动的意见", "各省人民政府：", "长期坚持，门槛降低。"]


def test_no_kangxi_radical_survives_cleaning() -> None:
    kangxi = "".join(chr(cp) for cp in range(0x2F00, 0x2FE0) if unicodedata.category(chr(cp)) != "Cn")
    assert len(kangxi) == 214
    assert radical_chars(normalise_text(kangxi)) == []


def test_no_cjk_radicals_supplement_character_survives_cleaning() -> None:
    block = "".join(chr(cp) for cp in range(0x2E80, 0x2F00) if unicodedata.category(chr(cp)) != "Cn")
    assert radical_chars(normalise_text(block)) == []


def test_the_corpus_pdf_was_full_of_radicals_and_no_cleaned_document_has_any(corpus_docs, corpus_raw) -> None:
    raw = corpus_raw[AI].text
    assert {"⻅", "⺠", "⻓", "⻔", "⼈", "⼯"} <= set(raw)
    for name, doc in corpus_docs.items():
        assert radical_chars(doc.text) == [], name


def test_spaces_inside_a_doc_number_are_removed(corpus_docs, corpus_raw) -> None:
    assert "国发〔 2025 〕 11 号" in corpus_raw[AI].text
    assert "国发〔2025〕11号" in lines_of(corpus_docs[AI])
    assert lines_of(clean(txt_doc("国发〔 2025 〕 11 号\n"))) == ["国发〔2025〕11号"]


def test_normalise_text_punctuation_and_numbers() -> None:
    assert normalise_text("会议 共有 1,000 人参加, 时间 11:09 开始:") == "会议共有1,000人参加，时间11:09开始："
    assert normalise_text("第六代移动通信（ 6G ）等(试行)") == "第六代移动通信（6G）等（试行）"
    assert normalise_text("２０２５年８月") == "2025年8月"  # full-width digits
    assert normalise_text("Policy ABC 2.0, version 3: final") == "Policy ABC 2.0, version 3: final"
    assert normalise_text("社会服务领域 双创带动就业") == "社会服务领域双创带动就业"


# --- broken lines -------------------------------------------------------------------------------------------------


def test_lines_broken_mid_sentence_in_the_ai_pdf_are_joined(corpus_docs, corpus_raw) -> None:
    raw = corpus_raw[AI].text
    assert "⾰命性\n跃迁" in raw  # broken in the PDF …
    text = corpus_docs[AI].text
    for joined in (
        "促进生产力革命性跃迁和生产关系深层次变革",  # … and whole again
        "充分发挥我国数据资源丰富、产业体系完备",
        "智能经济核心产业规模快速增长",
        "拓展体验消费、个性消费、认知和情感消费等服务消费新场景",
    ):
        assert joined in text


def test_paragraph_boundaries_in_the_ai_pdf_survive(corpus_docs) -> None:
    text = corpus_docs[AI].text
    assert "现提出如下意见。\n一、总体要求\n以习近平新时代中国特色社会主义思想为指导" in text
    assert "更好服务中国式现代化建设。\n到2027年，率先实现" in text
    assert "帮助农民提升生产经营能力和水平。\n4.创新服务业发展新模式。" in text  # across a page break
    # Every line ends a sentence unless it is a heading or a head/signature line.
    unfinished = [line for line in lines_of(corpus_docs[AI]) if line[-1] not in "。！？；："]
    headings = re.compile(r"^([一二三四五六七八九十]+、|（[一二三四五六七八九十]+）)")
    assert [line for line in unfinished if not headings.match(line)] == [
        "国务院关于深入实施“人工智能+”行动的意见",
        "发布时间：2025-08-27 来源：中国政府网",
        "国发〔2025〕11号",
        "国务院",
        "2025年8月21日",
    ]


def test_wrapped_pdf_lines_join_and_indented_lines_start_paragraphs() -> None:
    page = (
        "  一、总体要求\n"
        "  为深入实施行动，推动人工智能与经济社会各行业各领域广泛深度融合，重塑人类生产\n"
        "生活范式，促进生产力革命性跃迁和生产关系深层次变革，加快形成新形态，现提出\n"
        "如下意见。\n"
        "  到2027年，率先实现人工智能与重点领域广泛深度融合，新一代智能终端普及率\n"
        "超70%。\n"
    )
    assert lines_of(clean(pdf_doc([page]))) == [
        "一、总体要求",
        "为深入实施行动，推动人工智能与经济社会各行业各领域广泛深度融合，重塑人类生产生活范式，"
        "促进生产力革命性跃迁和生产关系深层次变革，加快形成新形态，现提出如下意见。",
        "到2027年，率先实现人工智能与重点领域广泛深度融合，新一代智能终端普及率超70%。",
    ]


def test_a_short_line_is_not_taken_for_a_wrapped_one(tmp_path, make_pdf) -> None:
    page = [
        "国务院办公厅关于做好测试工作的通知",
        "各省、自治区、直辖市人民政府，国务院各部委、各直属机构：",
        "为做好测试工作，推动各项政策措施落地见效，进一步提升服务质量和效率，经国务院同意，现就有关",
        "事项通知如下。",
        "一、加强组织领导",
        "各地区各部门要高度重视测试工作，建立健全工作机制，明确责任分工，确保各项任务落实到位，",
        "形成工作合力。",
    ]
    doc = clean(load(make_pdf_file(tmp_path, make_pdf, [page])))
    assert lines_of(doc) == [
        "国务院办公厅关于做好测试工作的通知",
        "各省、自治区、直辖市人民政府，国务院各部委、各直属机构：",
        page[2] + page[3],
        "一、加强组织领导",
        page[5] + page[6],
    ]


def make_pdf_file(tmp_path, make_pdf, pages):
    path = tmp_path / "doc.pdf"
    path.write_bytes(make_pdf(pages))
    return path


def test_text_files_keep_their_line_breaks() -> None:
    text = "一、总体要求\n要大力发展家政服务，推动家政服务业\n提质扩容。\n"
    assert lines_of(clean(txt_doc(text))) == ["一、总体要求", "要大力发展家政服务，推动家政服务业", "提质扩容。"]


def test_a_letter_spaced_title_broken_after_its_first_character_is_joined(corpus_docs) -> None:
    """pypdf read the table PDF's title as 「江」 then 「西省投资项目…」 (its first character set apart); the table
    reader (kb/pdftable.py) now reads it by position, and cleaning still joins a lone character to its line."""
    cells = "\n".join(["序号 事项名称", "1", "企 业 投 资 项 目核准", "政 府 投 资 项 目", "煤 矿 建 设 项 目"])
    doc = clean(pdf_doc([f"附件1\n江\n西省投资项目“容缺审批+承诺制”办理模式事项清单\n{cells}"]))
    assert lines_of(doc)[:2] == ["附件1", "江西省投资项目“容缺审批+承诺制”办理模式事项清单"]
    assert lines_of(corpus_docs[TABLE])[:2] == ["附件1", "江西省投资项目“容缺审批+承诺制”办理模式事项清单"]


# --- the document as a whole --------------------------------------------------------------------------------------


def test_cleaned_pages_tile_the_cleaned_text(corpus_docs) -> None:
    for name in (AI, TABLE):
        doc = corpus_docs[name]
        assert doc.pages[0].start == 0 and doc.pages[-1].end == len(doc.text)
        for page, following in zip(doc.pages, doc.pages[1:], strict=False):
            assert page.end == following.start
    ai = corpus_docs[AI]
    assert [p.number for p in ai.pages] == [1, 2, 3]
    assert ai.page_at(ai.text.index("国发〔2025〕11号")) == 1
    assert ai.page_at(ai.text.index("4.创新服务业发展新模式")) == 2
    assert ai.page_at(ai.text.index("（七）提升模型基础能力")) == 3
    assert ai.page_at(ai.text.index("2025年8月21日")) == 3


def test_clean_returns_a_new_document_and_keeps_identity() -> None:
    pages = [f"国务院关于测试的通知\n  {LONG_1.replace('，', ' , ')}\n—1—", f"  {LONG_2}\n—2—"]
    raw = pdf_doc(pages)
    cleaned = clean(raw)
    assert cleaned is not raw
    assert raw.text == "\f".join(pages)  # untouched
    assert (cleaned.path, cleaned.content_hash, cleaned.format) == (raw.path, raw.content_hash, raw.format)
    page_one = f"国务院关于测试的通知\n{LONG_1}\n"
    assert cleaned.text == page_one + LONG_2
    assert cleaned.pages == (Page(1, 0, len(page_one)), Page(2, len(page_one), len(cleaned.text)))


def test_no_cleaned_corpus_document_holds_chrome(corpus_docs) -> None:
    for name, doc in corpus_docs.items():
        for chrome in CHROME:
            assert chrome not in doc.text, (name, chrome)
        assert "\f" not in doc.text and "\r" not in doc.text and "\u3000" not in doc.text, name
