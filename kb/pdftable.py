"""Ruled tables in PDFs, rebuilt row by row from the page's drawn lines and the positions of its characters.

pypdf reads a table page cell by cell in drawing order: a cell that spans several rows (an approval's name beside its
list of papers) lands among the next approval's papers, letter-spaced, and a paper's type follows the paper only when
nothing else was drawn between them. Here one pass of pypdf over the page gives its text, where each run of
characters stands and the straight lines it draws; the grid comes from the rules that meet other rules (a page frame,
a clip or a background box meets none), each character goes to the cell that holds it, and each row becomes one line
that names what it belongs to:

    2、政府投资项目可行性研究报告审批，政府内部管理，采用直接投资和资本金注入方式的政府投资项目需办理。
    政府投资项目可行性研究报告审批：项目建议书批复文件，已列入…的项目无需提供，主审材料（可用容缺审批初审意见替代）。

The leftmost columns whose cells span several rows (for a fifth of the rows, more rows than the finest column's)
hold the group a row belongs to (its first cell that is not a bare number names it in each of its rows); the first
other column's cells are the rows (a cell of another column belongs to the row it mostly lies beside, so columns
ruled at other heights still pair each paper with its own type). A page's first group goes on from the previous
page's when its number is empty or the same, and its first row continues the previous page's last row when its
number cell is empty. A first row that looks like a header (no bare number, nothing spanning below it) is left out,
and so is the same row atop later pages. A cell's own 。 and ； become ， so that a row stays one sentence. Text
above and below the table stays, in reading order.
A page without such a grid (three columns and two rows of text at least), a rotated page, or one whose drawing cannot
be read gets None: the caller reads it as pypdf does.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

_TOLERANCE = 2.0  # points: lines this close are one line
_MIN_RULE = 8.0  # points: shorter strokes are glyph parts or decoration, not rules
_CJK = r"\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"
_SPACE_BY_CJK = re.compile(rf"\s+(?=[{_CJK}])|(?<=[{_CJK}])\s+")
_NUMBER = re.compile(r"\d{1,4}")
_ENDS = "。；，、,;:："
_INNER_STOP = re.compile(r"[。；;！？](?=.)")
GROUP_SHARE = 0.2  # a column whose cells span several rows for this share of the rows …
GROUP_SPAN = 1.2  # … and this many times as many rows as the finest column's cells holds the rows' group

Run = tuple[float, float, float, str]  # x, y of the text's middle, its height, the text
Segment = tuple[tuple[float, float], tuple[float, float]]
Rule = tuple[float, float, float]  # a vertical (x, y_low, y_high) or a horizontal (y, x_low, x_high)


@dataclass(eq=False)  # compared by identity: a merged cell is the same object in every row it spans
class _Cell:
    texts: list[str] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)  # the grid's rows it spans

    @property
    def text(self) -> str:
        return _join(self.texts)


@dataclass
class _Grid:
    rows: list[list[_Cell]]  # per row of the finest partition, per column: merged cells are one object
    heights: list[float]  # of those rows
    above: list[str]
    below: list[str]


@dataclass
class _Record:
    page: int
    group: list[_Cell]
    row: list[str]


@dataclass
class _Content:
    text: str  # the page as pypdf reads it
    runs: list[Run]
    segments: list[Segment]  # straight lines drawn, in page space
    upright: bool  # every run of text stands upright on an unrotated page


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


def _content(page: Any) -> _Content:
    """One pass of pypdf over the page: its text, where each run of text stands, and the lines it draws (a
    rectangle that clips, W, draws nothing)."""
    runs: list[Run] = []
    segments: list[Segment] = []
    state: dict[str, Any] = {"current": (0.0, 0.0), "start": (0.0, 0.0), "rect": 0, "upright": True}

    def visit_text(text: str, cm: list[float], tm: list[float], _font: Any, size: float) -> None:
        if not text or not text.strip():
            return
        try:
            m = _multiply([float(v) for v in tm], [float(v) for v in cm])
        except (TypeError, ValueError):
            return
        if abs(m[1]) > 0.01 * abs(m[0]) + 1e-6 or abs(m[2]) > 0.01 * abs(m[3]) + 1e-6 or m[0] <= 0 or m[3] <= 0:
            state["upright"] = False
        height = float(size or 0) * (abs(m[3]) or 1.0) or 10.0
        runs.append((m[4], m[5] + 0.35 * height, height, text))

    def visit_operator(op: bytes, args: list[Any], cm: list[float], _tm: list[float]) -> None:
        try:
            numbers = [float(a) for a in args] if op in (b"m", b"l", b"re") else []
        except (TypeError, ValueError):
            return

        def point(x: float, y: float) -> tuple[float, float]:
            return (x * cm[0] + y * cm[2] + cm[4], x * cm[1] + y * cm[3] + cm[5])

        if op in (b"W", b"W*") and state["rect"]:  # the rectangle just drawn clips: it is no rule
            del segments[-state["rect"] :]
        state["rect"] = 0
        if op == b"m" and len(numbers) == 2:
            state["current"] = state["start"] = point(*numbers)
        elif op == b"l" and len(numbers) == 2:
            end = point(*numbers)
            segments.append((state["current"], end))
            state["current"] = end
        elif op == b"h":  # closes the subpath with a line back to where it began
            segments.append((state["current"], state["start"]))
            state["current"] = state["start"]
        elif op == b"re" and len(numbers) == 4:
            x, y, w, h = numbers
            corners = [point(x, y), point(x + w, y), point(x + w, y + h), point(x, y + h)]
            segments.extend(zip(corners, corners[1:] + corners[:1], strict=True))
            state["rect"] = 4

    text = page.extract_text(visitor_text=visit_text, visitor_operand_before=visit_operator) or ""
    upright = state["upright"] and not (page.get("/Rotate") or 0) % 360
    return _Content(text, runs, segments, upright)


def _rules(segments: list[Segment]) -> tuple[list[Rule], list[Rule]]:
    """The vertical rules (x, y_low, y_high) and horizontal ones (y, x_low, x_high) among drawn segments."""
    verticals, horizontals = [], []
    for (x0, y0), (x1, y1) in segments:
        if abs(x0 - x1) <= 1.0 and abs(y0 - y1) >= _MIN_RULE:
            verticals.append(((x0 + x1) / 2, min(y0, y1), max(y0, y1)))
        elif abs(y0 - y1) <= 1.0 and abs(x0 - x1) >= _MIN_RULE:
            horizontals.append(((y0 + y1) / 2, min(x0, x1), max(x0, x1)))
    return verticals, horizontals


def _meets(a: Rule, b: Rule) -> bool:
    """A rule meets one across it: each reaches the other's line."""
    return a[1] - _TOLERANCE <= b[0] <= a[2] + _TOLERANCE and b[1] - _TOLERANCE <= a[0] <= b[2] + _TOLERANCE


def _merged(rules: list[Rule]) -> list[Rule]:
    """Collinear rules that touch as one (a table drawn a cell's edge at a time)."""
    out: list[list[float]] = []
    for at, low, high in sorted(rules, key=lambda r: (round(r[0] / _TOLERANCE), r[1])):
        last = out[-1] if out else None
        if last is not None and abs(last[0] - at) <= _TOLERANCE and low <= last[2] + _TOLERANCE:
            last[2] = max(last[2], high)
        else:
            out.append([at, low, high])
    return [(a, b, c) for a, b, c in out]


def _table_rules(verticals: list[Rule], horizontals: list[Rule]) -> tuple[list[Rule], list[Rule]]:
    """The rules of a grid: verticals that meet three horizontals and horizontals that meet two of those verticals
    (a page frame, a background box or a print band meets two rules at most); collinear pieces count as one rule
    for this, and are kept as drawn (a merged cell is one with no rule inside it)."""
    long_v, long_h = _merged(verticals), _merged(horizontals)
    for _ in range(3):
        long_v = [v for v in long_v if sum(1 for h in long_h if _meets(v, h)) >= 3]
        long_h = [h for h in long_h if sum(1 for v in long_v if _meets(v, h)) >= 2]
    verticals = [
        v
        for v in verticals
        if any(
            abs(v[0] - w[0]) <= _TOLERANCE and w[1] - _TOLERANCE <= v[1] and v[2] <= w[2] + _TOLERANCE for w in long_v
        )
    ]
    horizontals = [
        h
        for h in horizontals
        if any(
            abs(h[0] - w[0]) <= _TOLERANCE and w[1] - _TOLERANCE <= h[1] and h[2] <= w[2] + _TOLERANCE for w in long_h
        )
    ]
    return verticals, horizontals


def _cluster(values: list[float]) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if out and v - out[-1] <= _TOLERANCE:
            continue
        out.append(v)
    return out


def _lines(runs: list[Run]) -> list[str]:
    """Runs grouped into lines top down, each line's runs left to right."""
    lines: list[list[Run]] = []
    for run in sorted(runs, key=lambda r: (-r[1], r[0])):
        if lines and abs(lines[-1][0][1] - run[1]) <= 0.5 * run[2]:
            lines[-1].append(run)
        else:
            lines.append([run])
    return [t for t in (_join(["".join(r[3] for r in sorted(line))]) for line in lines) if t]


def _grid(content: _Content) -> _Grid | None:
    if not content.upright:
        return None
    verticals, horizontals = _table_rules(*_rules(content.segments))
    xs = _cluster([v[0] for v in verticals])
    fine = sorted(_cluster([h[0] for h in horizontals]), reverse=True)
    if len(xs) < 4 or len(fine) < 3:  # three columns and two rows at least
        return None
    columns, rows_n = len(xs) - 1, len(fine) - 1
    parent = list(range(columns * rows_n))  # slot (row j, column i) is j * columns + i

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    def ruled(lines: list[Rule], at: float, across: float) -> bool:
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
    for j, row in enumerate(slots):
        for cell in dict.fromkeys(row):
            cell.rows.append(j)
    inside: dict[int, list[Run]] = {}
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
    if sum(1 for r in slots if len({id(c) for c in r if c.text}) >= 2) < 2:
        return None
    heights = [fine[j] - fine[j + 1] for j in range(rows_n)]
    return _Grid(slots, heights, _lines(above), _lines(below))


def pages_text(pages: list[Any]) -> list[str]:
    """Each page's text: its ruled table rebuilt row by row, else as pypdf reads it (one pass over each page; a
    page whose drawing the table reader cannot follow is read by pypdf alone)."""
    contents: list[_Content | None] = []
    for page in pages:
        try:
            contents.append(_content(page))
        except Exception as exc:  # pypdf raises many private types; the plain reading below still may succeed
            log.debug("table reader skipped a page: %s", exc)
            contents.append(None)
    tables = tables_text(contents)
    return [
        table if table is not None else content.text if content is not None else page.extract_text() or ""
        for page, content, table in zip(pages, contents, tables, strict=True)
    ]


def _strip(text: str) -> str:
    return _INNER_STOP.sub("，", text.strip()).rstrip(_ENDS)


def _name(group: list[_Cell]) -> str:
    """The group's name: its first cell that is not a bare number."""
    return next((_strip(c.text) for c in group if c.text and not _NUMBER.fullmatch(c.text)), "")


def _line(cells: list[str], numbered: bool = True) -> str:
    """Cells as one line by commas: a leading number as 「2、」 (a group's line heads a section, kb/split.py), or
    left out (`numbered` false: a row's place in its group says nothing a quote needs)."""
    cells = [stripped for c in cells if (stripped := _strip(c))]
    if len(cells) > 1 and _NUMBER.fullmatch(cells[0]):
        return f"{cells[0]}、{'，'.join(cells[1:])}" if numbered else "，".join(cells[1:])
    return "，".join(cells)


def _looks_like_header(grid: _Grid) -> bool:
    """The first row names columns: no bare number in it, two cells with text, none running on below it."""
    first = list(dict.fromkeys(grid.rows[0]))
    texts = [c.text for c in first if c.text]
    return len(texts) >= 2 and not any(_NUMBER.fullmatch(t) for t in texts) and all(c.rows == [0] for c in first)


def _overlap(cell: _Cell, rows: list[int], heights: list[float]) -> float:
    return sum(heights[j] for j in cell.rows if j in rows)


def _row_texts(grid: _Grid, anchor: _Cell, owns: list[int]) -> list[str]:
    """The row an anchor cell makes: for each of the row's columns, the cells lying mostly beside the anchor (a
    column ruled at other heights pairs each paper with its own type), else the one most beside it."""
    texts = []
    for column in owns:
        near = list(dict.fromkeys(grid.rows[j][column] for j in anchor.rows))
        if near == [anchor]:
            texts.append(anchor.text)
            continue
        mostly = [
            c for c in near if _overlap(c, anchor.rows, grid.heights) >= 0.5 * sum(grid.heights[j] for j in c.rows)
        ]
        chosen = mostly or [max(near, key=lambda c: _overlap(c, anchor.rows, grid.heights))]
        texts.append("，".join(_strip(c.text) for c in chosen if c.text))
    return texts


def _continue(previous: _Cell, mine: _Cell) -> None:
    """A cell split by a page break: the next page's part continues it (or holds it all, written again)."""
    if not mine.text or mine is previous or mine.text in previous.text:
        return
    if previous.text in mine.text:
        previous.texts = list(mine.texts)
    else:
        previous.texts.extend(mine.texts)


def tables_text(contents: list[_Content | None]) -> list[str | None]:
    """Each page's text with its ruled table rebuilt row by row, or None for a page without one (or not read)."""
    grids: list[_Grid | None] = []
    for content in contents:
        try:
            grids.append(_grid(content) if content is not None else None)
        except (ValueError, TypeError, IndexError, ZeroDivisionError) as exc:  # a drawing of unexpected operands
            log.debug("no table read on a page: %s", exc)
            grids.append(None)
    shapes = {len(g.rows[0]) for g in grids if g is not None}
    width = shapes.pop() if len(shapes) == 1 else 0  # tables of different shapes: no groups, no rows carried over
    spanning = _group_columns([g for g in grids if g is not None]) if width else set()
    header: list[str] | None = None
    records: list[_Record] = []
    notes: dict[int, list[str]] = {}  # page → rows one cell wide (a note inside the frame)
    for number, g in enumerate(grids):
        if g is None:
            continue
        rows = list(range(len(g.rows)))
        texts = [c.text for c in dict.fromkeys(g.rows[0])]
        if header is None and _looks_like_header(g):
            header, rows = texts, rows[1:]
        elif header is not None and texts == header:
            rows = rows[1:]
        columns = range(len(g.rows[0]))
        groups = [c for c in columns if c in spanning]
        owns = [c for c in columns if c not in spanning]
        alias: dict[tuple[int, ...], list[_Cell]] = {}  # this page's cells of a group the previous page began
        anchors: list[_Cell] = []
        for j in rows:
            if len(set(map(id, g.rows[j]))) == 1:  # one cell across: a note
                notes.setdefault(number, []).append(_strip(g.rows[j][0].text))
            elif owns and g.rows[j][owns[0]] not in anchors:
                anchors.append(g.rows[j][owns[0]])
        for i, anchor in enumerate(anchors):
            first = min(j for j in anchor.rows if j in rows)
            group = list(dict.fromkeys(g.rows[first][c] for c in groups))
            group = alias.get(tuple(map(id, group)), group)
            own = _row_texts(g, anchor, owns)
            previous = records[-1] if records else None
            goes_on = (
                i == 0
                and previous is not None
                and bool(group)
                and bool(previous.group)
                and (not group[0].text or group[0].text == previous.group[0].text)
            )
            if goes_on and previous is not None:  # the previous page's last group goes on here
                for mine, theirs in zip(group, previous.group, strict=False):
                    _continue(theirs, mine)
                alias[tuple(map(id, group))] = previous.group
                group = previous.group
            if not any(own) and not any(c.text for c in group):
                continue
            if i == 0 and previous is not None and not own[0] and any(own) and (goes_on or not groups):
                # the previous page's last row goes on here (its number cell empty)
                previous.row = [_join([a, b]) for a, b in zip(previous.row, own, strict=False)]
                continue
            records.append(_Record(number, group, own))
    out: list[str | None] = [None] * len(contents)
    for number, g in enumerate(grids):
        if g is None:
            continue
        lines = list(g.above)
        for index, record in enumerate(records):
            if record.page != number:
                continue
            if record.group and (index == 0 or records[index - 1].group != record.group):
                lines.append(_line([c.text for c in record.group]) + "。")
            name = _name(record.group)
            row = _line(record.row, numbered=False)
            lines.append(f"{name}：{row}。" if name and row else f"{name or row}。")
        lines.extend(n for n in notes.get(number, []) if n)
        lines.extend(g.below)
        out[number] = "\n".join(lines)
    return out


def _group_columns(grids: list[_Grid]) -> set[int]:
    """The leftmost columns whose cells span several rows for GROUP_SHARE of the rows at least and span GROUP_SPAN
    times as many rows as the finest column's on average (an approval beside its papers), up to the first that does
    not; never the last column (a row needs a cell of its own). A paper's situation now and then shared by two
    papers, or two columns ruled at different heights, make no group."""
    shared: dict[int, int] = {}
    slots: dict[int, int] = {}
    distinct: dict[int, set[int]] = {}
    for g in grids:
        body = [row for row in g.rows[1:] if len({id(c) for c in row}) > 1]  # not a note one cell wide
        for column in range(len(g.rows[0])):
            shared[column] = shared.get(column, 0) + sum(1 for row in body if len(row[column].rows) > 1)
            slots[column] = slots.get(column, 0) + len(body)
            distinct.setdefault(column, set()).update(id(row[column]) for row in body)
    spans = {c: slots[c] / len(distinct[c]) for c in slots if distinct[c]}
    finest = min(spans.values(), default=1.0)
    spanning: set[int] = set()
    while (
        (column := len(spanning)) in spans
        and column < len(spans) - 1
        and shared[column] >= GROUP_SHARE * slots[column]
        and spans[column] >= GROUP_SPAN * finest
    ):
        spanning.add(column)
    return spanning
