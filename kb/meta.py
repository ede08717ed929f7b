"""Policy metadata (title, 文号, issuer, dates, region, kind, topic) of a cleaned document: from the page's own
metadata table when it has one (SourceDoc.fields, kb/fields.py), else read off the text."""

from __future__ import annotations

import hashlib
import re
from datetime import date as _date
from pathlib import Path

from . import fields as fields_mod
from .clean import normalise_text
from .region import PROVINCES as PROVINCES  # re-exported: kb.meta has long been where callers find them
from .region import provinces_in as provinces_in
from .region import region_of
from .region import short_name as short_name
from .types import DocMeta, SourceDoc

HEAD_LINES = 12  # the document head: title, dateline, 文号, salutation
TAIL_LINES = 8  # the signature block: issuer, date, (此件公开发布)

_DOC_NO = re.compile(
    r"(?P<prefix>[\u4e00-\u9fff]{1,12}?)\s*[〔\[［(（【]\s*(?P<year>(19|20)\d{2})\s*[〕\]］)）】]\s*(?P<num>\d{1,5})\s*号"
)
# Regulation and announcement numbers: 国令第707号, 国务院令第707号, 国家税务总局公告2019年第1号,
# 海关总署令〔2018〕第1号; and 第N号令 (国家发展改革委第29号令).
_ORDER_NO = re.compile(
    r"(?P<prefix>[\u4e00-\u9fff]{1,20}?(令|公告|通告))\s*"
    r"([〔\[［(（【]\s*(?P<byear>(19|20)\d{2})\s*[〕\]］)）】]|(?P<year>(19|20)\d{2})\s*年)?\s*第\s*(?P<num>\d{1,5})\s*号"
)
_NUMBERED_ORDER = re.compile(r"(?P<prefix>[\u4e00-\u9fff]{1,20}?)\s*第\s*(?P<num>\d{1,5})\s*号令")
_DATE_CN = re.compile(r"(?P<y>(19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日")
_DATE_ISO = re.compile(r"(?P<y>(19|20)\d{2})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})")
# 二〇〇六年十月十八日: how signatures were dated before Arabic numerals became the rule (GB/T 9704-2012).
_DATE_HAN = re.compile(
    r"(?P<y>[〇○零一二三四五六七八九]{4})\s*年\s*(?P<m>[一二三四五六七八九十]{1,2})\s*月\s*(?P<d>[一二三四五六七八九十]{1,3})\s*日"
)
_ORG_END = re.compile(r"(院|部|委|委员会|厅|局|办公厅|办公室|政府|署|行|会|中心|小组|总局|总署|公司|集团)$")
_TITLE_HEADING = re.compile(
    r"^([一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)]|第[一二三四五六七八九十百\d]+[章节条]|\d{1,2}[.．、](?!\d)|附件)"
)

KINDS = (
    "指导意见", "实施意见", "若干意见", "意见", "通知", "实施方案", "行动方案", "工作方案", "方案", "实施办法",
    "管理办法", "暂行办法", "办法", "实施细则", "细则", "规定", "决定", "清单", "通告", "公告", "批复", "复函",
    "函", "规划", "纲要", "条例", "目录", "指南", "措施", "报告", "决议", "命令", "公报", "问答", "答复",
)  # fmt: skip


def extract(doc: SourceDoc) -> DocMeta:
    """Read the policy metadata of a cleaned document; what its page's metadata table says comes first."""
    lines = [ln for ln in doc.text.split("\n") if ln.strip()]
    head, tail = lines[:HEAD_LINES], lines[-TAIL_LINES:]
    table = dict(doc.fields)
    fields = _fields(head)
    title = _as_written(table.get("title", "")) or normalise_text(fields.get("title", "")) or _title(head, doc)
    if "doc_no" in table:  # an empty 发文字号 says the document has none: a 文号 in its text is another's
        doc_no = _table_doc_no(table["doc_no"])
    else:
        doc_no = canonical_doc_no(fields.get("doc_no", "")) or _own_doc_no(head)
    sign_issuer, sign_date = _signature(lines, tail)
    issuer = _table_issuer(table.get("issuer", "")) or _issuer(title, fields, sign_issuer, doc_no)
    signed = iso_date(table.get("signed", "")) or iso_date(fields.get("signed", "")) or sign_date
    published = iso_date(table.get("published", "")) or iso_date(fields.get("published", "")) or _dateline(head)
    return DocMeta(
        doc_id=doc_id_for(doc_no, doc.text),
        title=title,
        doc_no=doc_no,
        issuer=issuer,
        signed=signed,
        published=published,
        source=doc.path,
        kind=_kind(title),
        region=region_of(title, issuer, doc_no),
        topic=_as_written(table.get("topic", "")) or normalise_text(fields.get("topic", "")),
    )


def doc_id_for(doc_no: str, text: str) -> str:
    """Stable id: the canonical 文号 when there is one, else a hash of the normalised text."""
    return doc_no or "h" + text_fingerprint(text)[:16]


def text_fingerprint(text: str) -> str:
    """Hash of the text without white space and punctuation: the same document however it was saved."""
    core = re.sub(r"[\s\W_]+", "", text)
    return hashlib.sha256(core.encode("utf-8")).hexdigest()


# Characters that end the words before a 文号 ("请问国发〔2019〕4号", "见赣府发…") and start no agency's prefix.
_NOT_PREFIX = re.compile(r"^.*[问请据照依解了想的是在和与及或对将把见由即从向讲看查找说称该此这那个有没按根]")


def canonical_doc_no(text: str) -> str:
    """`发改办高技[2020]244号`, `(2020)`, full width … → `发改办高技〔2020〕244号`; `中华人民共和国国务院令 第707号` →
    `国令第707号`; '' when none."""
    found = _numbers(normalise_text(text)) if text else []
    return found[0][0] + found[0][1] if found else ""


def doc_numbers_in(text: str) -> list[str]:
    """Every 文号 in a running text, canonical; also each shorter prefix form, since where the agency's
    abbreviation begins cannot always be told from the words before it ("了解国发…")."""
    found: list[str] = []
    for prefix, rest in _numbers(normalise_text(text)):
        found.append(prefix + rest)
        found += [prefix[i:] + rest for i in range(1, len(prefix) - 1)]
    return list(dict.fromkeys(found))


def _numbers(text: str) -> list[tuple[str, str]]:
    """(agency prefix, the rest) of each 文号 in the text, in order: 国发 + 〔2019〕5号, 国令 + 第707号."""
    found: list[tuple[int, int, str, str]] = []  # (start, end, prefix, rest)
    for m in _DOC_NO.finditer(text):
        found.append((m.start(), m.end(), _prefix(m, text), f"〔{m['year']}〕{m['num']}号"))
    for m in _ORDER_NO.finditer(text):
        year = m["year"] or m["byear"]
        rest = f"{year}年第{m['num']}号" if year else f"第{m['num']}号"
        found.append((m.start(), m.end(), _order_prefix(m, text), rest))
    for m in _NUMBERED_ORDER.finditer(text):
        if not any(start <= m.start() < end for start, end, _p, _r in found):
            found.append((m.start(), m.end(), _order_prefix(m, text, "令"), f"第{m['num']}号"))
    return [(prefix, rest) for _start, _end, prefix, rest in sorted(found)]


def _prefix(m: re.Match[str], text: str) -> str:
    prefix = _NOT_PREFIX.sub("", m["prefix"]) or m["prefix"]
    if m.start() > 0 and text[m.start() - 1].isdigit() and prefix[0] in "年月日号":
        prefix = prefix[1:] or prefix  # 1994年1月28日…: the 日 ends a date
    return prefix


# A regulation's issuer is named in full (人力资源和社会保障部令, 国有资产监督管理委员会令): only words that no agency's
# name holds end the words before it.
_NOT_ORDER_PREFIX = re.compile(r"^.*[问请据照依了想的是在见由即从向讲看查找说称该此这那个按根将把于]")


def _order_prefix(m: re.Match[str], text: str, suffix: str = "") -> str:
    """中华人民共和国国务院令 → 国令 (as the State Council's library numbers its regulations)."""
    prefix = m["prefix"].rsplit("中华人民共和国", 1)[-1] or m["prefix"]
    prefix = (_NOT_ORDER_PREFIX.sub("", prefix) or prefix) + suffix
    if m.start() > 0 and text[m.start() - 1].isdigit() and prefix[0] in "年月日号":
        prefix = prefix[1:] or prefix
    return "国令" if prefix == "国务院令" else prefix


def iso_date(text: str) -> str:
    """`2020年3月26日`, `2020-3-26`, `2020/03/26`, `2020.3.26`, `二〇二〇年三月二十六日` → `2020-03-26`; '' when
    there is no valid date."""
    m = _DATE_CN.search(text) or _DATE_ISO.search(text)
    if m:
        y, mo, d = int(m["y"]), int(m["m"]), int(m["d"])
    elif m := _DATE_HAN.search(text):
        y = int("".join(str(HAN_DIGITS[c]) for c in m["y"]))
        mo, d = han_number(m["m"]) or 0, han_number(m["d"]) or 0
    else:
        return ""
    try:
        return _date(y, mo, d).isoformat()
    except ValueError:  # 2020年2月30日 is no date
        return ""


HAN_DIGITS = {
    "〇": 0,
    "○": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_HAN_PLACES = {"十": 10, "百": 100, "千": 1000}


def han_number(numeral: str) -> int | None:
    """The value of a number in Chinese numerals below 10,000 (十二 → 12, 三十一 → 31, 三百 → 300, 三百五 → 350); None
    for a range (五六, 七八) or a malformed one."""
    total, digit, last_place, previous = 0, None, 0, ""
    for ch in numeral:
        if ch in HAN_DIGITS:
            if previous in HAN_DIGITS and HAN_DIGITS[previous] != 0 and HAN_DIGITS[ch] != 0:
                return None  # 五六年: five or six
            digit = HAN_DIGITS[ch]
        elif ch in _HAN_PLACES:
            place = _HAN_PLACES[ch]
            if last_place and place >= last_place:
                return None
            total += (1 if digit is None else digit) * place
            digit, last_place = None, place
        else:
            return None
        previous = ch
    if digit is not None:
        # 三百五: the digit after a place without 零 is of the next place down (350, not 305)
        total += digit * (last_place // 10 if last_place and previous in HAN_DIGITS and "零" not in numeral else 1)
    return total or None


def _is_date_line(line: str) -> bool:
    line = line.strip()
    return bool(_DATE_CN.fullmatch(line) or _DATE_HAN.fullmatch(line))


def _fields(head: list[str]) -> dict[str, str]:
    """Fields the head's lines give (「文号：…」, 「发布时间：… 来源：…」), by kb.fields name."""
    found: dict[str, str] = {}
    for line in head:
        for field, value in fields_mod.read_line(line).items():
            found.setdefault(field, value)
    return found


def _table_doc_no(value: str) -> str:
    value = normalise_text(value)
    canonical = canonical_doc_no(value)
    if canonical or not value:
        return canonical
    return value if len(value) <= 30 and value.endswith("号") else ""  # an odd form, but the table's word


def _table_issuer(value: str) -> str:
    """The 发文机关 cell; several issuers keep the space between them (国务院 中央军委)."""
    return " ".join(_as_written(part) for part in value.split())


_WIDE = r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef“”‘’—…·]"
_CJK_SPACE = re.compile(rf"(?<={_WIDE})\s+(?={_WIDE})")


def _as_written(value: str) -> str:
    """A table's value as the table writes it (not folded to NFKC: its title is the official one), without the
    spaces a cell's line breaks leave between Chinese characters."""
    return _CJK_SPACE.sub("", value).strip()


# --- the title ----------------------------------------------------------------------------------------------------


def _title(head: list[str], doc: SourceDoc) -> str:
    hint = _clean_hint(doc.title_hint)
    if hint:
        joined = _lines_spelling(head, hint)
        if joined:
            return joined
        for i, line in enumerate(head):
            if _is_furniture(line):
                continue
            if line == hint or (len(line) >= 6 and hint in line):
                return line
            if len(line) >= 6 and line in hint:
                return _wrapped(head, i)
    candidates = [i for i, line in enumerate(head) if not _is_furniture(line)]
    for i in candidates[:4]:
        line = head[i]
        if 6 <= len(line) <= 100 and "。" not in line and ("关于" in line or _kind(line)):
            return _wrapped(head, i)
    if hint:
        return hint
    if candidates:
        first = head[candidates[0]]
        if len(first) <= 60 and not re.search("[。；]", first):
            return _wrapped(head, candidates[0])
        sentence = re.split(r"[。！？；，：]", first)[0]
        return sentence[:40] + ("…" if len(sentence) > 40 else "")
    return Path(doc.path).stem


def _lines_spelling(head: list[str], hint: str) -> str:
    """Consecutive head lines that together are the page's title (a title wrapped over lines), or ''."""
    target = re.sub(r"\s+", "", hint)
    for i in range(len(head)):
        joined = ""
        for line in head[i : i + 5]:
            joined += line
            core = re.sub(r"\s+", "", joined)
            if core == target:
                return joined
            if not target.startswith(core):
                break
    return ""


def _wrapped(head: list[str], i: int) -> str:
    """The title around head[i]: with the lines it wraps onto and, above a 「关于…」 line, its issuers."""
    title = head[i]
    for line in head[i + 1 :]:
        if not _continues_title(title, line):
            break
        title += line
    about = title.startswith("关于")
    for line in reversed(head[:i]):  # the lines above that it continues: its issuers over 「关于…」, a first line
        if _is_furniture(line) or _TITLE_HEADING.match(line) or re.search(r"[。；！？：:]", line):
            break
        if len(line) > 40 or len(line) + len(title) > 100 or _kind(line):
            break
        if _is_org_line(line) != about:  # 「关于…」 follows its issuers only
            break
        title = line + title
    return title


def _continues_title(title: str, line: str) -> bool:
    """Whether `line` carries on the title above it rather than start the 文号, the addressees or the text."""
    if _is_furniture(line) or _TITLE_HEADING.match(line) or len(line) > 40 or len(title) + len(line) > 100:
        return False
    if re.search(r"[。；！？：:]", line) or re.fullmatch(r"\d{4}年(\d{1,2}月)?", line):
        return False
    if re.fullmatch(r"[（(][^（）()]*[）)]", line):  # （试行）, （2018—2035年）; not a dated note or 此件公开发布
        return len(line) <= 20 and not re.search(r"[月日]|此件|本文|删减|公开|发布", line)
    unbalanced = any(title.count(a) > title.count(b) for a, b in ("《》", "“”", "（）"))
    if _kind(title) and not unbalanced:  # a whole title already: only 「的通知」 under 「…暂行办法」 goes on
        return line.startswith(("的", "（"))
    return not _is_org_line(line)


def _is_org_line(line: str) -> bool:
    """A line that is an agency's name (南昌市财政局): an issuer over a title, or in a signature."""
    return (
        len(line) <= 40
        and bool(_ORG_END.search(line))
        and not re.search(r"[。，；：、！？《》“”]", line)
        and not line.endswith("文件")
    )


def _clean_hint(hint: str | None) -> str:
    if not hint:
        return ""
    hint = normalise_text(hint)
    site = r"中国政府网|中华人民共和国.*|.*人民政府.*|.*门户网站|政府信息公开.*|信息公开.*|政策文件.*|.*政府网"
    return re.split(rf"\s*[-_|｜]\s*({site})$", hint)[0].strip()


def _is_furniture(line: str) -> bool:
    return bool(
        re.match(r"^附件\s*\d*[:：]?$", line)
        or fields_mod.starts_with_label(line)
        or re.match(r"^(来源|发布时间|发布日期)[:：]", line)
        or _DOC_NO.fullmatch(line)
        or _ORDER_NO.fullmatch(line)
        or _NUMBERED_ORDER.fullmatch(line)
        or re.fullmatch(r"第\d{1,5}号", line)
        or _is_date_line(line)
        or _DATE_ISO.fullmatch(line)
    )


# --- 文号, issuer, dates ------------------------------------------------------------------------------------------


def _own_doc_no(head: list[str]) -> str:
    """A 文号 standing on a line of its own in the head (a decree's 「中华人民共和国国务院令」 over 「第707号」 too);
    one quoted inside a sentence is someone else's."""
    for i, line in enumerate(head):
        candidate = line.strip()
        following = head[i + 1].strip() if i + 1 < len(head) else ""
        if candidate.endswith("令") and re.fullmatch(r"第\d{1,5}号", following):
            candidate += following
        if any(p.fullmatch(candidate) for p in (_DOC_NO, _ORDER_NO, _NUMBERED_ORDER)):
            return canonical_doc_no(candidate)
    return ""


def _issuer(title: str, fields: dict[str, str], signature: str, doc_no: str) -> str:
    if "关于" in title:
        prefix = re.split(r"转发|批转", title.split("关于", 1)[0])[0].strip()
        if 2 <= len(prefix) <= 40 and _ORG_END.search(prefix):
            return prefix  # the formal name, as titles carry it (发文机关 + 关于 + 事由 + 文种)
    if fields.get("issuer"):
        return fields["issuer"]
    if signature:
        return signature
    order = re.fullmatch(r"(?P<org>.+?)令(\d{4}年)?第\d+号", doc_no)  # a decree is its issuer's: 国令 → 国务院
    return ("国务院" if order["org"] == "国" else order["org"]) if order else ""


def _signature(lines: list[str], tail: list[str]) -> tuple[str, str]:
    """(issuer, date) of the signature: issuer lines over a date at the end; when an attachment ends the document,
    the first such block after the title. Several issuers are joined with 、."""
    issuer = _signature_issuer(tail)
    date = next((iso_date(line) for line in reversed(tail) if _is_date_line(line)), "")
    if date:
        return issuer, date
    for i in range(2, len(lines)):
        if _is_date_line(lines[i]) and (_is_org_line(lines[i - 1]) or _SIGNATORY.fullmatch(lines[i - 1])):
            return _signature_issuer(lines[max(0, i - 4) : i + 1]), iso_date(lines[i])
    return issuer, ""


# A decree's signature: 总理　李克强.
_SIGNATORY = re.compile(r"(国务院)?(总理|副总理|主席|省长|市长|部长|主任|局长)\s*[\u4e00-\u9fff·]{2,5}")


def _signature_issuer(tail: list[str]) -> str:
    for i in range(len(tail) - 1, 0, -1):
        if _is_date_line(tail[i]):
            issuers: list[str] = []
            for line in reversed(tail[:i]):
                if not _is_org_line(line.strip()):
                    break
                issuers.insert(0, line.strip())
            return "、".join(issuers)
    return ""


def _dateline(head: list[str]) -> str:
    for line in head[:5]:
        if _DATE_ISO.fullmatch(line.strip()):
            return iso_date(line)
    return ""


def _kind(title: str) -> str:
    core = re.sub(r"[（(][^）)]*[）)]$", "", title).rstrip('》”" ')
    for kind in KINDS:
        if core.endswith(kind):
            return kind[-2:] if kind.endswith(("意见", "方案", "办法", "细则")) else kind
    return ""
