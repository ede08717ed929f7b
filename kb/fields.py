"""The metadata table a policy library page opens with (索引号, 主题分类, 发文机关, 成文日期, 标题, 发文字号, 发布日期):
its labels, and the fields read from a page's cells or from a line of text."""

from __future__ import annotations

import re
from collections.abc import Sequence

# Field → the labels sites give it, the State Council's policy library's own first. A label may be written with
# spaces inside (索 引 号, 标　　题) and with or without a colon after it.
LABELS: dict[str, tuple[str, ...]] = {
    "index_no": ("索引号",),
    "topic": ("主题分类", "主题类别", "信息分类", "分类"),
    "issuer": ("发文机关", "发文单位", "发文部门", "发布机关", "发布机构", "发布单位", "制发机关"),
    "signed": ("成文日期", "成文时间", "印发日期", "发文日期"),
    "title": ("标题", "文件标题", "文件名称", "名称"),
    "doc_no": ("发文字号", "文号", "发文文号", "文件编号"),
    "published": ("发布日期", "发布时间", "公开日期", "公开时间", "公布日期"),
}
TABLE_MIN_FIELDS = 3  # distinct fields that make a run of cells a metadata table, not a stray 「发布时间：」
NEAR = 6  # at most this many cells between two labels of one table
_EMPTY = {"无", "暂无", "-", "--", "—", "——", "－", "/", "／", "空", "null", "none"}

_FIELD_OF = {label: field for field, labels in LABELS.items() for label in labels}
_ALTERNATIVES = "|".join(r"\s*".join(map(re.escape, label)) for label in sorted(_FIELD_OF, key=len, reverse=True))
_COLON = r"\s*[:：]"
# A known label opening a cell, then a colon, white space or the cell's end; or one with a colon anywhere in it.
_OPENING = re.compile(rf"^\s*(?P<label>{_ALTERNATIVES})(?:{_COLON}|\s+|\s*$)")
_INSIDE = re.compile(rf"(?P<label>{_ALTERNATIVES}){_COLON}")
# A cell that is some other label only (主 题 词：, 有效性：): no value of a known field.
_UNKNOWN_LABEL = re.compile(r"^\s*[\u4e00-\u9fff](\s*[\u4e00-\u9fff]){1,5}\s*[:：]\s*$")
# Some other label after white space (「来源：」, 「有效性：」): it ends the value before it.
_OTHER = re.compile(r"\s+[\u4e00-\u9fff]{2,5}[:：]")


def starts_with_label(text: str) -> bool:
    """A line or cell that opens with a known label and its colon (「发文机关：国务院」)."""
    m = _OPENING.match(text)
    return bool(m and re.match(_COLON, text[m.end("label") :]))


def read_line(line: str) -> dict[str, str]:
    """The labelled fields of one line of text; only labels followed by a colon count (「发布时间：… 来源：…」)."""
    found: dict[str, str] = {}
    for field, value in _segments(line, colon_needed=True):
        if field is not None and value is not None and field not in found:
            found[field] = clean_value(value)
    return found


def read_cells(cells: Sequence[str]) -> dict[str, str]:
    """The fields of a metadata table among a page's cells (in reading order), or {} when it has none.

    A label's value is in its own cell after it (「发文机关：国务院」) or in the next one. Of the runs of labelled
    cells, the one giving values to the most distinct fields is the table, if it gives at least TABLE_MIN_FIELDS: a
    row of column heads (文件名称, 文号, 发文机关) over a list of documents is no table of this page's own.
    """
    found: dict[str, str] = {}
    for _first, _last, field, value in _table(cells):
        found.setdefault(field, clean_value(value))
    return found


def table_span(cells: Sequence[str]) -> tuple[int, int] | None:
    """The first and last index of the cells the metadata table of `read_cells` occupies, or None."""
    table = _table(cells)
    return (table[0][0], max(last for _f, last, _field, _v in table)) if table else None


def _table(cells: Sequence[str]) -> list[tuple[int, int, str, str]]:
    """(label cell, value cell, field, value) of each field of the table; [] when there is none."""
    hits: list[tuple[int, int, str, str]] = []
    parsed = [_segments(cell, colon_needed=False) for cell in cells]
    i = 0
    while i < len(cells):
        segments, consumed = parsed[i], i
        for k, (field, value) in enumerate(segments):
            at = i
            if value is None:  # a bare label: its value is the next cell, unless that is a label of its own
                if k == len(segments) - 1 and i + 1 < len(cells) and _plain(parsed[i + 1]):
                    at = consumed = i + 1
                    value = cells[at]
                else:
                    value = ""
            if field is not None:
                hits.append((i, at, field, value))
        i = consumed + 1
    runs: list[list[tuple[int, int, str, str]]] = []
    for hit in hits:  # runs of hits at most NEAR cells apart
        if runs and hit[0] - runs[-1][-1][1] <= NEAR:
            runs[-1].append(hit)
        else:
            runs.append([hit])
    best = max(runs, key=_given, default=[])
    return best if _given(best) >= TABLE_MIN_FIELDS else []


def _given(run: list[tuple[int, int, str, str]]) -> int:
    return len({field for _l, _v, field, value in run if clean_value(value)})


def clean_value(value: str) -> str:
    """White space folded, doubled backslashes (a crawl's escaping) single, 「无」 and dashes empty."""
    value = re.sub(r"\\+", r"\\", re.sub(r"\s+", " ", value)).strip()
    return "" if value.lower() in _EMPTY else value


def _segments(cell: str, colon_needed: bool) -> list[tuple[str | None, str | None]]:
    """(field, value) for each label in a cell: value None for a label with nothing after it; field None for text
    that no known label opens (a value cell, or another label such as 主题词)."""
    starts: list[tuple[int, int, str]] = []  # (label start, value start, field)
    opening = _OPENING.match(cell)
    if opening and (not colon_needed or re.match(_COLON, cell[opening.end("label") :])):
        starts.append((opening.start("label"), opening.end(), _field(opening["label"])))
    for m in _INSIDE.finditer(cell, starts[0][1] if starts else 0):
        starts.append((m.start(), m.end(), _field(m["label"])))
    if not starts:
        if colon_needed or not cell.strip():
            return []
        return [(None, None)] if _UNKNOWN_LABEL.match(cell) else [(None, cell)]
    out: list[tuple[str | None, str | None]] = []
    for n, (_s, value_start, field) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(cell)
        value = cell[value_start:end]
        other = _OTHER.search(value)
        value = value[: other.start()] if other else value
        out.append((field, value if value.strip() else None))
    return out


def _field(label: str) -> str:
    return _FIELD_OF[re.sub(r"\s+", "", label)]


def _plain(segments: list[tuple[str | None, str | None]]) -> bool:
    """A cell without any label: empty, or a value."""
    return all(field is None and value is not None for field, value in segments)


def _bare(segments: list[tuple[str | None, str | None]]) -> bool:
    """A cell that is a label and nothing else (a known one, or another such as 主题词)."""
    return len(segments) == 1 and segments[0][1] is None
