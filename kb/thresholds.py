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
_PEOPLE = r"名(?:员工|职工|工人)?|个人|人"

# In a question: a sum, an age or a headcount the asker has — not one they compare with (「比500万多」
# 「500万以下的单子」「不到10万」 set a band themselves; 「2027年」 and 「3年」 are no such figure).
_SAID = re.compile(
    rf"(?<![\d.比超过到满于足])({_NUMBER})\s*(?:(?P<money>{_MONEY})|(?P<age>周?岁)|(?P<people>{_PEOPLE}))"
    r"(?!\s*(?:[（(]含[）)])?\s*(?:以上|以下|以内|之内|及以|或以|上下|封顶|的(?:单|企业|项目)))"
)
_LIMIT_BEFORE = re.compile(r"(?:最高|最多|最低|上限|限额|不超过|不高于|降至|降到|控制在|累计)[^，。；、]{0,4}$")
# In a passage: a band set by 以上 / 以下 after the figure, a range, or 超过 / 不满 before a headcount or an age used
# as an attribute (「超过100人的企业」, not 「贷款不超过300万元」).
_BOUND = re.compile(
    rf"({_NUMBER})\s*(?P<unit>{_MONEY}|周?岁|{_PEOPLE})\s*(?:[（(]含[）)])?\s*(?:及|或)?(?P<side>以上|以下|以内|之内)"
)
_RANGE = re.compile(
    rf"({_NUMBER})\s*(?P<first>{_MONEY}|周?岁|{_PEOPLE})?\s*[—\-－–~～至到]\s*({_NUMBER})\s*(?P<unit>{_MONEY}|周?岁)"
)
_PREFIXED = re.compile(
    rf"(?P<side>超过|多于|不少于|不低于|年满|满|不满|未满|不足|少于|低于)\s*({_NUMBER})\s*(?P<unit>周?岁|{_PEOPLE})"
    r"(?=的|以?[^\d，。；、])"
)
_BELOW = {"以下", "以内", "之内", "不满", "未满", "不足", "少于", "低于"}


@dataclass(frozen=True)
class Quantity:
    """A figure in one measure: 万元 for sums, 岁 for ages, 人 for headcounts."""

    value: float
    measure: str
    words: str = ""  # as the asker wrote it


@dataclass(frozen=True)
class Condition:
    """A band on one measure, bounds inclusive (a figure on the line between two bands fits both), and its words."""

    measure: str
    low: float | None
    high: float | None
    words: str

    def holds(self, q: Quantity) -> bool:
        return (
            q.measure == self.measure
            and (self.low is None or q.value >= self.low)
            and (self.high is None or q.value <= self.high)
        )


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
        if _LIMIT_BEFORE.search(question[: m.start()]):
            continue  # 「最高能贷15万吗」 asks about a ceiling, it states no figure of the asker's
        unit = m.group("money") or m.group("age") or m.group("people")
        measure, factor = _measure(unit)
        out.append(Quantity(float(m.group(1)) * factor, measure, m.group(0)))
    return out


def conditions(text: str) -> list[Condition]:
    """The bands a clause sets on a sum, an age or a headcount (not its ceilings on what is granted)."""
    out = []
    for m in _BOUND.finditer(text):
        if _LIMIT_BEFORE.search(text[: m.start()]):
            continue  # 「最高不超过300万元以下」「降至1%以下」: a ceiling
        measure, factor = _measure(m.group("unit"))
        value = float(m.group(1)) * factor
        below = m.group("side") in _BELOW
        out.append(Condition(measure, None if below else value, value if below else None, m.group(0)))
    for m in _RANGE.finditer(text):
        measure, factor = _measure(m.group("unit"))
        first = _measure(m.group("first"))[1] if m.group("first") else factor  # 「5000元—2万元」
        low, high = float(m.group(1)) * first, float(m.group(3)) * factor
        if low < high:
            out.append(Condition(measure, low, high, m.group(0)))
    for m in _PREFIXED.finditer(text):
        measure, _factor = _measure(m.group("unit"))
        value = float(m.group(2))
        below = m.group("side") in _BELOW
        out.append(Condition(measure, None if below else value, value if below else None, m.group(0)))
    return out


def met(quantities: list[Quantity], text: str) -> list[Condition]:
    """The conditions of `text` that a stated figure meets."""
    return [c for c in conditions(text) if any(c.holds(q) for q in quantities)] if quantities else []
