"""A figure the asker states — 「贷款800万」「我19岁」「公司120人」 — against the conditions a clause sets on it —
「单户担保金额500万元以上的」「16—24岁失业青年」「超过100人的企业」.

A circular often gives one rule per band (「500万元及以下的…不超过1%，500万元以上的…不超过1.5%」); a person who says
which band they are in should be answered from theirs. Only conditions are read, never ceilings on what is granted:
「最高不超过300万元的创业担保贷款」 limits the loan, it does not say who may have one, so a question for 500万 is not
steered away from it. Sums are compared in 万元, ages in 岁, headcounts in 人.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_UNITS = {"元": 1e-4, "块": 1e-4, "块钱": 1e-4, "千元": 0.1, "万": 1.0, "万元": 1.0, "亿": 1e4, "亿元": 1e4}
_NUMBER = r"\d+(?:\.\d+)?"
_MONEY = r"亿元|万元|千元|块钱|亿|万|元|块"
_PEOPLE = r"名(?:员工|职工|工人)?|个(?:员工|职工|工人)|个人|人"
_RANGE_SIGN = r"[—\-－–~～至到]"

# In a question: a sum, an age or a headcount the asker has — not one they compare with (「比500万多」
# 「500万元以下的单子」「不到10万」「16至24岁」 set a band or a range themselves; 「2027年」 and 「3年」 are no such
# figure), nor one they were given, hired or ranked (「发500元」「招了5个人」「第1名」), nor 10万人 or 1万平方米.
_SAID = re.compile(
    rf"(?<![\d.比超过到满于足至—\-－–~～第])({_NUMBER})\s*"
    rf"(?:(?P<money>{_MONEY})(?![元钱人平亩户家辆名个])|(?P<age>周?岁)(?P<half>半|多)?|(?P<people>{_PEOPLE})(?![员职工]))"
    r"(?!\s*(?:[（(]含[）)])?\s*(?:以上|以下|以内|之内|及以|或以|上下|封顶|的(?:单|企业|项目)))"
    rf"(?!\s*{_RANGE_SIGN}\s*\d)"
)
_NOT_THEIRS = re.compile(r"(?:招|聘|雇|发|补|给|奖|每人|每个)[^，。？?；、\d]{0,3}$")
# A ceiling or a level of what is granted, not a band of who may have it: 「最高不超过300万元」「额度在20万元以内」
# 「提高至30万元以内」「给予1万元至3万元的补贴」.
_LIMIT_BEFORE = re.compile(
    r"(?:最高|最多|最低|上限|限额|额度|标准|不超过|不高于|降至|降到|提高至|提高到|调整为|控制在|累计|给予)"
    r"[^，。；、]{0,8}$"
)
# In a passage: a band set by 以上 / 以下 after the figure, a range, or 超过 / 不满 before a headcount or an age used
# as an attribute (「超过100人的企业」, not 「贷款不超过300万元」).
_BOUND = re.compile(
    rf"({_NUMBER})\s*(?P<unit>{_MONEY}|周?岁|{_PEOPLE})\s*(?:[（(]含[）)])?\s*(?:及|或)?(?P<side>以上|以下|以内|之内)"
)
_RANGE = re.compile(
    rf"({_NUMBER})\s*(?P<first>{_MONEY}|周?岁|{_PEOPLE})?\s*{_RANGE_SIGN}\s*({_NUMBER})\s*(?P<unit>{_MONEY}|周?岁)"
)
_PREFIXED = re.compile(
    r"(?P<side>不超过|不多于|不高于|不大于|超过|多于|高于|大于|不少于|不低于|年满|满|不满|未满|不足|少于|低于)"
    rf"\s*({_NUMBER})\s*(?P<unit>周?岁|{_PEOPLE})(?=的|以?[^\d，。；、])"
)
_BELOW = {"以下", "以内", "之内", "不超过", "不多于", "不高于", "不大于", "不满", "未满", "不足", "少于", "低于"}
_STRICT = {"超过", "多于", "高于", "大于", "不满", "未满", "不足", "少于", "低于"}  # the figure itself is outside


@dataclass(frozen=True)
class Quantity:
    """A figure in one measure: 万元 for sums, 岁 for ages, 人 for headcounts."""

    value: float
    measure: str
    words: str = ""  # as the asker wrote it
    question: str = ""  # the question it was stated in: a sum is weighed only against a band on what it speaks of


@dataclass(frozen=True)
class Condition:
    """A band on one measure, bounds inclusive (a figure on the line between two bands fits both), and its words."""

    measure: str
    low: float | None
    high: float | None
    words: str
    strict: bool = False  # 超过100人, 不满3周岁: the figure itself is outside the band
    subject: str = ""  # the words before it in its clause (「单户担保金额」 of 「单户担保金额500万元以上」)

    def holds(self, q: Quantity) -> bool:
        if q.measure != self.measure:
            return False
        if self.strict:
            return (self.low is None or q.value > self.low) and (self.high is None or q.value < self.high)
        return (self.low is None or q.value >= self.low) and (self.high is None or q.value <= self.high)

    @property
    def one_sided(self) -> str:
        """'low' or 'high' for a band bounded on one side only, '' for a range."""
        return "" if self.low is not None and self.high is not None else ("low" if self.low is not None else "high")


def _measure(unit: str) -> tuple[str, float]:
    if unit.endswith("岁"):
        return "岁", 1.0
    if unit in _UNITS:
        return "万元", _UNITS[unit]
    return "人", 1.0


def stated(question: str) -> list[Quantity]:
    """The sums, ages and headcounts the asker states of themselves (figures already Arabic: kb/query.py)."""
    out = []
    for m in _SAID.finditer(question):
        before = question[: m.start()]
        if _LIMIT_BEFORE.search(before) or _NOT_THEIRS.search(before):
            continue  # 「最高能贷15万吗」 asks about a ceiling, 「每人发3600块」 about a grant: not the asker's
        unit = m.group("money") or m.group("age") or m.group("people")
        measure, factor = _measure(unit)
        half = 0.5 if m.group("half") else 0.0  # 「3岁半」「三岁多」 are past 3
        out.append(Quantity(float(m.group(1)) * factor + half, measure, m.group(0), question))
    return out


def conditions(text: str) -> list[Condition]:
    """The bands a clause sets on a sum, an age or a headcount (not its ceilings on what is granted)."""
    out = []
    for m in _BOUND.finditer(text):
        if _LIMIT_BEFORE.search(text[: m.start()]):
            continue  # 「最高不超过300万元以下」「降至1%以下」: a ceiling
        measure, factor = _measure(m.group("unit"))
        out.append(_one_sided(text, m, measure, float(m.group(1)) * factor))
    for m in _RANGE.finditer(text):
        if _LIMIT_BEFORE.search(text[: m.start()]):
            continue  # 「给予1万元至3万元的一次性创业补贴」: a level of the grant
        measure, factor = _measure(m.group("unit"))
        first = _measure(m.group("first"))[1] if m.group("first") else factor  # 「5000元—2万元」
        low, high = float(m.group(1)) * first, float(m.group(3)) * factor
        if low < high:
            out.append(Condition(measure, low, high, m.group(0), False, _subject(text, m)))
    for m in _PREFIXED.finditer(text):
        out.append(_one_sided(text, m, _measure(m.group("unit"))[0], float(m.group(2))))
    return out


def _one_sided(text: str, m: re.Match[str], measure: str, value: float) -> Condition:
    """The band of a match bounded on one side, by its `side` word: below it (以下, 不满) or above it."""
    below = m.group("side") in _BELOW
    low, high = (None, value) if below else (value, None)
    return Condition(measure, low, high, m.group(0), m.group("side") in _STRICT, _subject(text, m))


def _subject(text: str, m: re.Match[str]) -> str:
    return re.split(r"[，,。；;：:]", text[: m.start()])[-1][-8:]


def _pairs(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


_FIRM = re.compile(r"企业|公司|厂|单位|店|员工|职工|工人|雇|机构|合作社")


def _speaks_of(q: Quantity, band: Condition) -> bool:
    """A sum is weighed against a band on what the question speaks of: 「担保800万」 against 「单户担保金额500万元
    以上」, not 「贷款5万」 against 「月销售额10万元以下」; a headcount only when the question speaks of a firm. An
    age is the asker's (or their child's: the band says whose)."""
    if not q.question or q.measure == "岁":
        return True
    if q.measure == "人":  # a headcount band is a firm's: 「我们村有120人」 is not 「超过100人的企业」
        return bool(_FIRM.search(q.question))
    return bool(_pairs(q.question) & _pairs(band.subject))


def met(quantities: list[Quantity], text: str) -> list[Condition]:
    """The conditions of `text` that a stated figure meets (see bands_met)."""
    return [band for _q, bands in bands_met(quantities, text) for band in bands]


def outside(quantities: list[Quantity], met_bands: list[tuple[Quantity, list[Condition]]], text: str) -> bool:
    """Whether a figure the asker states once meets no band though `text` sets one on its measure (「我孩子3岁半」
    against 「招收2-3岁的幼儿」); `met_bands`: bands_met(quantities, text), already read by the caller."""
    met_ids = {id(q) for q, bands in met_bands if bands}
    measures = [q.measure for q in quantities]
    banded = {c.measure for c in conditions(text)} if quantities else set()
    return any(id(q) not in met_ids and measures.count(q.measure) == 1 and q.measure in banded for q in quantities)


def bands_met(quantities: list[Quantity], text: str) -> list[tuple[Quantity, list[Condition]]]:
    """Each stated figure with the conditions of `text` it meets, read clause by clause: every band of a clause on
    the figure's measure must hold (「16周岁以上、不超过35周岁」 is not met by 40岁). A measure the asker states twice
    (「我50岁，女儿20岁」) is not weighed, nor a figure on the line between two bands of the text (500万 against
    「500万元及以下」 and 「500万元以上」): which one it is in, the text says, not the figure."""
    if not quantities:
        return []
    measures = [q.measure for q in quantities]
    clauses = [conditions(c) for c in re.split(r"[，,。；;]", text) if c]
    out = []
    for q in quantities:
        if measures.count(q.measure) > 1:
            continue
        groups = []
        for clause in clauses:
            bands = [c for c in clause if c.measure == q.measure and _speaks_of(q, c)]
            if bands and all(c.holds(q) for c in bands):
                groups.append(bands)
        held = [c for group in groups for c in group]
        if not held or (len(groups) > 1 and {c.one_sided for c in held} >= {"low", "high"}):
            continue  # none, or on the line between one clause's band and another's
        out.append((q, held))
    return out
