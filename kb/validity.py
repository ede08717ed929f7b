"""Is a circular still in force? From its own text, from the other documents, and from a maintainer's file.

Statuses: 现行 (in force), 已失效 (its validity period has passed), 已废止 (repealed by another document or by the
maintainers), 部分修订 (partly amended by another document). `status.yaml` beside the corpus overrides everything:

    发改办高技〔2020〕244号: 现行
    国发〔2018〕39号: {status: 部分修订, note: 见2023年新规}

Dated measures inside a text (「2019年1月1日至12月31日，对……」) are marked when their window has passed.
"""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from .meta import doc_numbers_in

if TYPE_CHECKING:
    from .store import Manifest

log = logging.getLogger(__name__)

IN_FORCE, EXPIRED, REPEALED, AMENDED = "现行", "已失效", "已废止", "部分修订"
STATUSES = (IN_FORCE, EXPIRED, REPEALED, AMENDED)
STATUS_FILE = "status.yaml"

_CN_NUM = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_NUM = r"(\d+|[一二两三四五六七八九十]+)"
_DATE = r"(\d{4})年(\d{1,2})月(\d{1,2})日"
_UNTIL = re.compile(r"有效期(?:至|到)(\d{4})年(?:(\d{1,2})月)?(?:(\d{1,2})日|底|末)?")
_PERIOD = re.compile(r"(?:有效期|施行期|实施期)(?:暂定)?(?:为)?" + _NUM + r"(年|个月)")
_START = re.compile(r"自" + _DATE + r"起(?:施行|实施|执行|生效)")
_UNTIL_EVENT = re.compile(r"有效期(?:至|到)([^，。；]{2,30}?(?:解除|结束|终止)[^，。；]{0,10})")
# A dated window 「2019年1月1日至12月31日」 (also used by kb/cards.py).
WINDOW_RANGE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日(?:起)?至(?:(\d{4})年)?(\d{1,2})月(\d{1,2})日")
# A time-limited plan: a start and a duration 「从2019年1月1日起，实施三年百万青年见习计划」 (also used by kb/cards.py).
_LEAD = r"[，,]?(?:实施|开展|启动|执行|组织实施)?(?:为期)?"
PLAN_TAIL = _LEAD + r"(?:\d+|[一二两三四五六七八九十]+)(?:年|个月)(?![\d以级])"  # the duration after the start
PLAN = re.compile(r"(?:从|自)(\d{4})年(?:(\d{1,2})月)?(?:(\d{1,2})日)?起" + _LEAD + _NUM + r"(年|个月)(?![\d以级])")
_REPEAL = re.compile(r"(?:同时|予以|即行|一并)?废止|停止执行|不再执行")
_DECLARED = re.compile(r"\[有效性\]\s*(有效|失效|废止)")
_AMEND = re.compile(r"修改为|修订为|作如下修改|予以修订")


@dataclass(frozen=True)
class Validity:
    status: str = IN_FORCE
    reason: str = ""
    until: str = ""  # ISO date the document is valid until, when its text says so

    @property
    def in_force(self) -> bool:
        return self.status in (IN_FORCE, AMENDED)

    def as_dict(self) -> dict[str, str]:
        return {"status": self.status, "reason": self.reason, "until": self.until}


def _number(text: str) -> int:
    if text.isdigit():
        return int(text)
    if text.startswith("十"):
        return 10 + (_CN_NUM.get(text[1:], 0) if len(text) > 1 else 0)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return _CN_NUM.get(tens, 1) * 10 + (_CN_NUM.get(ones, 0) if ones else 0)
    return _CN_NUM.get(text, 0)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add(start: date, amount: int, unit: str) -> date:
    months = amount * 12 if unit == "年" else amount
    y, m = divmod(start.month - 1 + months, 12)
    year, month = start.year + y, m + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def _iso(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def own_validity(text: str, signed: str, published: str, today: date) -> Validity:
    """What the document says about its own period of validity."""
    declared = _DECLARED.search(text[:2000])  # a repost's header field 「[有效性]失效」
    if declared and declared[1] != "有效":
        return Validity(REPEALED if declared[1] == "废止" else EXPIRED, f"原网页标注「{declared[0]}」")
    tail = text[-3000:]  # validity clauses sit at the end, before the signature
    match = _UNTIL.search(tail)
    if match:
        year, month, day = int(match[1]), int(match[2] or 12), match[3]
        until = date(year, month, int(day)) if day else _month_end(year, month)
        return _dated(until, match[0], today)
    match = _PERIOD.search(tail)
    if match:
        start_match = _START.search(tail)
        start = (
            date(int(start_match[1]), int(start_match[2]), int(start_match[3]))
            if start_match
            else _iso(signed) or _iso(published)
        )
        amount = _number(match[1])
        if start and amount:
            return _dated(_add(start, amount, match[2]), match[0], today)
    match = _UNTIL_EVENT.search(tail)
    if match:
        return Validity(IN_FORCE, f"{match[0]}（以事件为期限，请核实是否仍在有效期内）")
    return Validity()


def _dated(until: date, clause: str, today: date) -> Validity:
    if until < today:
        return Validity(EXPIRED, f"{clause}（{until.isoformat()}已过）", until.isoformat())
    return Validity(IN_FORCE, clause, until.isoformat())


def acts_on_others(text: str, own_no: str) -> list[tuple[str, str, str]]:
    """(target 文号, status, the sentence) for documents this text repeals or amends."""
    found = []
    for sentence in re.split(r"(?<=[。；\n])", text):
        # The 文号 and the verb in one clause (「《…》（国发〔2015〕23号）同时废止」); a repost's header fields
        # such as 「[废止日期]」 are not acts.
        for clause in re.split(r"[，,：:\n]", sentence):
            clause = clause.strip()
            if clause.startswith("[") or "自行废止" in clause:
                continue
            repeal, amend = _REPEAL.search(clause), _AMEND.search(clause)
            if not (repeal or amend):
                continue
            for number in doc_numbers_in(clause):
                if number != own_no:
                    found.append((number, REPEALED if repeal else AMENDED, sentence.strip()))
    return found


def parse_overrides(text: str, where: str) -> dict[str, Validity]:
    """`status.yaml`: 文号 or doc_id → status, or → {status, note}. A bad entry is logged and skipped."""
    import yaml

    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        log.warning("%s: not valid YAML, ignored (%s)", where, exc)
        return {}
    if not isinstance(data, dict):
        log.warning("%s: expected a mapping of 文号 to status, ignored", where)
        return {}
    overrides = {}
    for key, value in data.items():
        status, note = (value.get("status"), value.get("note", "")) if isinstance(value, dict) else (value, "")
        if status not in STATUSES:
            log.warning("%s: %s: status %r is not one of %s, ignored", where, key, status, "/".join(STATUSES))
            continue
        overrides[str(key)] = Validity(str(status), f"维护者标注：{note}" if note else "维护者标注")
    return overrides


def assess(
    docs: Mapping[str, tuple[Mapping[str, str], str]], overrides: Mapping[str, Validity], today: date
) -> dict[str, Validity]:
    """doc_id → Validity for every document; `docs` maps doc_id → (metadata, cleaned text)."""
    by_number = {meta.get("doc_no", ""): doc_id for doc_id, (meta, _) in docs.items() if meta.get("doc_no")}
    result = {
        doc_id: own_validity(text, meta.get("signed", ""), meta.get("published", ""), today)
        for doc_id, (meta, text) in docs.items()
    }
    for doc_id, (meta, text) in docs.items():
        for number, status, sentence in acts_on_others(text, meta.get("doc_no", "")):
            target = by_number.get(number)
            if target is None or result[target].status == REPEALED:
                continue
            title = meta.get("title") or doc_id
            result[target] = Validity(status, f"《{title}》：{sentence[:120]}", result[target].until)
    for doc_id, (meta, _) in docs.items():
        override = overrides.get(meta.get("doc_no", "")) or overrides.get(doc_id)
        if override is not None:
            result[doc_id] = override
    return result


def assess_stored(manifest: Manifest, today: date) -> dict[str, Validity]:
    """doc_id → Validity for every document the manifest lists, from the stored cleaned texts and the copy of
    `status.yaml` that ingest keeps beside the index (no embedder, no vector store)."""
    from .store import Store

    blobs = manifest.blobs
    overrides_text = blobs.read(STATUS_FILE)
    overrides = parse_overrides(overrides_text, blobs.where(STATUS_FILE)) if overrides_text else {}
    docs = {
        doc_id: (d["meta"], blobs.read(Store.text_name(doc_id, d["hash"])) or "") for doc_id, d in manifest.docs.items()
    }
    return assess(docs, overrides, today)


def window_ends(text: str) -> list[tuple[str, date]]:
    """Each dated window of a passage with its last day: ranges (「2019年1月1日至12月31日」) and time-limited plans
    (「从2019年1月1日起，实施三年」 → 2021-12-31)."""
    found = []
    for match in WINDOW_RANGE.finditer(text):
        try:
            found.append((match[0], date(int(match[4] or match[1]), int(match[5]), int(match[6]))))
        except ValueError:
            continue
    for match in PLAN.finditer(text):
        amount = _number(match[4])
        try:
            start = date(int(match[1]), int(match[2] or 1), int(match[3] or 1))
        except ValueError:
            continue
        if amount:
            found.append((match[0], date.fromordinal(_add(start, amount, match[5]).toordinal() - 1)))
    return found


def passed_windows(text: str, today: date) -> list[str]:
    """Dated windows and time-limited plans in a passage that have already ended."""
    return [window for window, end in window_ends(text) if end < today]
