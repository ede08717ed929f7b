"""Support-measure cards (政策措施卡片): who qualifies, what support, how much, on what terms, until when, from whom.

Read by rules from a document's cleaned text at ingest, one card per measure, every field tied to its place in the
text (offsets into the cleaned text, and the chunk holding them) so it can be cited like a passage.

A measure is a paragraph (or numbered item) that names a kind of support and either a beneficiary or an amount
or ratio; table fragments and headings are not measures (a measure is written in sentences).
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace

from .pipeline import VERSIONS
from .types import Chunk, DocMeta
from .validity import PLAN_TAIL, WINDOW_RANGE

CARD_RULES = f"cards-{VERSIONS['cards']}"  # bump the version when the rules change: the next ingest rebuilds cards

# Who a measure is for: canonical group → patterns. Person groups can describe an applicant; the rest are firms and
# institutions (an applicant's firm can be one; institutions are beneficiaries no entrepreneur applies as).
PERSON_GROUPS: dict[str, str] = {
    "高校毕业生": r"(?<!普通)高校(?:本科|应届)?毕业生|大学(?:本科)?毕业生|大学生",
    "职业院校毕业生": r"职业院校毕业生|职校生|成绩突出毕业生",
    "退役军人": r"退役军人",
    "农民工": r"农民工|进城务工人员|返乡入乡创业|返乡下乡|返乡农民",
    "失业人员": r"失业人员|下岗工人|失业青年|下岗失业",
    "就业困难人员": r"就业困难人员|零就业家庭",
    "青年": r"青年(?!技能日)",
    "创业者": r"创业者|自主创业|符合创业担保贷款申请条件的人员|个人创业担保贷款|创业担保贷款借款人",
    "企业职工": r"(?:在职|参保|企业)职工(?!人数|总数|个人|无法|\d)|职工在岗",
    "残疾人": r"残疾",
    "技术技能人才": r"技术技能大师|技术技能人才|高技能人才",
    "从业人员": r"从业人员",
    "家庭经济困难学生": r"家庭经济困难学生",
    "贫困人口": r"建档立卡(?:贫困|户)|贫困劳动力|贫困人口|贫困家庭",
    "婴幼儿家庭": r"婴幼儿家庭|家有婴幼儿的职工|脱产照护婴幼儿的父母",
}
FIRM_GROUPS: dict[str, str] = {
    "小微企业": r"小微企业|中小微企业|小型微利企业",
    "中小企业": r"(?<!微)中小企业(?!融资（信用）担保机构|股份转让|划型)",
    "个体工商户": r"个体工商户|个体户|定期定额户",
    "三农主体": r"“三农”主体|农户|农业经营主体|农民合作社|家庭农场",
    "困难企业": r"困难企业",
    "参保企业": r"参保企业",
    "战略性新兴产业企业": r"战略性新兴产业(?:项目|企业)",
    "产教融合型企业": r"产教融合型企业",
    "托育机构": r"婴幼儿照护服务机构|托育机构|幼儿园设立托班",
    "社会力量": r"社会力量|社会资本|用人单位",
    "示范项目": r"示范项目|效果明显的项目|成效明显的项目",
}
INSTITUTION_GROUPS: dict[str, str] = {
    "融资担保机构": r"融资担保(?:、再担保)?机构|担保、再担保机构|再担保基金|担保基金",
    "职业院校": r"职业院校(?!毕业生)|中等职业学校|技工院校",
    "创业孵化基地": r"创业孵化基地|创业孵化园区?|孵化载体|创业载体|孵化器|众创空间",
}
GROUPS = {**PERSON_GROUPS, **FIRM_GROUPS, **INSTITUTION_GROUPS}

KINDS: dict[str, str] = {
    "贷款": r"贷款(?!利息|利率|规模|投放|记录|风险|申请|可获得)",
    "贴息": r"贴息",
    "补贴": r"补贴(?!项目|方式)|补助(?!资金)|生活费|发放[^，。；]{0,6}(?:保险金|补助)|临时救助",
    "奖补": r"奖补|奖励(?!力度)|奖学金|助学金",
    "减免": r"减免|返还|抵免|免费提供|价格执行|降费|费率(?:原则上)?不超过|降至",
    "担保": r"担保(?:支持|增信)|提供(?:再)?担保|取消反担保|续保便利",
    "培训": r"职业技能培训|创业培训|在岗培训|培训补贴|技能实训",
    "场地": r"场地|房租|租金|用地(?:保障|指标)|划拨方式",
    "税收": r"税收优惠|税收政策|税前扣除",
    "资金": r"资金支持|财政补助|注资|投资对接|拨款|资金补充|代偿补偿|倾斜支持|资金予以(?:适当)?支持",
    "见习": r"见习",
}

SECTORS: dict[str, str] = {  # 领域 a field-bound document is about
    "家政": r"家政",
    "养老": r"养老",
    "托育": r"托育|婴幼儿照护|托班",
    "乡村旅游": r"乡村旅游",
    "家电回收": r"家电回收",
    "职业教育": r"职业教育|职业院校",
}

_CN = "一二三四五六七八九十"
_NUMBER = (
    r"(?<![\d.])(?:最高|最多|不超过|不低于|不少于|不高于|达到|超过|低于|上限){0,2}\d{1,12}(?:\.\d{1,6})?"
    r"(?:[—\-～~至]\d{1,12}(?:\.\d{1,6})?)?"
)
AMOUNT = re.compile(_NUMBER + r"\s*(?:万亿|亿|万|千)?元(?:及以下|以上|以下|/人|/户)?")
RATIO = re.compile(_NUMBER + r"\s*(?:%|％|‰|个百分点)(?:以上|以下)?|百分之[" + _CN + r"百点]+|" + _NUMBER + r"倍(?!数)")
WINDOW = re.compile(
    r"\d{4}年\d{1,2}月\d{1,2}日(?:起)?至(?:\d{4}年)?\d{1,2}月\d{1,2}日"
    r"|(?:从|自)\d{4}年\d{1,2}月\d{1,2}日起(?:" + PLAN_TAIL + r")?|\d{4}年(?:底|末)?前|有效期(?:至|为)[^，。；]{1,20}"
)
DEPARTMENTS = re.compile(r"（([^（）]{2,120}?)(?:等有关部门(?:和单位)?)?(?:按职责分工)?负责[^（）]{0,40}）")
CONDITION = re.compile(
    r"(?:^|(?<=[，。；：]))([^，。；：]{4,80}?的)(?=，(?:可|给予|按|由|在|均|经|要|应))"  # 「…的，可申请」
    r"|对([^，。；：]{4,60}?的)(?=[^，。；：]{0,30}(?:给予|收取|返还|实行|予以|可))"  # 「对符合条件的…给予」
    r"|(须[^，。；]{4,40}|不可[^，。；]{2,30}|每人每年只享受一次)"
)
# A group named as the one who acts (「…机构要…」「支持职业院校承担…」) rather than the one supported.
_ACTOR_AFTER = re.compile(
    r"^[^，。；]{0,40}?(?:要|应当|应|须|必须|负责|不得|承担|捐资|出资|开设|合作(?!社)|采取|落实|实施|加强|开展)"
)
_ACTOR_BEFORE = re.compile(r"(?:(?:引导|督促|要求|推动|发挥|落实)[^，。；]{0,4}|到|在)$")
# 「支持困难企业开展…」: supported, though it acts.
_SUPPORTED_BEFORE = re.compile(r"(?:支持|扶持|帮助|对|为|向|支持和引导)$")
# Kinds that name an activity as often as a benefit count only where the clause gives them (「为…提供场地」).
_NEEDS_GIVING = {"贷款", "担保", "培训", "场地", "资金"}
_GIVING = re.compile(r"给予|提供|予以|可申请|申请|享受|发放|免费|纳入|落实|加大|支持|倾斜|优先|保障|向|对")
_NEGATED = re.compile(r"不得|严禁|禁止|避免|防止|不再")
# A paragraph that reports what was done (news, statistics) rather than promising support.
_REPORT = re.compile(
    r"截至|据统计|同比(?:增长|下降|增加|减少)|已累计|累计(?:投放|发放|筹措|投入|为|帮助|减免|支持)|记者"
    r"|共(?:发放|投放|减免|帮助|为)|(?:据|根据)?测算|数据显示|预计(?:减免|为|将|可|全年)|今年以来|目前已|已(?:发放|为|帮助)"
)
# 「由原来的0.8%下调为0.5%」: the old value is no term of the measure.
_OLD_VALUE = re.compile(r"^[^，。；]{0,4}(?:下调|降至|降低至|降低到|调整为|提高至|提高到|上调|放宽至|扩大至|调减)")
_LIFTED = re.compile(r"(?:取消|不再设|放开)[^，。；]{0,12}$")  # 「取消单位价值500万元的限制」: a limit removed
_NOT_HEADING = re.compile(r"\d{1,2}:\d{2}|记者|电话|来源|责任单位|[：:]$|\d{7,}")
# Parts of a circular that set out aims, duties and oversight, not measures.
ADMIN_PARTS = re.compile(r"总体要求|指导思想|基本原则|组织实施|组织领导|保障措施|各方责任|监管|考核|督导")
HIRING = re.compile(r"新招用|招用|吸纳(?:就业|劳动者)|带动就业")
# Who a clause gives to: 「对/为/向 X 给予/予以/提供…」. X ending in an institution, a fund, a line of business, a bank
# or a local government (and no applicant's group) gives to them, not to a person or a firm applying.
_GIVEN_TO = re.compile(r"(?:对|为|向)([^，。；]{1,80}?)(?:给予|予以|提供|注资|进行资金|发放)")
_INSTITUTION_END = re.compile(
    r"(?:地方|地方政府|各地|银行|金融机构|业务|基金|机构|单位|院校|学校|孵化基地|载体)(?:等)?$"
)
_APPLICANT_END = re.compile("(?:" + "|".join([*PERSON_GROUPS.values(), *FIRM_GROUPS.values()]) + r")(?:等)?$")
# Fees, rates or thresholds lowered for someone: relief, whoever the clause tells to grant it.
_RELIEF = re.compile(r"(?:降低|下调|调降|减少)[^，。；]{0,12}(?:费率|利率|费用|成本|门槛)|免收|减收|免征|减征|减半")
# 「按照…有关规定执行」: a kind of support named in a reference to another rule is not given here.
_REFERENCE = re.compile(r"(?:按照|参照|依照)[^，。；]{0,40}?(?:规定|政策|办法)执行")
_ITEM = re.compile(rf"^\s*(?:（[{_CN}]+）|\([{_CN}]+\)|\d+[.．、]|[{_CN}]+、)\s*")
_HEADING = re.compile(rf"^\s*[{_CN}]+、\S{{2,20}}$")
_SENTENCE_END = "。；"


@dataclass(frozen=True)
class Span:
    """One field value: `value` as compared and filtered, `text` as written, `start`/`end` index the cleaned text."""

    value: str
    text: str
    start: int
    end: int
    chunk_id: str = ""


@dataclass(frozen=True)
class Card:
    id: str
    doc_id: str
    title: str
    doc_no: str
    region: str
    section: str
    name: str
    start: int
    end: int
    chunk_id: str
    who: tuple[Span, ...] = ()
    kinds: tuple[Span, ...] = ()
    amounts: tuple[Span, ...] = ()
    ratios: tuple[Span, ...] = ()
    conditions: tuple[Span, ...] = ()
    window: tuple[Span, ...] = ()
    departments: tuple[Span, ...] = ()
    hiring: tuple[Span, ...] = ()  # where the measure asks the applicant to take on employees
    fields: tuple[str, ...] = field(default=())  # 领域 the measure is limited to (empty: any field)
    dated: bool = False  # every sentence that gives support carries a dated window: the measure lapses with them
    # Every clause that gives support gives it to institutions, funds, banks or local governments, or only cites
    # another rule: the groups it names are served through them, and nobody applies for it.
    institutional: bool = False

    def values(self, name: str) -> list[str]:
        return [s.value for s in getattr(self, name)]

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Card:
        spans = {k: tuple(Span(**s) for s in data[k]) for k in CARD_FIELDS if k in data}
        rest = {k: v for k, v in data.items() if k not in spans}
        rest["fields"] = tuple(rest.get("fields", ()))
        return cls(**rest, **spans)


CARD_FIELDS = ("who", "kinds", "amounts", "ratios", "conditions", "window", "departments", "hiring")


def extract(text: str, meta: DocMeta, chunks: Sequence[Chunk]) -> list[Card]:
    """The measures of one cleaned document, in text order."""
    located = _Chunks(chunks)
    scope = _doc_fields(text, meta)
    cards: list[Card] = []
    section = part = ""
    offset = 0
    lines = text.split("\n")
    preamble = any(_HEADING.match(line.strip()) for line in lines)  # what precedes the first heading is no measure
    for line in lines:
        start, end = offset + len(line) - len(line.lstrip()), offset + len(line.rstrip())
        offset += len(line) + 1
        body = line.strip()
        if preamble and not _HEADING.match(body):
            continue
        preamble = False
        if _HEADING.match(body):
            part = body
        if _HEADING.match(body) or (len(body) <= 30 and not any(c in body for c in _SENTENCE_END)):
            if 2 <= len(body) <= 30 and not _NOT_HEADING.search(body):
                section = body
            continue
        if len(body) < 12 or not any(c in body for c in _SENTENCE_END):
            continue  # a table fragment or a caption, not a measure
        if ADMIN_PARTS.search(part) or _REPORT.search(body):
            continue
        card = _card(text, start, end, meta, located, section, scope, len(cards) + 1)
        if card is not None:
            cards.append(card)
    return cards


def _card(
    text: str,
    start: int,
    end: int,
    meta: DocMeta,
    chunks: _Chunks,
    section: str,
    scope: tuple[str, ...],
    n: int,
) -> Card | None:
    body = text[start:end]

    def spans(pattern: re.Pattern[str] | str, value: str | None = None, norm: bool = False) -> list[Span]:
        found = []
        for m in re.finditer(pattern, body):
            g = next((i for i in range(1, (m.lastindex or 0) + 1) if m.group(i)), 0)
            s, e = m.span(g)
            shown = value or (_norm(m.group(g)) if norm else m.group(g))
            found.append(Span(shown, m.group(g), start + s, start + e, chunks.at(start + s)))
        return found

    kinds = _first_each({k: [x for x in spans(p, k) if _gives(text, x)] for k, p in KINDS.items()})
    who = _first_each(
        {g: [x for x in spans(p, g) if not _actor(text, x) and not _in_title(text, x)] for g, p in GROUPS.items()}
    )
    amounts = [x for x in spans(AMOUNT, norm=True) if not _old_value(text, x)]
    ratios = [x for x in spans(RATIO, norm=True) if not _old_value(text, x)]
    if not kinds or not (who or amounts or ratios):
        return None
    item = _ITEM.match(body)
    head = body[item.end() :] if item else body
    first = re.split(r"[。；]", head, maxsplit=1)[0]
    name = first if len(first) <= 30 else (section or first[:30] + "…")
    conditions = [s for s in spans(CONDITION) if s.value not in {w.text for w in who}]
    sentences = head[len(first) + 1 :] if item and name == first else body  # an item's title is no sentence
    return Card(
        id=f"{meta.doc_id}#{n}",
        doc_id=meta.doc_id,
        title=meta.title,
        doc_no=meta.doc_no,
        region=meta.region,
        section=section,
        name=name,
        start=start,
        end=end,
        chunk_id=chunks.at(start),
        who=tuple(who),
        kinds=tuple(kinds),
        amounts=tuple(amounts),
        ratios=tuple(ratios),
        conditions=tuple(conditions),
        window=tuple(replace(s, value=re.sub(PLAN_TAIL + "$", "", s.text)) for s in spans(WINDOW)),
        departments=tuple(_departments(body, start, chunks)),
        fields=scope,
        hiring=tuple(spans(HIRING, "吸纳就业")[:1]),
        dated=_dated(sentences),
        institutional=_institutional(sentences),
    )


def _clause(text: str, span: Span) -> str:
    """The clause around a span; a line ends every clause, so the search never leaves the span's line."""
    lo = text.rfind("\n", 0, span.start) + 1
    hi = text.find("\n", span.end)
    hi = len(text) if hi < 0 else hi
    left = max(text.rfind(c, lo, span.start) for c in "，。；：") + 1
    rights = [i for i in (text.find(c, span.end, hi) for c in "，。；") if i >= 0]
    return text[max(left, lo) : min(rights) if rights else hi]


def _old_value(text: str, span: Span) -> bool:
    before = text[max(0, span.start - 6) : span.start]
    replaced = ("由" in before or "从" in before) and bool(_OLD_VALUE.match(text[span.end : span.end + 12]))
    lead = text[max(0, span.start - 14) : span.start]
    lifted = "限制" in text[span.end : span.end + 6] and bool(_LIFTED.search(lead))
    return replaced or lifted


def _gives(text: str, span: Span) -> bool:
    clause = _clause(text, span)
    return not _NEGATED.search(clause) and (span.value not in _NEEDS_GIVING or bool(_GIVING.search(clause)))


def _in_title(text: str, span: Span) -> bool:
    """Inside 《…》 (a document's name) or a proper name (「中小企业股份转让系统」): no mention of a group."""
    lo = max(0, span.start - 60)  # a title or name is short: never scan the whole text back
    opened, closed = text.rfind("《", lo, span.start), text.rfind("》", lo, span.start)
    return (opened > closed and "》" in text[span.end : span.end + 40]) or text.startswith("股份转让", span.end)


def _actor(text: str, span: Span) -> bool:
    line_end = text.find("\n", span.end)
    after = text[span.end : line_end if line_end >= 0 else len(text)]
    before = text[max(0, span.start - 8) : span.start]
    if _SUPPORTED_BEFORE.search(before):
        return False
    return bool(_ACTOR_AFTER.match(after) or _ACTOR_BEFORE.search(before))


def _dated(body: str) -> bool:
    giving = [s for s in re.split(r"(?<=[。；])", body) if any(re.search(p, s) for p in KINDS.values())]
    return bool(giving) and all(WINDOW_RANGE.search(s) for s in giving)


def _institutional(body: str) -> bool:
    """Every clause that gives a kind of support (or relief) names an institution (or a local government) as the
    one given to, or cites another rule; a clause whose recipient is unclear counts as giving to applicants."""
    verdicts = []
    for clause in re.split(r"[，。；]", body):
        gives = any(re.search(p, clause) for p in KINDS.values()) or _RELIEF.search(clause)
        if not gives or _NEGATED.search(clause):
            continue
        given = _GIVEN_TO.search(clause)
        recipient = given[1].rstrip("的") if given else ""
        referred = bool(_REFERENCE.search(clause))
        verdicts.append(referred or (not _APPLICANT_END.search(recipient) and bool(_INSTITUTION_END.search(recipient))))
    return bool(verdicts) and all(verdicts)


def _first_each(found: dict[str, list[Span]]) -> list[Span]:
    """One span per value (its first mention), in text order."""
    return sorted((spans[0] for spans in found.values() if spans), key=lambda s: s.start)


def _departments(body: str, start: int, chunks: _Chunks) -> list[Span]:
    out: list[Span] = []
    for m in DEPARTMENTS.finditer(body):
        pos = m.start(1)
        for part in re.split(r"[、，,]", m.group(1)):
            name = re.sub(r"^(?:列第一位者为牵头单位|下同)$", "", part.strip())
            if len(name) >= 2:
                s = start + body.index(part, pos)
                out.append(Span(name, part, s, s + len(part), chunks.at(s)))
            pos += len(part) + 1
    return out


def _doc_fields(text: str, meta: DocMeta) -> tuple[str, ...]:
    """The fields a field-bound document is about, from its title and opening paragraph (empty: any field)."""
    opening = meta.title + "\n" + "\n".join(text.split("\n")[:8])
    return tuple(f for f, p in SECTORS.items() if re.search(p, opening))


def _norm(text: str) -> str:
    """The comparable core of an amount or ratio, without qualifiers (「最高不超过15万元」→「15万元」)."""
    m = re.search(r"\d+(?:\.\d+)?(?:[—\-～~至]\d+(?:\.\d+)?)?\s*(?:万亿|亿|万|千)?(?:元|%|％|‰|个百分点|倍)", text)
    return m.group(0).replace("％", "%").replace(" ", "") if m else text


class _Chunks:
    """Which chunk holds an offset: the first in text order (chunks overlap their neighbours a little)."""

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        self.chunks = sorted(chunks, key=lambda c: c.start)
        self.starts = [c.start for c in self.chunks]

    def at(self, offset: int) -> str:
        i = bisect.bisect_right(self.starts, offset)
        for chunk in self.chunks[max(0, i - 4) : i]:
            if offset < chunk.end:
                return chunk.id
        return self.chunks[min(i, len(self.chunks) - 1)].id if self.chunks else ""  # in a gap: the next chunk


def dumps(cards: Sequence[Card]) -> str:
    return json.dumps({"rules": CARD_RULES, "cards": [c.as_dict() for c in cards]}, ensure_ascii=False)


def loads(text: str) -> list[Card]:
    """Cards as `dumps` wrote them; ValueError for anything else."""
    data = json.loads(text)
    if not isinstance(data, dict) or not isinstance(data.get("cards", []), list):
        raise ValueError("not a cards file")
    try:
        return [Card.from_dict(c) for c in data.get("cards", [])]
    except (AttributeError, KeyError, TypeError) as exc:
        raise ValueError(f"malformed card: {exc}") from exc
