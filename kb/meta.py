"""Policy metadata (title, 文号, issuer, dates, region, kind) read from a cleaned document's own text."""

from __future__ import annotations

import hashlib
import re
from datetime import date as _date
from pathlib import Path

from .clean import normalise_text
from .types import DocMeta, SourceDoc

HEAD_LINES = 12  # the document head: title, dateline, 文号, salutation
TAIL_LINES = 8  # the signature block: issuer, date, (此件公开发布)

_DOC_NO = re.compile(
    r"(?P<prefix>[\u4e00-\u9fff]{1,12}?)\s*[〔\[［(（【]\s*(?P<year>(19|20)\d{2})\s*[〕\]］)）】]\s*(?P<num>\d{1,5})\s*号"
)
_DATE_CN = re.compile(r"(?P<y>(19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日")
_DATE_ISO = re.compile(r"(?P<y>(19|20)\d{2})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})")
_FIELD = re.compile(r"^(?P<key>文号|发文字号|发文机关|成文日期|发布日期|发布时间)[:：]\s*(?P<value>.+)$")
_ORG_END = re.compile(r"(院|部|委|委员会|厅|局|办公厅|办公室|政府|署|行|会|中心|小组|总局|总署|公司|集团)$")

KINDS = (
    "指导意见", "实施意见", "若干意见", "意见", "通知", "实施方案", "行动方案", "工作方案", "方案", "实施办法",
    "管理办法", "暂行办法", "办法", "实施细则", "细则", "规定", "决定", "清单", "通告", "公告", "批复", "复函",
    "函", "规划", "纲要", "条例", "目录", "指南", "措施", "报告", "决议", "命令", "公报", "问答",
)  # fmt: skip
PROVINCES = (
    "北京市", "天津市", "河北省", "山西省", "内蒙古自治区", "辽宁省", "吉林省", "黑龙江省", "上海市", "江苏省",
    "浙江省", "安徽省", "福建省", "江西省", "山东省", "河南省", "湖北省", "湖南省", "广东省", "广西壮族自治区",
    "海南省", "重庆市", "四川省", "贵州省", "云南省", "西藏自治区", "陕西省", "甘肃省", "青海省",
    "宁夏回族自治区", "新疆维吾尔自治区", "新疆生产建设兵团",
)  # fmt: skip
# Cities people name instead of their province: the capitals, the cities with provincial powers, and every city of
# Jiangxi (the province the product corpus has circulars of). City → province.
CITIES = {
    "石家庄": "河北省", "太原": "山西省", "呼和浩特": "内蒙古自治区", "沈阳": "辽宁省", "大连": "辽宁省",
    "长春": "吉林省", "哈尔滨": "黑龙江省", "南京": "江苏省", "苏州": "江苏省", "无锡": "江苏省", "杭州": "浙江省",
    "宁波": "浙江省", "温州": "浙江省", "合肥": "安徽省", "福州": "福建省", "厦门": "福建省", "济南": "山东省",
    "青岛": "山东省", "郑州": "河南省", "武汉": "湖北省", "长沙": "湖南省", "广州": "广东省", "深圳": "广东省",
    "东莞": "广东省", "佛山": "广东省", "南宁": "广西壮族自治区", "海口": "海南省", "三亚": "海南省",
    "成都": "四川省", "贵阳": "贵州省", "昆明": "云南省", "拉萨": "西藏自治区", "西安": "陕西省", "兰州": "甘肃省",
    "西宁": "青海省", "银川": "宁夏回族自治区", "乌鲁木齐": "新疆维吾尔自治区", "南昌": "江西省", "九江": "江西省",
    "赣州": "江西省", "吉安": "江西省", "宜春": "江西省", "抚州": "江西省", "上饶": "江西省", "景德镇": "江西省",
    "萍乡": "江西省", "新余": "江西省", "鹰潭": "江西省",
}  # fmt: skip


def provinces_in(text: str) -> set[str]:
    """The provinces a text names, by name, short name (江西, 广东) or one of their CITIES."""
    found = {p for p in PROVINCES if p in text or short_name(p) in text}
    found |= {province for city, province in CITIES.items() if city in text}
    return {"新疆维吾尔自治区" if p == "新疆生产建设兵团" else p for p in found}


# One-character province abbreviations as they open a provincial 文号 (赣府厅发 → 江西省).
_ABBREV = dict(
    zip(
        "京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川黔滇藏陕甘青宁新",
        (*PROVINCES[:25], *PROVINCES[25:31]),
        strict=True,
    )
)
_NATIONAL = re.compile(
    r"^(国务院|国家|中共中央|中央|全国|中华人民共和国|最高人民|中国人民银行|海关总署|[\u4e00-\u9fff]{2,10}部(办公厅)?$)"
)


def extract(doc: SourceDoc) -> DocMeta:
    """Read the policy metadata of a cleaned document."""
    lines = [ln for ln in doc.text.split("\n") if ln.strip()]
    head, tail = lines[:HEAD_LINES], lines[-TAIL_LINES:]
    fields = _fields(head)
    title = _title(head, doc)
    doc_no = canonical_doc_no(fields.get("文号") or fields.get("发文字号") or "") or _own_doc_no(head)
    issuer = _issuer(title, fields, tail)
    signed = iso_date(fields.get("成文日期", "")) or _signature_date(tail)
    published = iso_date(fields.get("发布日期", "") or fields.get("发布时间", "")) or _dateline(head)
    return DocMeta(
        doc_id=doc_id_for(doc_no, doc.text),
        title=title,
        doc_no=doc_no,
        issuer=issuer,
        signed=signed,
        published=published,
        source=doc.path,
        kind=_kind(title),
        region=_region(title, issuer, doc_no),
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
    """`发改办高技[2020]244号`, `(2020)`, full width … → `发改办高技〔2020〕244号`; '' when none."""
    m = _DOC_NO.search(normalise_text(text)) if text else None
    return _format_doc_no(m) if m else ""


def doc_numbers_in(text: str) -> list[str]:
    """Every 文号 in a running text, canonical; also each shorter prefix form, since where the agency's
    abbreviation begins cannot always be told from the words before it ("了解国发…")."""
    found: list[str] = []
    for m in _DOC_NO.finditer(normalise_text(text)):
        best = _format_doc_no(m)
        found.append(best)
        prefix = best.split("〔", 1)[0]
        found += [f"{prefix[i:]}〔{m['year']}〕{m['num']}号" for i in range(1, len(prefix) - 1)]
    return list(dict.fromkeys(found))


def _format_doc_no(m: re.Match[str]) -> str:
    prefix = _NOT_PREFIX.sub("", m["prefix"]) or m["prefix"]
    return f"{prefix}〔{m['year']}〕{m['num']}号"


def iso_date(text: str) -> str:
    """`2020年3月26日`, `2020-3-26`, `2020/03/26` → `2020-03-26`; '' when there is no valid date."""
    m = _DATE_CN.search(text) or _DATE_ISO.search(text)
    if not m:
        return ""
    y, mo, d = int(m["y"]), int(m["m"]), int(m["d"])
    try:
        return _date(y, mo, d).isoformat()
    except ValueError:  # 2020年2月30日 is no date
        return ""


def _fields(head: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in head:
        for part in re.split(r"\s+(?=\S{2,4}[:：])", line):  # "发布时间：… 来源：…" holds two fields
            m = _FIELD.match(part.strip())
            if m and m["key"] not in found:
                found[m["key"]] = m["value"].strip()
    return found


def _title(head: list[str], doc: SourceDoc) -> str:
    hint = _clean_hint(doc.title_hint)
    candidates = [ln for ln in head if not _is_furniture(ln)]
    if hint:
        for line in candidates:
            if line == hint or (len(line) >= 6 and (line in hint or hint in line)):
                return line
    for line in candidates[:4]:
        if 6 <= len(line) <= 100 and "。" not in line and ("关于" in line or _kind(line)):
            return line
    if hint:
        return hint
    if candidates:
        first = candidates[0]
        if len(first) <= 60 and not re.search("[。；]", first):
            return first
        sentence = re.split(r"[。！？；，：]", first)[0]
        return sentence[:40] + ("…" if len(sentence) > 40 else "")
    return Path(doc.path).stem


def _clean_hint(hint: str | None) -> str:
    if not hint:
        return ""
    hint = normalise_text(hint)
    return re.split(r"\s*[-_|｜]\s*(中国政府网|中华人民共和国|.*人民政府|.*门户网站).*$", hint)[0].strip()


def _is_furniture(line: str) -> bool:
    return bool(
        re.match(r"^附件\s*\d*[:：]?$", line)
        or _FIELD.match(line)
        or re.match(r"^(来源|发布时间|发布日期)[:：]", line)
        or _DOC_NO.fullmatch(line)
        or _DATE_CN.fullmatch(line)
        or _DATE_ISO.fullmatch(line)
    )


def _own_doc_no(head: list[str]) -> str:
    """A 文号 standing on a line of its own in the head; one quoted inside a sentence is someone else's."""
    for line in head:
        m = _DOC_NO.fullmatch(line.strip())
        if m:
            return canonical_doc_no(line)
    return ""


def _issuer(title: str, fields: dict[str, str], tail: list[str]) -> str:
    if "关于" in title:
        prefix = title.split("关于", 1)[0].strip()
        if 2 <= len(prefix) <= 40 and _ORG_END.search(prefix):
            return prefix  # the formal name, as titles carry it (发文机关 + 关于 + 事由 + 文种)
    if fields.get("发文机关"):
        return fields["发文机关"]
    return _signature_issuer(tail)


def _signature_issuer(tail: list[str]) -> str:
    for i in range(len(tail) - 1, 0, -1):
        if _DATE_CN.fullmatch(tail[i].strip()):
            candidate = tail[i - 1].strip()
            if len(candidate) <= 40 and _ORG_END.search(candidate) and not re.search("[。，；：]", candidate):
                return candidate
    return ""


def _signature_date(tail: list[str]) -> str:
    for line in reversed(tail):
        if _DATE_CN.fullmatch(line.strip()):
            return iso_date(line)
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


def short_name(province: str) -> str:
    """江西省 → 江西, 广西壮族自治区 → 广西 (how people name their province)."""
    return re.sub(r"(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|生产建设兵团)$", "", province)


def _region(title: str, issuer: str, doc_no: str) -> str:
    for text in (issuer, title):
        for province in PROVINCES:
            short = short_name(province)
            if text.startswith((province, short)) or (province in text and len(text) < 60 and text.find(province) < 4):
                return "新疆维吾尔自治区" if province == "新疆生产建设兵团" else province
    if doc_no and doc_no[0] in _ABBREV and len(doc_no) > 1 and doc_no[1] in "府政办发人财教卫商":
        return _ABBREV[doc_no[0]]
    if _NATIONAL.match(issuer) or _NATIONAL.match(title) or doc_no.startswith("国"):
        return "国家"
    return ""
