"""A PDF's ruled table read row by row (kb/pdftable.py): every row names the group it belongs to, a group goes on
across a page break, a note below the table stays, and a page without a ruled grid is read as before."""

from __future__ import annotations

from pathlib import Path

from conftest import AI_PDF, TABLE_PDF, text
from pypdf import PdfReader

from kb.clean import clean
from kb.load import load
from kb.meta import extract
from kb.pdftable import _content, tables_text
from kb.split import split

# columns: 序号 | 事项名称 | 申请材料 | 材料类型 (x 40 · 80 · 200 · 400 · 480)
XS = (40, 80, 200, 400, 480)


def _rule(x0: float, y0: float, x1: float, y1: float) -> str:
    return f"{x0} {y0} m {x1} {y1} l S"


def _page(rows: list[tuple[str, str, str, str]], merged: set[int], note: str = "") -> list[str]:
    """A header row, then `rows` 20 points high from y 780 down; the group columns (序号, 事项名称) of the rows in
    `merged` run on from the row above (no rule between)."""
    ops = [_rule(x, 800, x, 780 - 20 * len(rows)) for x in XS]
    ops.append(_rule(XS[0], 800, XS[-1], 800))
    cells = [("序号", "事项名称", "申请材料", "材料类型"), *rows]
    for i, cell_texts in enumerate(cells):
        top = 800 - 20 * i
        if i and i in merged:
            ops.append(_rule(XS[2], top, XS[-1], top))  # the papers' columns only: the group cells run on
        elif i:
            ops.append(_rule(XS[0], top, XS[-1], top))
        for column, value in enumerate(cell_texts):
            if value:
                ops.append(text(XS[column] + 2, top - 14, value))
    ops.append(_rule(XS[0], 780 - 20 * len(rows), XS[-1], 780 - 20 * len(rows)))
    if note:
        ops.append(text(XS[0], 760 - 20 * len(rows), note))
    return ops


def _table_pdf(tmp_path: Path, make_pdf) -> Path:
    first = _page(
        [("1", "审批甲", "申请表", "主审材料"), ("", "", "承诺书", "容缺材料"), ("2", "审批乙", "图纸", "容缺材料")],
        merged={2},
    )
    second = _page(
        [("", "", "证明文件", "主审材料"), ("3", "审批丙", "说明", "主审材料")],
        merged=set(),
        note="注：以上审批均适用容缺办理",
    )
    path = tmp_path / "list.pdf"
    path.write_bytes(make_pdf([["附件1"], []], drawn=[first, second]))
    return path


def test_each_row_names_its_group_and_a_group_goes_on_across_pages(tmp_path: Path, make_pdf) -> None:
    doc = clean(load(_table_pdf(tmp_path, make_pdf)))
    lines = doc.text.split("\n")
    assert lines[:4] == ["附件1", "1、审批甲。", "审批甲：申请表，主审材料。", "审批甲：承诺书，容缺材料。"]
    assert "序号" not in doc.text  # the header row is left out: each row says what it is
    # 审批乙 begins on the first page; its row on the second page (its group cells empty there) still names it
    assert lines[4:] == [
        "2、审批乙。",
        "审批乙：图纸，容缺材料。",
        "审批乙：证明文件，主审材料。",
        "3、审批丙。",
        "审批丙：说明，主审材料。",
        "注：以上审批均适用容缺办理",
    ]
    assert [p.number for p in doc.pages] == [1, 2]
    assert doc.text[doc.pages[1].start : doc.pages[1].end].startswith("审批乙：证明文件")


def test_a_note_after_the_rows_is_a_passage_of_the_whole_list(tmp_path: Path, make_pdf) -> None:
    doc = clean(load(_table_pdf(tmp_path, make_pdf)))
    chunks = split(doc, extract(doc), size=24, overlap=0)
    note = next(c for c in chunks if c.text.startswith("注："))
    assert note.section == ""  # not under 「3、审批丙」, the last group
    assert any(c.section.startswith("2、审批乙") and "证明文件" in c.text for c in chunks)


def test_the_corpus_list_of_approvals_is_read_row_by_row(corpus_docs) -> None:
    doc = corpus_docs["pdf/" + TABLE_PDF.name]
    assert "建筑工程施工许可证核发（含质量安全监督手续）：农民工工资保证金缴纳证明，容缺材料。" in doc.text
    assert "乡村建设规划许可证核发：结婚证、夫妻双方身份证、户口本复印件，容缺材料。" in doc.text
    assert "\n16、建筑工程施工许可证核发（含质量安全监督手续），行政许可，" in doc.text
    # 建设项目用地预审与选址意见书 runs from page 10 to 11 of the print: its heading once, its rows named on both
    assert doc.text.count("5、建设项目用地预审与选址意见书，") == 1
    assert "建设项目用地预审与选址意见书：土地分类面积表及项目TXT格式坐标，主审材料。" in doc.text
    assert "企 业" not in doc.text and "2 0 1 7" not in doc.text  # no letter-spaced cells, no spaced digits
    assert doc.text.rstrip().endswith("法律、法规规定还应当办理的其他审批事项，暂未列入")


def test_a_page_without_a_ruled_grid_is_read_as_before() -> None:
    """The 人工智能+ print has a page frame and print bands drawn, no table: pypdf's own reading stays."""
    assert tables_text([_content(page) for page in PdfReader(AI_PDF).pages]) == [None, None, None]


def _one_page(tmp_path: Path, make_pdf, ops: list[str], name: str = "one.pdf") -> list[str]:
    path = tmp_path / name
    path.write_bytes(make_pdf([[]], drawn=[ops]))
    return clean(load(path)).text.split("\n")


ROWS = [("1", "审批甲", "申请表", "主审材料"), ("", "", "承诺书", "容缺材料")]
READ = ["1、审批甲。", "审批甲：申请表，主审材料。", "审批甲：承诺书，容缺材料。"]


def test_a_page_frame_a_clip_and_a_background_box_are_no_part_of_the_table(tmp_path: Path, make_pdf) -> None:
    boxes = ["20 20 555 802 re S", "0 0 595 842 re W n", "1 g 10 10 575 822 re f 0 g"]
    assert _one_page(tmp_path, make_pdf, [*boxes, *_page(ROWS, merged={2})]) == READ


def test_a_first_row_that_is_no_header_is_kept(tmp_path: Path, make_pdf) -> None:
    headers = [h.encode("utf-16-be").hex() for h in ("序号", "事项名称", "申请材料", "材料类型")]
    ops = [op for op in _page(ROWS, merged={2}) if not any(h in op for h in headers)]  # the header row left empty
    lines = _one_page(tmp_path, make_pdf, ops)
    assert lines == READ  # the empty first row says nothing; the first data row is not taken for a header


def test_a_type_column_ruled_at_other_heights_pairs_each_paper_with_its_own_type(tmp_path: Path, make_pdf) -> None:
    """Two papers ruled at 780/760/740 beside types ruled at 780/765/740: each paper takes the type lying mostly
    beside it (not both, and not a row per rule)."""
    ops = [_rule(x, 800, x, 740) for x in XS]
    ops += [_rule(XS[0], y, XS[-1], y) for y in (800, 780, 740)]
    ops += [_rule(XS[2], 760, XS[3], 760), _rule(XS[3], 765, XS[4], 765)]
    ops += [text(XS[i] + 2, 786, h) for i, h in enumerate(("序号", "事项名称", "申请材料", "材料类型"))]
    ops += [text(42, 756, "1"), text(82, 756, "审批甲"), text(202, 766, "申请表"), text(202, 746, "承诺书")]
    ops += [text(402, 768, "主审材料"), text(402, 748, "容缺材料")]
    assert _one_page(tmp_path, make_pdf, ops) == READ


def test_a_rotated_page_and_unreadable_operands_fall_back_to_pypdf(tmp_path: Path, make_pdf) -> None:
    rotated = _page(ROWS, merged={2})
    path = tmp_path / "rotated.pdf"
    path.write_bytes(make_pdf([[]], drawn=[["q 0 1 -1 0 595 0 cm", *rotated, "Q"]]))
    assert tables_text([_content(PdfReader(path).pages[0])]) == [None]
    broken = ["/A /B /C /D re S", "0 0 m (x) 5 l S", *_page(ROWS, merged={2})]
    assert _one_page(tmp_path, make_pdf, broken, "broken.pdf") == READ
