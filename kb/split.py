"""Structure-aware splitting of Chinese policy text: headings give sections, sentences give chunks."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .types import Chunk, DocMeta, SourceDoc

SECTION_SEP = " › "
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_N = r"[一二三四五六七八九十百零〇]+"
# (level, pattern): a heading marker at the start of a line.
_MARKERS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (0, re.compile(rf"^第(?P<n>{_N}|\d+)[编章部分]")),
    (1, re.compile(rf"^(?P<n>{_N})、")),
    (2, re.compile(rf"^[（(](?P<n>{_N})[）)]")),
    (3, re.compile(rf"^第(?P<n>{_N}|\d+)条")),
    (4, re.compile(r"^(?P<n>\d{1,2})[.．、](?!\d)")),
    (5, re.compile(r"^[（(](?P<n>\d{1,2})[）)]")),
)
_NOTE = re.compile(r"^(注|备注)[:：]")
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])")
_SOFT_BREAK = re.compile(r"(?<=[，、：,:])")
HEADING_MAX = 30
# A document of at most this many chunks' worth of text is short: all its sections are small, and merged they would
# leave it no sections at all. (A long document's few small sections still share chunks, as the ranker and the
# answer gate were fitted on.)
SHORT_DOC = 5


@dataclass(frozen=True)
class _Heading:
    line: int
    level: int
    number: int
    title: str
    bare: bool  # the line is only the heading ("一、总体要求"), no text of its own after it


def split(doc: SourceDoc, meta: DocMeta, size: int = 300, overlap: int = 60) -> list[Chunk]:
    """Cut a cleaned document into chunks of at most `size` characters (a longer sentence is cut too).

    A chunk may run a quarter over `size` to keep a short heading with its text or to take in a scrap of a tail.
    Each chunk carries its section path, its offsets into `doc.text` (`doc.text[start:end]` is its text, which never
    begins or ends with white space) and the page it starts on.
    """
    text = doc.text
    lines = _line_spans(text)
    headings = {h.line: h for h in _headings([text[s:e] for s, e in lines])}
    sections = _split_head(_sections(lines, headings, text), lines, text)
    heading_spans = {lines[i] for i, h in headings.items() if h.bare}
    pieces: list[tuple[int, int, str]] = []
    sections = _merge_small(_merge_headings(sections, lines, heading_spans), size, short=len(text) <= SHORT_DOC * size)
    for start, end, path in sections:
        pieces.extend((s, e, path) for s, e in _pack(text, start, end, size, overlap))
    return [
        Chunk(
            id=f"{meta.doc_id}:{seq}",
            doc_id=meta.doc_id,
            seq=seq,
            text=text[s:e],
            section=path,
            start=s,
            end=e,
            page=doc.page_at(s),
            meta=meta,
            doc_hash=doc.content_hash,
        )
        for seq, (s, e, path) in enumerate(pieces)
    ]


def _line_spans(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for line in text.split("\n"):
        if line.strip():
            spans.append((pos, pos + len(line)))
        pos += len(line) + 1
    return spans


def _number(raw: str) -> int:
    if raw.isdigit():
        return int(raw)
    if raw.startswith("十"):
        raw = "一" + raw
    total, current = 0, 0
    for ch in raw:
        if ch == "十":
            total += max(current, 1) * 10
            current = 0
        elif ch == "百":
            total += max(current, 1) * 100
            current = 0
        else:
            current = _CN_DIGITS.get(ch, 0)
    return total + current


def _heading_title(line: str) -> str:
    head = re.split(r"[。；]", line, maxsplit=1)[0].strip()
    if len(head) > HEADING_MAX:
        head = head[:HEADING_MAX] + "…"
    return head


def _headings(lines: list[str]) -> list[_Heading]:
    """Heading candidates that belong to a numbered sequence (一、 then 二、 …); a lone 一、 in a table is not one."""
    candidates: list[_Heading] = []
    for i, line in enumerate(lines):
        for level, pattern in _MARKERS:
            m = pattern.match(line)
            if m:
                title = _heading_title(line)
                core = line.rstrip("。；;：: ")
                # 第一条 carries its text, and so does 「三、清明节：4月5日放假」
                bare = core == title and (level != 3 or len(title) <= 8) and not re.search(r"[：:]", core)
                candidates.append(_Heading(i, level, _number(m["n"]), title, bare))
                break
    accepted: list[_Heading] = []
    last_at: dict[int, int] = {}  # numbering restarts under a new parent …
    last_ever: dict[int, int] = {}  # … or runs on through the document (（三） under 二、)
    for idx, cand in enumerate(candidates):
        if cand.number == 1:
            ok = _has_successor(candidates, idx)
        else:
            ok = cand.number in (last_at.get(cand.level, 0) + 1, last_ever.get(cand.level, 0) + 1)
        if ok:
            accepted.append(cand)
            last_at[cand.level] = last_ever[cand.level] = cand.number
            for deeper in [lv for lv in last_at if lv > cand.level]:
                del last_at[deeper]
    return accepted


def _has_successor(candidates: list[_Heading], idx: int) -> bool:
    first = candidates[idx]
    for later in candidates[idx + 1 :]:
        if later.level < first.level:
            return False
        if later.level == first.level:
            return later.number == 2
    return False


def _sections(lines: list[tuple[int, int]], headings: dict[int, _Heading], text: str) -> list[tuple[int, int, str]]:
    sections: list[tuple[int, int, str]] = []
    stack: list[_Heading] = []
    current_start: int | None = None
    current_path = ""
    for i, (s, e) in enumerate(lines):
        heading = headings.get(i)
        # a note after a list of items (1、 2、 … a PDF table's rows, kb/pdftable.py) is about the whole list
        note = heading is None and bool(stack) and stack[-1].level >= 4 and bool(_NOTE.match(text[s:e]))
        if heading is not None or current_start is None or note:
            if current_start is not None:
                sections.append((current_start, lines[i - 1][1], current_path))
            if heading is not None:
                stack = [h for h in stack if h.level < heading.level] + [heading]
            elif note:
                stack = [h for h in stack if h.level < 4]
            current_start = s
            current_path = SECTION_SEP.join(h.title for h in stack)
    if current_start is not None:
        sections.append((current_start, lines[-1][1], current_path))
    return sections


def _split_head(
    sections: list[tuple[int, int, str]], lines: list[tuple[int, int]], text: str
) -> list[tuple[int, int, str]]:
    """The document head (title, dates, 文号, salutation) is a passage of its own, apart from the first paragraph."""
    if not sections or sections[0][2]:
        return sections
    start, end, _ = sections[0]
    head_end = None
    for s, e in lines:
        if s >= end:
            break
        line = text[s:e]
        if len(line) > 60 or line.endswith("。"):
            break
        head_end = e
        if line.endswith(("：", ":")):
            break  # the salutation closes the head
    if head_end is None or head_end >= end:
        return sections
    body_start = next(s for s, _e in lines if s > head_end)
    return [(start, head_end, ""), (body_start, end, ""), *sections[1:]]


def _merge_headings(
    sections: list[tuple[int, int, str]], lines: list[tuple[int, int]], heading_spans: set[tuple[int, int]]
) -> list[tuple[int, int, str]]:
    """A heading with no body of its own ("一、总体要求") joins the section that follows it."""
    merged: list[tuple[int, int, str]] = []
    carry: tuple[int, int, str] | None = None  # (start, end, path) of bare headings waiting for their body
    for start, end, path in sections:
        own_lines = [span for span in lines if start <= span[0] and span[1] <= end]
        bare = bool(path and own_lines and all(span in heading_spans for span in own_lines))
        bare = bare and end - start <= 2 * HEADING_MAX
        if carry is not None and not path.startswith(carry[2] + SECTION_SEP) and (bare or path != carry[2]):
            merged.append(carry)  # a sibling or a parent follows: the waiting heading has no body of its own
            carry = None
        if bare:
            carry = (carry[0], end, carry[2]) if carry is not None else (start, end, path)
            continue
        if carry is not None:
            start, carry = carry[0], None
        merged.append((start, end, path))
    if carry is not None:  # bare headings end the document: a section of their own
        merged.append(carry)
    return merged


def _common_path(a: str, b: str) -> str:
    shared = []
    for x, y in zip(a.split(SECTION_SEP), b.split(SECTION_SEP), strict=False):
        if x != y:
            break
        shared.append(x)
    return SECTION_SEP.join(shared)


def _main(path: str) -> bool:
    """A path under a main heading (第X章, 一、, （一）, 第X条): a short document's sections, which merging must not
    lose; items (1. 2.) with no heading above them may share a chunk unnamed."""
    top = path.split(SECTION_SEP, 1)[0]
    return any(pattern.match(top) for level, pattern in _MARKERS if level <= 3)


def _merge_small(sections: list[tuple[int, int, str]], size: int, short: bool) -> list[tuple[int, int, str]]:
    """Short neighbouring sections (a few lines each) share a chunk; the chunk keeps the path they have in common.

    The document head stays on its own, a section is never merged into one that is already half full, and in a
    `short` document sections of different main headings stay apart (merged, 一、 and 二、 would leave their chunk no
    section at all).
    """
    merged: list[tuple[int, int, str]] = []
    head = sections[0] if sections and not sections[0][2] else None
    for start, end, path in sections:
        if merged and merged[-1] != head:
            prev_start, prev_end, prev_path = merged[-1]
            small = end - start < size // 2 and prev_end - prev_start < size // 2
            common = _common_path(prev_path, path)
            apart = short and not common and (_main(prev_path) or _main(path))
            if small and end - prev_start <= size and not apart:
                merged[-1] = (prev_start, end, common)
                continue
        merged.append((start, end, path))
    return merged


def _units(text: str, start: int, end: int, size: int) -> list[tuple[int, int]]:
    """Sentences (and lines) of text[start:end] as spans; a sentence longer than `size` is cut at commas, then hard."""
    units: list[tuple[int, int]] = []
    pos = start
    for line in text[start:end].split("\n"):
        line_start = pos
        pos += len(line) + 1
        offset = line_start
        for sentence in _SENTENCE_END.split(line):
            if not sentence:
                continue
            s, e = offset, offset + len(sentence)
            offset = e
            if not sentence.strip():
                continue
            if e - s <= size:
                units.append((s, e))
                continue
            pieces: list[tuple[int, int]] = []
            sub_start = s
            for part in _SOFT_BREAK.split(sentence):
                if not part:
                    continue
                ps, pe = sub_start, sub_start + len(part)
                sub_start = pe
                while pe - ps > size:
                    pieces.append((ps, ps + size))
                    ps += size
                pieces.append((ps, pe))
            units.extend(_regroup(pieces, size))
    return units


def _regroup(pieces: list[tuple[int, int]], size: int) -> list[tuple[int, int]]:
    """Comma-cut pieces of one long sentence rejoin up to `size` so that no piece is needlessly tiny.

    Only the pieces of one cut sentence: whole sentences stay units of their own, so that the overlap between
    neighbouring chunks can repeat them.
    """
    out: list[tuple[int, int]] = []
    for s, e in pieces:
        if out and out[-1][1] == s and (e - out[-1][0]) <= size and (e - s) < size // 4:
            out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def _pack(text: str, start: int, end: int, size: int, overlap: int) -> list[tuple[int, int]]:
    units = _units(text, start, end, size)
    chunks: list[tuple[int, int]] = []
    current: list[tuple[int, int]] = []
    for unit in units:
        small_head = current and current[-1][1] - current[0][0] < size // 4  # headings only: keep them with their text
        if (
            current
            and unit[1] - current[0][0] > size
            and not (small_head and unit[1] - current[0][0] <= size + size // 4)
        ):
            chunks.append((current[0][0], current[-1][1]))
            tail: list[tuple[int, int]] = []
            for u in reversed(current):  # whole sentences of the previous chunk, up to `overlap` characters
                if u[1] - u[0] + sum(t[1] - t[0] for t in tail) > overlap:
                    break
                tail.insert(0, u)
            current = [u for u in tail if unit[1] - u[0] <= size]
        current.append(unit)
    if current:
        last = (current[0][0], current[-1][1])
        if chunks and last[1] - last[0] < size // 6 and last[1] - chunks[-1][0] <= size + size // 4:
            chunks[-1] = (chunks[-1][0], last[1])  # a scrap of a tail belongs with its chunk
        else:
            chunks.append(last)
    return [_strip(text, s, e) for s, e in chunks if text[s:e].strip()]


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without white space at either end (a hard cut or a sentence break can leave a space there)."""
    while text[start].isspace():
        start += 1
    while text[end - 1].isspace():
        end -= 1
    return start, end
