"""Ruled tables in PDFs, rebuilt row by row from the page's drawn lines and the positions of its characters.

pypdf reads a table page cell by cell in drawing order: a cell that spans several rows (an approval's name beside its
list of papers) lands among the next approval's papers, letter-spaced, and a paper's type follows the paper only when
nothing else was drawn between them. Here the grid comes from the strokes and thin rectangles that draw the table;
each character goes to the cell that holds it; and each row becomes one line that names what it belongs to:

    2 政府投资项目可行性研究报告审批，政府内部管理，采用直接投资和资本金注入方式的政府投资项目需办理。
    政府投资项目可行性研究报告审批：1 项目建议书批复文件，已列入…的项目无需提供，主审材料(可用容缺审批初审意见替代)。

A column whose cells span several rows anywhere in the document holds the group a row belongs to; the group's first
cell that is not a bare number names it in each of its rows. A page's first row continues the previous page's last
group (or row) when its number cell is empty. The header row is written once. Text above and below the table stays,
in reading order. A page without a ruled grid of at least three columns gets None (the caller extracts it as before).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_TOLERANCE = 2.0  # points: lines this close are one line
_MIN_RULE = 8.0  # points: shorter strokes are glyph parts or decoration, not rules
_CJK = r"\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"
_SPACE_BY_CJK = re.compile(rf"\s+(?=[{_CJK}])|(?<=[{_CJK}])\s+")
_NUMBER = re.compile(r"\d{1,4}")
_ENDS = "。；，、,;:："
GROUP_SHARE = 0.2  # a column whose cells span several rows for this share of the rows holds the rows' group


@dataclass(eq=False)  # compared by identity: a merged cell is the same object in every row it spans
class _Cell:
    texts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return _join(self.texts)


@dataclass
class _Grid:
    rows: list[list[_Cell]]  # per row of the finest partition, per column: merged cells are one object
    above: list[str]
    below: list[str]


@dataclass
class _Record:
    page: int
    group: list[_Cell]
    row: list[str]


def _join(parts: list[str]) -> str:
    text = " ".join(p for p in parts if p)
    return _SPACE_BY_CJK.sub("", re.sub(r"\s+", " ", text)).strip()


def _multiply(a: list[float], b: list[float]) -> list[float]:
    return [
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    ]


def _rules(
    segments: list[tuple[tuple[float, float], tuple[float, float]]],
) -> tuple[list[tuple[float, float, float]], list[tuple[float, float, float]]]:
    """The vertical rules (x, y_low, y_high) and horizontal ones (y, x_low, x_high) among drawn segments."""
    verticals, horizontals = [], []
    for (x0, y0), (x1, y1) in segments:
        if abs(x0 - x1) <= 1.0 and abs(y0 - y1) >= _MIN_RULE:
            verticals.append(((x0 + x1) / 2, min(y0, y1), max(y0, y1)))
        elif abs(y0 - y1) <= 1.0 and abs(x0 - x1) >= _MIN_RULE:
            horizontals.append(((y0 + y1) / 2, min(x0, x1), max(x0, x1)))
    return verticals, horizontals


@dataclass
class _Content:
    text: str  # the page as pypdf reads it
    runs: list[tuple[float, float, float, str]]  # (x, y of the text's middle, size, text), in page space
    segments: list[tuple[tuple[float, float], tuple[float, float]]]  # straight lines drawn, in page space


def _content(page: Any) -> _Content:
    """One pass of pypdf over the page: its text, where each run of text stands, and the lines it draws."""
    runs: list[tuple[float, float, float, str]] = []
    segments: list[tuple[tuple[float, float], tuple[float, float]]] = []
    current = (0.0, 0.0)

    def visit_text(text: str, cm: list[float], tm: list[float], _font: Any, size: float) -> None:
        if not text or not text.strip():
            return
        m = _multiply([float(v) for v in tm], [float(v) for v in cm])
        scale = (m[2] ** 2 + m[3] ** 2) ** 0.5 or 1.0
        height = float(size or 0) * scale or 10.0
        runs.append((m[4], m[5] + 0.35 * height, height, text))

    def visit_operator(op: bytes, args: list[Any], cm: list[float], _tm: list[float]) -> None:
        nonlocal current

        def point(x: Any, y: Any) -> tuple[float, float]:
            x, y = float(x), float(y)
            return (x * cm[0] + y * cm[2] + cm[4], x * cm[1] + y * cm[3] + cm[5])

        if op == b"m" and len(args) == 2:
            current = point(*args)
        elif op == b"l" and len(args) == 2:
            end = point(*args)
            segments.append((current, end))
            current = end
        elif op == b"re" and len(args) == 4:
            x, y, w, h = (float(a) for a in args)
            corners = [point(x, y), point(x + w, y), point(x + w, y + h), point(x, y + h)]
            segments.extend(zip(corners, corners[1:] + corners[:1], strict=True))

    text = page.extract_text(visitor_text=visit_text, visitor_operand_before=visit_operator) or ""
    return _Content(text, runs, segments)


def _cluster(values: list[float]) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if out and v - out[-1] <= _TOLERANCE:
            continue
        out.append(v)
    return out


def _lines(runs: list[tuple[float, float, float, str]]) -> list[str]:
    """Runs grouped into lines top down, each line's runs left to right."""
    lines: list[list[tuple[float, float, float, str]]] = []
    for run in sorted(runs, key=lambda r: (-r[1], r[0])):
        if lines and abs(lines[-1][0][1] - run[1]) <= 0.5 * run[2]:
            lines[-1].append(run)
        else:
            lines.append([run])
    return [t for t in (_join(["".join(r[3] for r in sorted(line))]) for line in lines) if t]


def _grid(content: _Content) -> _Grid | None:
    verticals, horizontals = _rules(content.segments)
    # the table's verticals: those beside at least three others at other places across (a page frame, a print
    # band's box or an underline is no table)
    verticals = [
        v
        for v in verticals
        if len(_cluster([w[0] for w in verticals if w[1] < v[2] - _TOLERANCE and w[2] > v[1] + _TOLERANCE])) >= 4
    ]
    xs = _cluster([v[0] for v in verticals])
    if len(xs) < 4:
        return None
    top = max(v[2] for v in verticals)
    bottom = min(v[1] for v in verticals)
    horizontals = [
        h for h in horizontals if bottom - _TOLERANCE <= h[0] <= top + _TOLERANCE and h[2] > xs[0] and h[1] < xs[-1]
    ]
    fine = sorted(_cluster([h[0] for h in horizontals]), reverse=True)
    if len(fine) < 3:
        return None
    columns, rows_n = len(xs) - 1, len(fine) - 1
    parent = list(range(columns * rows_n))  # slot (row j, column i) is j * columns + i

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    def ruled(lines: list[tuple[float, float, float]], at: float, across: float) -> bool:
        return any(abs(l0 - at) <= _TOLERANCE and l1 - _TOLERANCE <= across <= l2 + _TOLERANCE for l0, l1, l2 in lines)

    for j in range(rows_n):
        middle_y = (fine[j] + fine[j + 1]) / 2
        for i in range(columns):
            middle_x = (xs[i] + xs[i + 1]) / 2
            if i + 1 < columns and not ruled(verticals, xs[i + 1], middle_y):  # no rule between: one cell
                parent[find(j * columns + i + 1)] = find(j * columns + i)
            if j + 1 < rows_n and not ruled(horizontals, fine[j + 1], middle_x):
                parent[find((j + 1) * columns + i)] = find(j * columns + i)
    cells: dict[int, _Cell] = {}
    slots = [[cells.setdefault(find(j * columns + i), _Cell()) for i in range(columns)] for j in range(rows_n)]
    inside: dict[int, list[tuple[float, float, float, str]]] = {}
    above, below = [], []
    for run in content.runs:
        x, y = run[0] + 0.25 * run[2], run[1]
        i = next((i for i in range(columns) if xs[i] <= x < xs[i + 1]), None)
        j = next((j for j in range(rows_n) if fine[j + 1] <= y <= fine[j]), None)
        if i is None or j is None:
            (above if y > (fine[0] + fine[-1]) / 2 else below).append(run)
            continue
        inside.setdefault(id(slots[j][i]), []).append(run)
    for cell in cells.values():
        cell.texts = _lines(inside.get(id(cell), []))
    filled = [r for r in slots if len({id(c) for c in r if c.text}) >= 2]
    if len(filled) < 2:
        return None
    return _Grid(slots, _lines(above), _lines(below))


def _strip(text: str) -> str:
    return text.strip().rstrip(_ENDS)


def _name(group: list[_Cell]) -> str:
    """The group's name: its first cell that is not a bare number."""
    return next((_strip(c.text) for c in group if c.text and not _NUMBER.fullmatch(c.text)), "")


def _line(cells: list[str], numbered: bool = True) -> str:
    """Cells as one line by commas: a leading number as 「2、」 (a group's line heads a section, kb/split.py), or
    left out (`numbered` false: a row's place in its group says nothing a quote needs)."""
    cells = [_strip(c) for c in cells if _strip(c)]
    if len(cells) > 1 and _NUMBER.fullmatch(cells[0]):
        return f"{cells[0]}、{'，'.join(cells[1:])}" if numbered else "，".join(cells[1:])
    return "，".join(cells)


def pages_text(pages: list[Any]) -> list[str]:
    """Each page's text: its ruled table rebuilt row by row, else as pypdf reads it (one pass over each page)."""
    contents = [_content(page) for page in pages]
    tables = tables_text(contents)
    return [table if table is not None else content.text for table, content in zip(tables, contents, strict=True)]


def tables_text(contents: list[_Content]) -> list[str | None]:
    """Each page's text with its ruled table rebuilt row by row, or None for a page without one."""
    grids = []
    for content in contents:
        try:
            grids.append(_grid(content))
        except (ValueError, TypeError, IndexError, ZeroDivisionError):  # a drawing of unexpected operands
            grids.append(None)
    widths = {len(g.rows[0]) for g in grids if g is not None}
    if len(widths) != 1:  # tables of different shapes: rows are not carried from page to page
        widths = set()
    # group columns: the leftmost ones whose cells span several rows for a fifth of the rows at least (an approval
    # beside its papers), up to the first that does not (a paper's situation now and then shared by two papers, or
    # a number cell merged over a row the PDF broke, makes no group)
    tally: dict[int, list[int]] = {}
    for g in grids:
        if g is None:
            continue
        body = [row for row in g.rows[1:] if len({id(c) for c in row}) > 1]  # not a row-wide note
        for column in range(len(g.rows[0])):
            counts: dict[int, int] = {}
            for row in body:
                counts[id(row[column])] = counts.get(id(row[column]), 0) + 1
            shared, total = tally.setdefault(column, [0, 0])
            tally[column] = [shared + sum(1 for row in body if counts[id(row[column])] > 1), total + len(body)]
    spanning: set[int] = set()
    while (column := len(spanning)) in tally and tally[column][0] >= GROUP_SHARE * max(tally[column][1], 1):
        spanning.add(column)
    header: list[str] | None = None
    records: list[_Record] = []
    for number, g in enumerate(grids):
        if g is None:
            continue
        rows = g.rows
        texts = [c.text for c in rows[0]]
        if header is None:
            header, rows = texts, rows[1:]
        elif texts == header:
            rows = rows[1:]
        groups = [c for c in range(len(rows[0]) if rows else 0) if c in spanning] if widths else []
        owns = [c for c in range(len(rows[0]) if rows else 0) if c not in groups]
        alias: dict[tuple[int, ...], list[_Cell]] = {}  # this page's cells of a group the previous page began
        for i, row in enumerate(rows):
            group = list({id(row[c]): row[c] for c in groups}.values())  # a cell over two columns is one
            group = alias.get(tuple(map(id, group)), group)
            own = [c.text for c in {id(row[c]): row[c] for c in owns}.values()]
            if not any(own) and not any(c.text for c in group):
                continue
            previous = records[-1] if records else None
            if (
                i == 0
                and previous is not None
                and group
                and previous.group
                and (not group[0].text or group[0].text == previous.group[0].text)
            ):
                # the previous page's last group goes on (its number empty or written again): its text continues
                for mine, theirs in zip(group, previous.group, strict=False):
                    if mine.text and mine is not theirs and mine.text not in theirs.text:
                        theirs.texts.extend(mine.texts)
                alias[tuple(map(id, group))] = previous.group
                group = previous.group
            if i == 0 and previous is not None and owns and not own[0] and any(own):
                previous.row = [_join([a, b]) for a, b in zip(previous.row, own, strict=False)]
                continue
            records.append(_Record(number, group, own))
    out: list[str | None] = [None] * len(contents)
    for number, g in enumerate(grids):
        if g is None:
            continue
        lines = list(g.above)  # the header row is left out: every row names its group, in the columns' order
        for index, record in enumerate(records):
            if record.page != number:
                continue
            if record.group and (index == 0 or records[index - 1].group != record.group):
                lines.append(_line([c.text for c in record.group]) + "。")
            name = _name(record.group)
            row = _line(record.row, numbered=False)
            lines.append(f"{name}：{row}。" if name else f"{row}。")
        lines.extend(g.below)
        out[number] = "\n".join(lines)
    return out
