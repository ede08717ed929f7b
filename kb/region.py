"""Where a document applies: 国家, a province (江西省) or a city of one (江西省南昌市), read from its issuer,
title or 文号."""

from __future__ import annotations

import functools
import re
from pathlib import Path

PROVINCES = (
    "北京市", "天津市", "河北省", "山西省", "内蒙古自治区", "辽宁省", "吉林省", "黑龙江省", "上海市", "江苏省",
    "浙江省", "安徽省", "福建省", "江西省", "山东省", "河南省", "湖北省", "湖南省", "广东省", "广西壮族自治区",
    "海南省", "重庆市", "四川省", "贵州省", "云南省", "西藏自治区", "陕西省", "甘肃省", "青海省",
    "宁夏回族自治区", "新疆维吾尔自治区", "新疆生产建设兵团",
)  # fmt: skip
# Cities people name instead of their province, for reading questions (provinces_in): the capitals, the cities with
# provincial powers, and every city of Jiangxi (the province the product corpus has circulars of). City → province.
# A document's own region is read with the full names of prefectures.txt instead: short names of all cities would
# misread questions (来宾, 白银, 中山 are words too).
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


def short_name(province: str) -> str:
    """江西省 → 江西, 广西壮族自治区 → 广西 (how people name their province)."""
    return re.sub(r"(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|生产建设兵团)$", "", province)


@functools.cache
def prefectures() -> dict[str, str]:
    """Prefecture-level division by full name (南昌市, 延边朝鲜族自治州) → its province, from prefectures.txt."""
    table: dict[str, str] = {}
    for line in Path(__file__).with_name("prefectures.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            province, _colon, names = line.partition(":")
            table.update(dict.fromkeys(names.split(), province.strip()))
    return table


def province_of(region: str) -> str:
    """江西省南昌市 → 江西省; 国家 and a province stay as they are."""
    return next((p for p in PROVINCES if region.startswith(p)), region)


def within(region: str, area: str) -> bool:
    """Whether a document's region lies in `area`: 江西省南昌市 in 江西省 and in itself, not in 江西省九江市."""
    return region == area or (bool(area) and region.startswith(area))


def region_of(title: str, issuer: str, doc_no: str) -> str:
    """国家, a province, or a province and its city: from the issuer, else the title, else the 文号."""
    for text in (issuer, title):
        place = _place(text)
        if place:
            return place
    if doc_no and doc_no[0] in _ABBREV and len(doc_no) > 1 and doc_no[1] in "府政办发人财教卫商":
        return _ABBREV[doc_no[0]]
    if _NATIONAL.match(issuer) or _NATIONAL.match(title) or doc_no.startswith("国"):
        return "国家"
    return ""


def _place(text: str) -> str:
    """The province, and the city of it, that a name opens with: 江西省…, 中共江西省委…, 南昌市… → 江西省南昌市."""
    cities = prefectures()

    def opens(name: str) -> int:
        at = text.find(name)
        return at if at == 0 or (0 < at < 4 and len(text) < 60) else -1

    for province in PROVINCES:
        at = opens(province)
        if at >= 0:
            rest = text[at + len(province) :]
            province = "新疆维吾尔自治区" if province == "新疆生产建设兵团" else province
            return province + next((c for c, p in cities.items() if p == province and rest.startswith(c)), "")
    for city, province in cities.items():
        if opens(city) >= 0:  # before the short names: 吉林市 is a city of 吉林省, 海南藏族自治州 one of 青海省
            return province + city
    for province in PROVINCES:
        if text.startswith(short_name(province)):
            return "新疆维吾尔自治区" if province == "新疆生产建设兵团" else province
    return ""
