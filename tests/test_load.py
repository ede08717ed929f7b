"""kb/load.py: text encodings, HTML main text, PDF pages, DOCX paragraphs and tables, clear errors."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from conftest import AI_PDF, TABLE_PDF, damaged_docx, docx_bytes

from kb.errors import LoadError
from kb.load import is_supported, load

TEXT = "国务院关于促进就业的通知\n国发〔2024〕3号\n一、总体要求\n坚持就业优先，稳定就业岗位。\n"


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --- plain text ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["notice.txt", "notice.md", "NOTICE.TXT"])
def test_utf8_text_and_markdown(tmp_path: Path, name: str) -> None:
    data = TEXT.encode("utf-8")
    doc = load(write(tmp_path / name, data))
    assert doc.text == TEXT
    assert doc.format == "txt"
    assert doc.pages == ()
    assert doc.path == str(tmp_path / name)
    assert doc.content_hash == hashlib.sha256(data).hexdigest()


def test_utf8_with_bom_loses_the_bom(tmp_path: Path) -> None:
    doc = load(write(tmp_path / "bom.txt", b"\xef\xbb\xbf" + TEXT.encode("utf-8")))
    assert doc.text == TEXT


@pytest.mark.parametrize("encoding", ["gb18030", "gbk"])
def test_gb18030_and_gbk(tmp_path: Path, encoding: str) -> None:
    data = TEXT.encode(encoding)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the file really is not UTF-8
    assert load(write(tmp_path / "gb.txt", data)).text == TEXT


def test_gb18030_only_characters(tmp_path: Path) -> None:
    text = "关于𠀋字和㐀字的说明：GB18030 四字节编码。\n"  # outside GBK: only GB18030 has them
    assert load(write(tmp_path / "rare.txt", text.encode("gb18030"))).text == text


def test_utf16_with_bom(tmp_path: Path) -> None:
    assert load(write(tmp_path / "u16.txt", TEXT.encode("utf-16"))).text == TEXT


def test_windows_line_ends_become_newlines(tmp_path: Path) -> None:
    doc = load(write(tmp_path / "crlf.txt", TEXT.replace("\n", "\r\n").encode("gb18030")))
    assert doc.text == TEXT


# --- HTML ---------------------------------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html><head><meta charset="{charset}">
<title>国务院关于做好家政服务工作的通知_中国政府网</title>
<style>.nav {{ color: red }} STYLE_TEXT</style>
<script>var tracker = "SCRIPT_TEXT";</script>
</head><body>
<header>HEADER_TEXT 中国政府网 首页</header>
<nav><a href="/">首页</a> <a href="/zhengce">政策</a> NAV_TEXT</nav>
<div class="sidebar">SIDEBAR_TEXT 热点专题</div>
<article>
<h1>国务院关于做好家政服务工作的通知</h1>
<p>国发〔2024〕5号</p>
<p>各省、自治区、直辖市人民政府：</p>
<p>一、总体要求</p>
<p>要大力发展家政服务，<br>推动家政服务业提质扩容。</p>
<table><tr><td>项目</td><td>标准</td></tr><tr><td>一次性补贴</td><td>500元</td></tr></table>
<p>国务院</p><p>2024年1月5日</p>
</article>
<footer>FOOTER_TEXT 版权所有 网站标识码</footer>
<script>document.write("SCRIPT_TWO")</script>
</body></html>
"""


@pytest.mark.parametrize("suffix", [".html", ".htm"])
def test_html_keeps_the_article_only(tmp_path: Path, suffix: str) -> None:
    doc = load(write(tmp_path / f"page{suffix}", PAGE.format(charset="utf-8").encode("utf-8")))
    assert doc.format == "html"
    for chrome in ("STYLE_TEXT", "SCRIPT_TEXT", "SCRIPT_TWO", "HEADER_TEXT", "NAV_TEXT", "FOOTER_TEXT", "SIDEBAR"):
        assert chrome not in doc.text
    assert "color" not in doc.text and "tracker" not in doc.text
    lines = doc.text.split("\n")
    assert lines[0] == "国务院关于做好家政服务工作的通知"
    assert "国发〔2024〕5号" in lines
    assert "要大力发展家政服务，" in lines and "推动家政服务业提质扩容。" in lines  # <br> is a line break
    assert "一次性补贴 500元" in lines  # table cells stay apart, one row per line
    assert lines[-1] == "2024年1月5日"
    assert doc.title_hint == "国务院关于做好家政服务工作的通知_中国政府网"


def test_html_in_gbk_with_and_without_a_declared_charset(tmp_path: Path) -> None:
    declared = load(write(tmp_path / "a.html", PAGE.format(charset="gb2312").encode("gb18030")))
    undeclared = load(write(tmp_path / "b.html", PAGE.replace('<meta charset="{charset}">', "").encode("gbk")))
    assert declared.text == undeclared.text
    assert declared.text.startswith("国务院关于做好家政服务工作的通知\n国发〔2024〕5号")


def test_html_without_an_article_element_uses_the_content_block(tmp_path: Path) -> None:
    page = (
        "<html><body><div class='top'>导航 首页 政策 解读 互动 服务 数据 国务院 新闻 其他栏目</div>"
        "<div id='UCAP-CONTENT'><p>关于做好就业工作的通知</p><p>各地要把稳就业摆在突出位置，"
        "落实各项就业扶持政策，加强职业技能培训，帮助重点群体就业。</p></div>"
        "<div class='bottom'>主办单位 联系我们</div></body></html>"
    )
    doc = load(write(tmp_path / "c.html", page.encode("utf-8")))
    assert doc.text.startswith("关于做好就业工作的通知\n各地要把稳就业")
    assert "导航" not in doc.text and "主办单位" not in doc.text


# --- PDF ----------------------------------------------------------------------------------------------------------


def test_pdf_text_per_page_with_page_numbers(tmp_path: Path, make_pdf) -> None:
    pages = [
        ["国务院关于测试分页的通知", "国发〔2024〕3号", "一、第一页的要求。"],
        ["二、第二页的要求。"],
        ["三、第三页的要求。", "国务院", "2024年2月1日"],
    ]
    doc = load(write(tmp_path / "three.pdf", make_pdf(pages)))
    assert doc.format == "pdf"
    assert [p.number for p in doc.pages] == [1, 2, 3]
    for page, lines in zip(doc.pages, pages, strict=True):
        assert doc.text[page.start : page.end].split("\n")[: len(lines)] == lines
    assert doc.text.count("\f") == 2  # pages are separated, never run together
    assert doc.page_at(doc.text.index("二、第二页")) == 2
    assert doc.page_at(doc.text.index("2024年2月1日")) == 3


def test_pdf_title_metadata_is_a_hint_unless_it_is_a_placeholder(tmp_path: Path, make_pdf) -> None:
    pages = [["国务院关于测试的通知", "正文。"]]
    good = load(write(tmp_path / "good.pdf", make_pdf(pages, title="国务院关于测试的通知")))
    assert good.title_hint == "国务院关于测试的通知"
    for n, rubbish in enumerate(["标题", "Untitled", "Microsoft Word - 通知.docx", "文档1", "附件.pdf"]):
        doc = load(write(tmp_path / f"r{n}.pdf", make_pdf(pages, title=rubbish)))
        assert doc.title_hint is None, rubbish


def test_corpus_pdfs_keep_their_pages(corpus_raw) -> None:
    ai = corpus_raw["pdf/" + AI_PDF.name]
    assert [p.number for p in ai.pages] == [1, 2, 3]
    parts = ai.text.split("\f")
    assert [ai.text[p.start : p.end] for p in ai.pages] == parts
    assert ai.title_hint == "国务院关于深入实施“人工智能+”行动的意见"
    assert "4. 创新服务业发展新模式" in ai.text[ai.pages[1].start : ai.pages[1].end].replace("⼴", "广")

    table = corpus_raw["pdf/" + TABLE_PDF.name]
    assert [p.number for p in table.pages] == list(range(1, 25))
    assert table.title_hint is None  # its /Title is the placeholder 标题
    assert "江" in table.text[: table.pages[0].end] and "—8—" in table.text[: table.pages[0].end]


def test_a_pdf_without_text_asks_for_ocr(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(LoadError, match="OCR"):
        load(write(tmp_path / "scan.pdf", out.getvalue()))


# --- DOCX ---------------------------------------------------------------------------------------------------------


def test_docx_paragraphs_and_tables_in_document_order(tmp_path: Path) -> None:
    doc = load(write(tmp_path / "notice.docx", docx_bytes()))
    assert doc.format == "docx"
    assert doc.text.split("\n") == [
        "国务院办公厅关于测试文档的通知",
        "国办发〔2023〕7号",
        "一、工作目标",
        "序号 事项 责任单位",
        "1 建立工作机制 省发展改革委",
        "2 各市县人民政府",  # a merged cell once, not once per column it spans
        "到2025年，基本建成测试体系。",
        "国务院办公厅",
        "2023年3月1日",
    ]


def test_docx_title_property_is_a_hint_unless_it_is_a_placeholder(tmp_path: Path) -> None:
    assert load(write(tmp_path / "a.docx", docx_bytes("国务院办公厅关于测试文档的通知"))).title_hint == (
        "国务院办公厅关于测试文档的通知"
    )
    assert load(write(tmp_path / "b.docx", docx_bytes("标题"))).title_hint is None
    assert load(write(tmp_path / "c.docx", docx_bytes())).title_hint is None


@pytest.mark.parametrize(
    "data",
    [b"PK\x03\x04 not a zip at all", b"this is plain text, not a docx"],
    ids=["broken-zip", "text"],
)
def test_a_file_that_is_not_a_docx(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(LoadError, match=r"corrupt or not a \.docx"):
        load(write(tmp_path / "bad.docx", data))


def test_a_zip_that_is_not_a_docx(tmp_path: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(LoadError, match=r"corrupt or not a \.docx"):
        load(write(tmp_path / "bad.docx", out.getvalue()))


def test_a_docx_with_damaged_xml_is_a_load_error(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="docx"):
        load(write(tmp_path / "damaged.docx", damaged_docx()))


# --- unsupported and bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["table.xlsx", "notes.doc", "scan.jpg", "README"])
def test_other_file_types_are_not_supported(tmp_path: Path, name: str) -> None:
    path = write(tmp_path / name, b"whatever")
    assert not is_supported(path)
    with pytest.raises(LoadError, match="unsupported file type"):
        load(path)


@pytest.mark.parametrize("name", ["a.txt", "a.md", "a.html", "a.htm", "a.pdf", "a.docx", "A.PDF"])
def test_supported_file_types(name: str) -> None:
    assert is_supported(Path(name))


@pytest.mark.parametrize(
    "name",
    ["random.pdf", "truncated.pdf", "locked.pdf", "empty.txt", "noise.txt", "latin1.txt"],
)
def test_bad_input_is_a_load_error_naming_file_and_reason(tmp_path: Path, bad_inputs, name: str) -> None:
    data, phrase = bad_inputs[name]
    path = write(tmp_path / name, data)
    with pytest.raises(LoadError) as caught:
        load(path)
    assert caught.value.path == str(path)
    assert phrase in caught.value.reason
    assert str(caught.value).startswith(f"{path}: ")


@pytest.mark.parametrize("name", ["blank.txt", "blank.pdf", "blank.docx", "blank.html"])
def test_empty_or_white_space_files(tmp_path: Path, name: str) -> None:
    with pytest.raises(LoadError, match="empty file"):
        load(write(tmp_path / name, b" \n\t\r\n"))


def test_the_encrypted_pdf_says_how_to_fix_it(tmp_path: Path, bad_inputs) -> None:
    with pytest.raises(LoadError, match=r"password.*unprotected copy"):
        load(write(tmp_path / "locked.pdf", bad_inputs["locked.pdf"][0]))


def test_unknown_encoding_says_how_to_fix_it(tmp_path: Path, bad_inputs) -> None:
    with pytest.raises(LoadError, match="re-save the file as UTF-8"):
        load(write(tmp_path / "latin1.txt", bad_inputs["latin1.txt"][0]))


def test_big5_text_is_read_correctly_or_refused(tmp_path: Path) -> None:
    text = "國務院關於促進就業的通知\n一、總體要求\n"
    try:
        loaded = load(write(tmp_path / "big5.txt", text.encode("big5"))).text
    except LoadError as exc:
        assert "encoding" in exc.reason
    else:
        assert loaded == text


def test_control_characters_throughout_are_binary(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="binary"):
        load(write(tmp_path / "ctrl.txt", bytes(range(1, 32)) * 40))


def test_loading_never_touches_the_file(tmp_path: Path, make_pdf) -> None:
    paths = [
        write(tmp_path / "a.txt", TEXT.encode("gb18030")),
        write(tmp_path / "b.pdf", make_pdf([["国务院关于测试的通知", "正文。"]])),
        write(tmp_path / "c.docx", docx_bytes()),
        write(tmp_path / "d.html", PAGE.format(charset="utf-8").encode()),
    ]
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in paths}
    for path in paths:
        load(path)
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in paths} == before
