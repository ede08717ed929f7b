"""Cleaning in memory: web chrome, PDF running headers/footers, NFKC + radicals, stray spaces, broken lines."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, replace

from .types import Page, SourceDoc

# CJK Radicals Supplement characters that stand for whole characters; NFKC leaves this block alone
# (it only folds the Kangxi Radicals block), and PDF text extraction is full of both.
RADICALS = str.maketrans(
    {
        "⺁": "厂", "⺇": "几", "⺊": "卜", "⺌": "小", "⺍": "小", "⺎": "兀", "⺏": "尣", "⺐": "尢",
        "⺒": "巳", "⺓": "幺", "⺔": "彑", "⺕": "彐", "⺗": "心", "⺛": "旡", "⺜": "日", "⺝": "月",
        "⺞": "歺", "⺟": "母", "⺠": "民", "⺢": "氺", "⺧": "牛", "⺩": "王", "⺫": "目", "⺬": "示",
        "⺱": "罓", "⺲": "罒", "⺶": "羊", "⺹": "耂", "⺺": "肀", "⺼": "肉", "⻁": "虎", "⻃": "覀",
        "⻄": "西", "⻅": "见", "⻆": "角", "⻈": "讠", "⻉": "贝", "⻋": "车", "⻏": "阝", "⻐": "钅",
        "⻑": "長", "⻒": "镸", "⻓": "长", "⻔": "门", "⻖": "阝", "⻗": "雨", "⻘": "青", "⻙": "韦",
        "⻚": "页", "⻛": "风", "⻜": "飞", "⻝": "食", "⻟": "飠", "⻠": "饣", "⻢": "马", "⻣": "骨",
        "⻤": "鬼", "⻥": "鱼", "⻦": "鸟", "⻧": "卤", "⻨": "麦", "⻩": "黄", "⻪": "黾", "⻫": "斉",
        "⻬": "齐", "⻭": "歯", "⻮": "齿", "⻯": "竜", "⻰": "龙", "⻱": "龜", "⻲": "亀", "⻳": "龟",
        # Component forms (亻 氵 扌 …): Unicode's equivalent unified ideographs.
        "⺂": "乛", "⺃": "乚", "⺄": "乙", "⺅": "亻", "⺆": "冂", "⺈": "𠂊", "⺉": "刂", "⺋": "㔾", "⺑": "尢",
        "⺖": "忄", "⺘": "扌", "⺙": "攵", "⺡": "氵", "⺣": "灬", "⺤": "爫", "⺥": "爫", "⺦": "丬", "⺨": "犭",
        "⺭": "礻", "⺮": "竹", "⺯": "糹", "⺰": "纟", "⺳": "㓁", "⺴": "罒", "⺵": "罒", "⺷": "𦍌", "⺸": "𦍋",
        "⺻": "聿", "⺽": "臼", "⺾": "艹", "⺿": "艹", "⻀": "艹", "⻂": "衤", "⻇": "𧢲", "⻊": "𧾷", "⻌": "辶",
        "⻍": "辶", "⻎": "辶", "⻕": "𨸏", "⻞": "𩙿", "⻡": "𩠐", "⺀": "冫", "⺚": "旡", "⺪": "疋",
        "\u200b": None, "\u200c": None, "\u200d": None, "\ufeff": None, "\u00ad": None,
    }
)  # fmt: skip
RADICAL_BLOCK = re.compile("[\u2e80-\u2eff]")  # anything of the block still left has no character to stand for

_CJK_CHAR = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_PUNCT = r"\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65“”‘’—…·"
_CJK = f"[{_CJK_CHAR}{_CJK_PUNCT}]"
_SPACE = r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]"

EDGE_LINES = 2
_INDENT = re.compile(f"^({_SPACE}{{2,}}|[\u3000\u2003])")
_SPACE_BEFORE_LABEL = re.compile(
    f"(?<=[\\w）)]){_SPACE}+(?=(来源|发布时间|发布日期|作者|文号|发文机关|成文日期|索引号|主题分类)[:：])"
)
_SPACE_NEAR_CJK = re.compile(f"(?<={_CJK}){_SPACE}+|{_SPACE}+(?={_CJK})")
_SPACE_RUN = re.compile(f"{_SPACE}+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_TERMINAL = "。！？；：!?;:"
_HEADING_START = re.compile(
    r"^(第[一二三四五六七八九十百零〇\d]+[编章节条部分]|[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)]|\d{1,2}[.．、](?!\d)|[（(]\d{1,2}[）)]|附件\s*\d*)"
)

# Whole lines of web-page chrome.
_CHROME_LINE = re.compile(
    r"^("
    r"打开微信扫描二维码.*|微信扫一扫.*|扫一扫.*|分享到.*|"
    r"(您当前的位置|您现在的位置|当前位置)[:：].*|首页\s*[>›»].*|"
    r"打印页面|打印本页|关闭本页|关闭窗口|\[?\s*打印\s*\]?\s*(仅打印内容)?|【\s*打印\s*】.*|"
    r"浏览字号.*|【?\s*字[号体]\s*[:：].*|保护视力色[:：]?.*|"
    r"(来源|作者|责任编辑|编辑|发布者)[:：]\s*|"
    r"[大中小](\s*[大中小])*"
    r")$"
)
# Chrome that looks like content elsewhere: a lone letter (the font-size "A" button), only in a page's head.
_HEAD_CHROME = re.compile(r"^[A-Za-z]$")
# Fragments of chrome inside an otherwise useful line ("来源：中国政府网 字号：[大][中][小]").
_CHROME_FRAGMENT = re.compile(r"\s*【?\s*字号\s*[:：]\s*(\[?\s*[大中小]\s*\]?\s*)+】?|\s*【?\s*打印\s*】?\s*$")
# PDF print furniture: page numbers (—8—, - 3 -, 第3页), browser print lines (date+time+title, URL+n/N).
_FOOTER_LINE = re.compile(
    r"^("
    r"[—–\-－~]+\s*\d{1,4}\s*[—–\-－~]+|"
    r"第\s*\d+\s*页(\s*[,，/]?\s*共\s*\d+\s*页)?|\d{1,4}\s*/\s*\d{1,4}|"
    r"\d{4}/\d{1,2}/\d{1,2}\s*\d{1,2}:\d{2}(:\d{2})?.*|"
    r"(https?://|www\.)\S+\s+\d{1,4}\s*/\s*\d{1,4}|(https?://)?(www\.)?[\w-]+(\.[\w-]+)+/?"
    r")$"
)
_PAREN_PAIR = re.compile(r"\(([^()\n]{0,80})\)")
_CJK_RE = re.compile(_CJK)
_HALF_TO_FULL = {",": "，", ":": "：", ";": "；", "!": "！", "?": "？"}
_HALF_PUNCT = re.compile(r"[,:;!?]")


@dataclass
class _Line:
    text: str
    page: int
    indented: bool  # starts with an indent in the source: a new paragraph
    numbered: bool = False  # starts with "12 " in the source: a table row or list item
    width: int = 0  # the page's typical full-line length, to tell wrapped lines from short ones
    table: bool = False  # the page is a table extracted cell by cell: its lines are not wrapped prose
    edge: bool = False  # among the first or last lines of its page, where running headers and footers stand
    last: int = 0  # length of the last source line joined into this one


def clean(doc: SourceDoc) -> SourceDoc:
    """Return a copy of `doc` whose text is cleaned and whose page ranges point into the cleaned text."""
    pages = doc.text.split("\f") if doc.format == "pdf" else [doc.text]
    numbers = [p.number for p in doc.pages] if doc.pages else list(range(1, len(pages) + 1))
    lines: list[_Line] = []
    for number, page_text in zip(numbers, pages, strict=False):
        raw_lines = page_text.split("\n")
        table = doc.format == "pdf" and _looks_like_table(raw_lines)
        page_lines: list[_Line] = []
        for raw in raw_lines:
            indented = bool(_INDENT.match(raw))
            numbered = bool(re.match(r"^\s*\d{1,3}(\s|$)", raw))
            flattened = len(pages) == 1 and "\n" not in page_text
            page_lines.extend(
                _Line(part, number, indented, numbered, table=table) for part in _normalise_line(raw, flattened)
            )
        page_lines = [ln for ln in page_lines if ln.text and not _is_chrome(ln.text, doc.format == "pdf")]
        for i, ln in enumerate(page_lines):
            ln.edge = i < EDGE_LINES or i >= len(page_lines) - EDGE_LINES
        kept = 0  # the head is the page's first 15 lines that stay: dropping a letter does not pull others into it
        for ln in page_lines:
            if kept < 15 and _HEAD_CHROME.match(ln.text):
                continue
            kept += 1
            lines.append(ln)
    if doc.format == "pdf":
        lines = _drop_running_lines(lines, len(pages))
        lines = _join_broken_lines(lines)
    text_parts: list[str] = []
    page_spans: dict[int, list[int]] = {}
    offset = 0
    for ln in lines:
        text_parts.append(ln.text)
        span = page_spans.setdefault(ln.page, [offset, offset])
        span[1] = offset + len(ln.text) + 1
        offset += len(ln.text) + 1
    text = "\n".join(text_parts)
    new_pages = tuple(Page(n, s, min(e, len(text))) for n, (s, e) in sorted(page_spans.items())) if doc.pages else ()
    return replace(doc, text=text, pages=new_pages)


def normalise_text(text: str) -> str:
    """NFKC, radicals, Chinese punctuation and spacing for a short string (titles, questions)."""
    return "\n".join(part for line in text.split("\n") for part in _normalise_line(line, flattened=False))


def _normalise_line(raw: str, flattened: bool) -> list[str]:
    raw = _CONTROL.sub(" ", raw)  # stray control characters are spaces (and \x01 is our field separator below)
    text = RADICAL_BLOCK.sub("", unicodedata.normalize("NFKC", raw).translate(RADICALS))
    text = _CHROME_FRAGMENT.sub("", text)
    segments = _split_flattened(text) if flattened and len(text) > 300 else [text]
    out = []
    for seg in segments:
        seg = _SPACE_BEFORE_LABEL.sub("\u0001", seg.strip())  # a field separator, not a stray space
        seg = _SPACE_NEAR_CJK.sub("", seg)
        seg = _SPACE_NEAR_CJK.sub("", _chinese_punctuation(seg))  # again: ( , : became （ ， ：
        seg = _SPACE_RUN.sub(" ", seg).replace("\u0001", " ")
        if seg:
            out.append(seg)
    return out


def _split_flattened(text: str) -> list[str]:
    """A file that lost its line breaks keeps paragraphs apart with spaces: turn those back into breaks."""
    pieces = re.split(f"({_SPACE}+)", text)
    segments = [pieces[0]]
    for space, word in zip(pieces[1::2], pieces[2::2], strict=False):
        prev = segments[-1]
        last = prev[-1:] if prev else ""
        first = word[:1]
        both_cjk = bool(last and first and _CJK_RE.match(last) and _CJK_RE.match(first))
        breaking = (
            len(space) > 1
            or "\u3000" in space
            or (last and last in _TERMINAL + "”」）)")
            or _HEADING_START.match(word) is not None
            or (both_cjk and re.match(f"[{_CJK_CHAR}]", last) is not None)
        )
        if breaking:
            segments.append(word)
        else:
            segments[-1] = prev + space + word
    return segments


def _chinese_punctuation(text: str) -> str:
    """NFKC turns full-width ，：（） into ASCII; give Chinese text its own punctuation back."""
    if not _CJK_RE.search(text):
        return text

    def paren(m: re.Match[str]) -> str:
        inner = m.group(1)
        before = text[m.start() - 1] if m.start() else ""
        after = text[m.end()] if m.end() < len(text) else ""
        if _CJK_RE.search(inner) or _CJK_RE.match(before or "a") or _CJK_RE.match(after or "a"):
            return f"（{inner}）"
        return m.group(0)

    text = _PAREN_PAIR.sub(paren, text)

    def punct(m: re.Match[str]) -> str:
        i = m.start()
        before = text[i - 1] if i else ""
        after = text[i + 1] if i + 1 < len(text) else ""
        if m.group(0) in ",:" and before.isdigit() and after.isdigit():
            return m.group(0)  # 1,000 and 11:09 stay as they are
        if _CJK_RE.match(before or "a") or _CJK_RE.match(after or "a") or (not after and _CJK_RE.search(text)):
            return _HALF_TO_FULL[m.group(0)]
        return m.group(0)

    return _HALF_PUNCT.sub(punct, text)


def _is_chrome(text: str, pdf: bool) -> bool:
    """Web chrome anywhere; print furniture (page numbers, browser print lines) in PDFs only."""
    return bool(_CHROME_LINE.match(text) or (pdf and _FOOTER_LINE.match(text)))


def _drop_running_lines(lines: list[_Line], n_pages: int) -> list[_Line]:
    """Lines that repeat on most pages are running headers or footers; keep only the first one."""
    if n_pages < 2:
        return lines
    shape = lambda s: re.sub(r"\d+", "#", s)  # noqa: E731 - page counters differ from page to page
    pages_with: Counter[str] = Counter()
    for key in {(shape(ln.text), ln.page) for ln in lines if ln.edge}:
        pages_with[key[0]] += 1
    threshold = max(2, int(0.6 * n_pages + 0.5))
    seen: set[str] = set()
    kept = []
    for ln in lines:
        key = shape(ln.text)
        if ln.edge and pages_with[key] >= threshold and len(ln.text) < 120:
            if key in seen:
                continue
            seen.add(key)
        kept.append(ln)
    return kept


def _join_broken_lines(lines: list[_Line]) -> list[_Line]:
    """Undo PDF line wrapping: a full-width line not ending a sentence continues on the next one."""
    by_page: dict[int, list[int]] = {}
    for ln in lines:
        by_page.setdefault(ln.page, []).append(len(ln.text))
    for ln in lines:
        lengths = sorted(by_page[ln.page])
        ln.width = lengths[int(0.9 * (len(lengths) - 1))]
    out: list[_Line] = []
    for ln in lines:
        if out and _continues(out[-1], ln):
            out[-1].text += ("" if _CJK_RE.match(ln.text[0]) or _CJK_RE.match(out[-1].text[-1]) else " ") + ln.text
            out[-1].last, out[-1].table, out[-1].width = len(ln.text), ln.table, ln.width
        else:
            out.append(replace(ln, last=len(ln.text)))
    return out


_LETTER_SPACED = re.compile(f"([{_CJK_CHAR}] ){{3,}}")


def _looks_like_table(raw_lines: list[str]) -> bool:
    """Table cells come out of PDFs letter-spaced ("企 业 投 资"); prose lines do not."""
    spaced = sum(1 for raw in raw_lines if _LETTER_SPACED.search(raw))
    return spaced >= max(3, 0.15 * len(raw_lines))


def _continues(prev: _Line, nxt: _Line) -> bool:
    lone_char = len(prev.text) == 1 and re.match(f"[{_CJK_CHAR}]", prev.text)  # a letter-spaced title
    if lone_char and not nxt.numbered:
        return True
    if nxt.indented or nxt.numbered or nxt.table or prev.table or _HEADING_START.match(nxt.text):
        return False
    if prev.last < 0.75 * prev.width:  # the previous source line stopped short: it ended a paragraph
        return False
    if prev.text[-1] in "。！？；：!?;:":
        return False
    if _HEADING_START.match(prev.text) and len(prev.text) <= 30:
        return False
    return not (_STANDALONE.match(prev.text) or _STANDALONE.match(nxt.text))


# Lines that stand alone in a document's head and tail: field lines, 文号, dates.
_STANDALONE = re.compile(
    r"^((发布时间|发布日期|来源|文号|发文机关|成文日期|索引号|主题分类)[:：].*"
    r"|[\u4e00-\u9fff]{1,10}〔\d{4}〕\d+号"
    r"|\d{4}年\d{1,2}月\d{1,2}日|\d{4}-\d{1,2}-\d{1,2})$"
)


# The signature block that ends a circular: its issuers (南昌市人力资源和社会保障局南昌市财政局), its date, a
# decree's signatory (总理李克强), the publication note (（此件公开发布）) and the colophon's 「…2020年3月1日印发」.
# These lines stay in the text, where kb/meta.py reads the issuer and the date from them; they are not content to quote.
_SIGNATURE_LINE = re.compile(
    r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|[〇○零一二三四五六七八九]{4}年[一二三四五六七八九十]{1,2}月[一二三四五六七八九十]{1,3}日"
    r"|(国务院)?(总理|副总理|主席|省长|市长|部长|主任|局长|厅长)\s*[\u4e00-\u9fff·]{2,5}"
    r"|[（(](此件|本件|此页)[^（）()]{0,12}[）)]|[（(]本文有删减[）)]"
    r"|.{0,40}\d{4}年\d{1,2}月\d{1,2}日印发"
)
_ORG_SUFFIX = re.compile(
    r"(办公厅|办公室|委员会|人民政府|政府|总局|总署|国务院|部|委|厅|局|署|银行|中心|小组|党组|工会|联合会|协会)$"
)


def is_signature_line(text: str) -> bool:
    """A line (or a sentence standing alone) of a circular's signature block: issuer names, the date, the
    publication note."""
    text = text.strip()
    if _SIGNATURE_LINE.fullmatch(text):
        return True
    return (  # agencies' names only, one after another
        len(text) <= 40
        and re.fullmatch(r"[\u4e00-\u9fff（）、 ]+", text) is not None
        and _ORG_SUFFIX.search(text) is not None
        and not _HEADING_START.match(text)
    )
