"""我能申请吗: match a person's situation against the support-measure cards, condition by condition.

Each condition of a matching measure is met (满足), not met (不满足) or unknown (待确认), and cites the card field it
rests on; what is unknown becomes a question back to the person.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from .cards import FIRM_GROUPS, INSTITUTION_GROUPS, PERSON_GROUPS, SECTORS, Card, Span
from .query import expand
from .region import PROVINCES, short_name, within
from .validity import Validity, window_ends

MET, NOT_MET, UNKNOWN = "满足", "不满足", "待确认"
FIRMS = ("小微企业", "个体工商户", "中型企业", "大型企业", "尚未创办")
ASK = {
    "支持对象": "您属于哪类人员（如高校毕业生、退役军人、农民工、失业人员），或经营哪类主体（小微企业、个体工商户）？",
    "领域": "您从事或打算从事哪个领域（如家政、养老、托育、乡村旅游、家电回收）？",
    "地区": "您在哪个省（区、市）创业或就业？",
    "吸纳就业": "您是否会招用员工（吸纳就业）？",
}
# Plain words people use for themselves → the card groups (PERSON_GROUPS keys).
IDENTITY_WORDS = {
    "高校毕业生": r"高校毕业生|大学毕业生|应届毕业生|大学生|毕业生|研究生",
    "退役军人": r"退役军人|退伍军人|转业军人|退伍",
    "农民工": r"农民工|返乡|进城务工|外出务工",
    "失业人员": r"失业(?!保险)|下岗|没有工作|没工作",
    "就业困难人员": r"就业困难|零就业家庭",
    "青年": r"青年|年轻人",
    "残疾人": r"残疾",
    "企业职工": r"职工|上班族|是[^，。！？]{0,6}员工",
    "婴幼儿家庭": r"宝妈|宝爸|全职妈妈|全职爸爸|家有婴幼儿",
}
_FIRM_WORDS = {
    "小微企业": r"小微企业|小企业|微型企业|小公司",
    "个体工商户": r"个体工商户|个体户",
    "中型企业": r"中型企业",
    "大型企业": r"大型企业|大企业",
}
_FIELD_WORDS = {
    "家政": r"家政|保洁|保姆|月嫂|育儿嫂",
    "养老": r"养老|老年人",
    "托育": r"托育|托儿|婴幼儿|早教",
    "乡村旅游": r"乡村旅游|农家乐|民宿",
    "家电回收": r"家电回收|旧家电|废旧家电",
    "职业教育": r"职业教育|职业培训学校|职业院校",
}
# What support the person asks about → kb.cards.KINDS keys (「有没有培训补贴」 → 培训, 补贴).
WANT_WORDS = {
    "贷款": r"贷款|借款|贷多少|能贷",
    "补贴": r"补贴|补助|资助",
    "奖补": r"奖补|奖励",
    "减免": r"减免|优惠|降费|免费",
    "税收": r"税",
    "担保": r"担保",
    "培训": r"培训|考证|证书|学技术|学手艺|学做",
    "场地": r"场地|房租|租金|店面|用地",
    "见习": r"见习|实习",
}
_SELF = re.compile(r"我|本人|俺|咱|我们|我家|自己")
_WANTS = re.compile(r"支持|政策|补贴|扶持|帮助|优惠|贷款|能申请|可以申请|能享受|可以享受|能不能|符合|资格|申请什么")
_HIRING_YES = re.compile(r"招人|招聘|招用|招员工|雇人|雇用|带动就业|吸纳就业|招\d+|招几个")
_HIRING_NO = re.compile(r"不[^，。！？]{0,3}(?:招|雇)|没有员工|一个人干|自己干")
_ASKS = re.compile(r"[？?]|什么|吗|哪些|怎么|如何|多少|是否")
_STARTING = re.compile(
    r"创业|开一家|开个|开家|想做|想开|打算做|打算开|准备做|准备开|办一家|办个|回乡|返乡|开店|做[^，。！？]{0,8}生意|办厂"
)


@dataclass(frozen=True)
class Profile:
    """Who is asking. Empty fields are unknown."""

    identities: tuple[str, ...] = ()  # PERSON_GROUPS keys
    field: str = ""  # a kb.cards.SECTORS key
    region: str = ""  # a province as in kb.meta.PROVINCES
    firm: str = ""  # one of FIRMS
    hiring: bool | None = None
    starting: bool = False  # starting a business (创业)
    wants: tuple[str, ...] = ()  # kinds of support asked about (kb.cards.KINDS keys)

    def __bool__(self) -> bool:
        return bool(self.identities or self.field or self.region or self.firm or self.hiring is not None)

    def describe(self) -> str:
        parts = [
            "、".join(self.identities) if self.identities else "",
            f"领域：{self.field}" if self.field else "",
            f"地区：{self.region}" if self.region else "",
            f"主体：{self.firm}" if self.firm else "",
            "" if self.hiring is None else ("会招用员工" if self.hiring else "不招用员工"),
            "创业" if self.starting and not self.firm else "",
            "想了解：" + "、".join(self.wants) if self.wants else "",
        ]
        return "；".join(p for p in parts if p) or "未说明"


@dataclass(frozen=True)
class Condition:
    label: str  # 支持对象 / 领域 / 地区 / 吸纳就业 / 有效性 / 申请条件
    state: str  # MET / NOT_MET / UNKNOWN
    detail: str
    span: Span | None = None  # the card field it rests on (None: the measure as a whole)


@dataclass(frozen=True)
class Match:
    card: Card
    conditions: tuple[Condition, ...] = field(default=())

    @property
    def met(self) -> int:
        return sum(c.state == MET for c in self.conditions)

    @property
    def failed(self) -> bool:
        return any(c.state == NOT_MET for c in self.conditions)

    @property
    def unknown(self) -> list[Condition]:
        return [c for c in self.conditions if c.state == UNKNOWN]


def parse_profile(text: str) -> Profile | None:
    """The situation a plain question describes (「我是退役军人，想做家政，有什么支持？」), or None when the question
    describes nobody or asks for no support."""
    if not _SELF.search(text) or not _WANTS.search(text):
        return None
    profile = profile_in(text)
    return profile if (profile.identities or profile.firm) else None  # a field alone says what, not who


# A 我能申请吗 question that asks only which measures apply (「有什么支持？」「有没有补贴？」「能享受哪些优惠政
# 策？」): its asking clause is made of words of support and of asking alone, and the list of measures answers it.
# Anything else it asks (「培训生活费补贴还能一起拿吗」「能领几千块」) is answered from the clauses first.
_GENERIC = re.compile(
    r"请问|那么|国家|政府|上面|文件|我们|能不能|可不可以|能否|是否|有没有|可以|没有|什么|哪些|哪种|哪几种|哪一些|样的"
    r"|申请|享受|获得|得到|拿到|优惠|支持|扶持|补贴|补助|帮扶|帮助|好处|措施|政策|条件|符合|资格|适用|一些"
    r"|[那我都还能会有啥的吗嘛呢么些给领拿]"
)


def _clauses(question: str) -> list[str]:
    return [c for c in re.split(r"[，,。！!？?；;\s]+", question) if c]


def asking_clause(question: str) -> str:
    """The question's last clause: where a 我能申请吗 question asks (the clauses before it describe the asker)."""
    clauses = _clauses(question)
    return clauses[-1] if clauses else ""


_SUPPORT_NOUN = re.compile(r"补贴|补助|支持|扶持|优惠|帮助|帮扶|措施|政策|好处|什么|哪些|啥")


def asks_only_measures(question: str) -> bool:
    """The asking clause asks which measures apply and nothing more specific. A bare 「可以吗？」「能拿吗？」 asks about
    the clause before it, read without the asker's situation (「想申请创业担保贷款，可以吗？」 asks about a loan)."""
    clauses = _clauses(question)
    if not clauses or _GENERIC.sub("", clauses[-1]):
        return False
    if _SUPPORT_NOUN.search(clauses[-1]) or len(clauses) < 2:
        return True
    earlier = clauses[-2]
    for pattern in (*IDENTITY_WORDS.values(), *_FIELD_WORDS.values(), *_FIRM_WORDS.values()):
        earlier = re.sub(pattern, "", earlier)
    earlier = _GENERIC.sub("", _STARTING.sub("", _HIRING_YES.sub("", _SELF.sub("", earlier))))
    return not re.sub(r"[想要打算准备做开办是了已经岁店厂个家一\d]", "", earlier)


def profile_in(text: str) -> Profile:
    """Whatever the text says about the person (no gate: for a reply to a follow-up question like 「在江西」)."""
    identities = tuple(g for g, p in IDENTITY_WORDS.items() if re.search(p, text))
    firm = next((f for f, p in _FIRM_WORDS.items() if re.search(p, text)), "")
    field_ = next((f for f, p in _FIELD_WORDS.items() if re.search(p, text)), "")
    region = region_of(text)
    hiring = False if _HIRING_NO.search(text) else True if _HIRING_YES.search(text) else None
    if identities == ("企业职工",) and (firm or _STARTING.search(text)):
        identities = ()  # 「我们公司的员工」 describes the firm, not the asker
    wants = tuple(k for k, p in WANT_WORDS.items() if re.search(p, text))
    return Profile(identities, field_, region, firm, hiring, bool(_STARTING.search(text)) or bool(firm), wants)


def speaks_of(card: Card, written: str, word: str) -> bool:
    """Whether a measure (`written`: its document's title, its 文号 and its text) speaks of `word` as the chat
    understands the word: as written; as a policy term the chat searches for it (kb/synonyms.txt: 带娃 → 婴幼儿); as
    a field (托育, 托儿所 → the measures of a document about 托育, and 婴幼儿照护, 托班); or as a group it names
    (退伍 → 退役军人)."""
    for form in (word, *expand(word)[len(word) :].split()):
        if form in written:
            return True
        fields = [f for f, p in _FIELD_WORDS.items() if re.search(p, form)]
        if any(f in card.fields or re.search(SECTORS[f], written) for f in fields):
            return True
        groups = [g for g, p in (*IDENTITY_WORDS.items(), *_FIRM_WORDS.items()) if re.search(p, form)]
        if any(g in card.values("who") for g in groups):
            return True
    return False


def is_reply(text: str) -> bool:
    """A short statement (「在江西，会招人」) rather than a new question."""
    return len(text) <= 30 and not _ASKS.search(text)


def merge(earlier: Profile, later: Profile) -> Profile:
    """A follow-up's answers added to the situation described before (later statements win)."""
    return Profile(
        tuple(dict.fromkeys(earlier.identities + later.identities)),
        later.field or earlier.field,
        later.region or earlier.region,
        later.firm or earlier.firm,
        earlier.hiring if later.hiring is None else later.hiring,
        earlier.starting or later.starting,
        tuple(dict.fromkeys(earlier.wants + later.wants)),
    )


def region_of(text: str) -> str:
    for province in PROVINCES:
        short = short_name(province)
        if province in text or (len(short) >= 2 and short in text):
            return province
    return ""


def match(
    cards: Sequence[Card], profile: Profile, validity_of: Callable[[str], Validity], today: date | None = None
) -> list[Match]:
    """The measures open to this person (none of their conditions failed), those addressed to them most closely
    first (see `addressed`)."""
    today = today or date.today()
    found = []
    for order, card in enumerate(cards):
        groups = [s.value for s in card.who]
        if card.institutional or (groups and all(g in INSTITUTION_GROUPS for g in groups)):
            continue  # for guarantee funds, banks, local governments, schools: nobody applies as one
        m = Match(card, conditions(card, profile, validity_of(card.doc_id), today))
        closeness = _who_of(card, profile)[1]
        relevant = closeness > 0 or (bool(profile.field) and profile.field in card.fields)
        if relevant and not m.failed:
            found.append((-addressed(card, profile), -m.met, len(m.unknown), order, m))
    return [m for *_key, m in sorted(found, key=lambda f: f[:4])]


def addressed(card: Card, p: Profile) -> float:
    """How closely a measure is addressed to this person: a point for each thing they stated that the measure is
    written for — their own group (half for a group that takes them in, such as 创业者, or one they may belong to),
    their field (shared among the fields a field-bound document names), their province (for a provincial measure),
    and each kind of support they asked about."""
    field_share = 1 / len(card.fields) if p.field and p.field in card.fields else 0.0
    regional = card.region not in ("", "国家") and card.region == p.region
    wanted = sum(k in card.values("kinds") for k in p.wants)
    return _who_of(card, p)[1] + field_share + float(regional) + wanted


def conditions(card: Card, profile: Profile, validity: Validity, today: date) -> tuple[Condition, ...]:
    """Each condition of one measure for this person: 支持对象, 领域, 地区, 吸纳就业 (when the measure is tied to
    hiring), 有效性, and the measure's own 申请条件 — each 满足, 不满足 or 待确认."""
    return (
        _who(card, profile),
        _field(card, profile),
        _region(card, profile),
        *_hiring(card, profile),
        _validity(card, validity, today),
        *_terms(card),
    )


# Firm groups that are a standing a business has or may earn (参保企业, 示范项目, 产教融合型企业), not its size: they do
# not rule a firm or a new business out, it has to check.
STANDINGS = frozenset(FIRM_GROUPS) - {"小微企业", "中小企业", "个体工商户", "三农主体"}
# What a new business in a field-bound measure's own field is (a new 托育 business is a 托育机构).
_IN_FIELD = frozenset({"社会力量", "托育机构"})
# Firms often served under a group the measure names, which the person should confirm (个体工商户 as 小微企业).
_NEAR = {"个体工商户": frozenset({"小微企业"})}


def _who(card: Card, p: Profile) -> Condition:
    return _who_of(card, p)[0]


def _who_of(card: Card, p: Profile) -> tuple[Condition, float]:
    """The 支持对象 condition, and how closely the groups named take the person in: 1 for their own group, 0.5 for a
    group that takes them in (创业者, 中小企业) or one they may belong to (to be confirmed), 0 otherwise."""
    in_field = bool(card.fields) and p.field in card.fields
    takes_in: tuple[Condition, float] | None = None
    maybe: tuple[Condition, float] | None = None
    for span in card.who:
        g = span.value
        if g in p.identities or g == p.firm:
            return Condition("支持对象", MET, f"措施对象包括「{span.text}」", span), 1.0
        broad = (
            (g == "中小企业" and p.firm in ("小微企业", "个体工商户", "中型企业"))
            or (g == "创业者" and p.starting)
            or (g in _IN_FIELD and p.starting and in_field)
        )
        if broad and takes_in is None:
            takes_in = Condition("支持对象", MET, f"措施对象包括「{span.text}」", span), 0.5
        elif maybe is None and g in _NEAR.get(p.firm, ()):
            detail = f"措施对象为「{span.text}」，{p.firm}是否同样适用请向主管部门确认"
            maybe = Condition("支持对象", UNKNOWN, detail, span), 0.5
        elif maybe is None and g in STANDINGS and p.starting:
            detail = f"措施对象为「{span.text}」，请确认您的企业或项目是否属于"
            maybe = Condition("支持对象", UNKNOWN, detail, span), 0.5 if in_field else 0.0
    chosen = takes_in or maybe
    if chosen is not None:
        return chosen
    named = [s for s in card.who if s.value in PERSON_GROUPS or s.value in FIRM_GROUPS]
    if not named:
        return Condition("支持对象", UNKNOWN, "措施未写明对象", None), 0.0
    listing = "、".join(dict.fromkeys(s.text for s in named))
    if p.identities or p.firm:
        return Condition("支持对象", NOT_MET, f"措施对象为{listing}", named[0]), 0.0
    return Condition("支持对象", UNKNOWN, f"措施对象为{listing}", named[0]), 0.0


def _field(card: Card, p: Profile) -> Condition:
    if not card.fields:
        return Condition("领域", MET, "不限领域")
    scope = "、".join(card.fields)
    if not p.field:
        return Condition("领域", UNKNOWN, f"限于{scope}等领域")
    if p.field in card.fields:
        return Condition("领域", MET, f"文件支持的领域包括{p.field}")
    return Condition("领域", NOT_MET, f"文件限于{scope}等领域")


def _region(card: Card, p: Profile) -> Condition:
    if card.region in ("", "国家"):
        return Condition("地区", MET, "全国适用（各地另有实施细则的，以当地规定为准）")
    if not p.region:
        return Condition("地区", UNKNOWN, f"限{card.region}")
    if card.region == p.region:
        return Condition("地区", MET, f"限{card.region}")
    if within(card.region, p.region):  # a measure of 江西省南昌市, for someone who only said 江西省
        return Condition("地区", UNKNOWN, f"限{card.region}")
    return Condition("地区", NOT_MET, f"限{card.region}")


def _hiring(card: Card, p: Profile) -> list[Condition]:
    if not card.hiring:
        return []
    span = card.hiring[0]
    if p.hiring:
        return [Condition("吸纳就业", MET, f"措施与「{span.text}」挂钩", span)]
    # The hiring may bind only part of the measure (「小微企业当年新招用…」), so not hiring does not rule it out.
    detail = f"措施（或其中一部分）与「{span.text}」挂钩"
    if p.hiring is False:
        detail += "，您不招用员工时请确认是否适用"
    return [Condition("吸纳就业", UNKNOWN, detail, span)]


def _validity(card: Card, validity: Validity, today: date) -> Condition:
    if not validity.in_force:
        return Condition("有效性", NOT_MET, f"文件{validity.status}：{validity.reason}")
    ended = [(s, end) for s in card.window for _text, end in window_ends(s.text) if end < today]
    if ended and card.dated and len({s for s, _end in ended}) == len(card.window):
        span, end = ended[0]
        return Condition("有效性", NOT_MET, f"措施期限「{span.text}」已于{_cn(end)}结束", span)
    if ended:
        span, end = ended[0]
        detail = f"文件{validity.status}，但其中「{span.text}」的措施已于{_cn(end)}结束，其余部分请向主管部门确认"
        return Condition("有效性", UNKNOWN, detail, span)
    return Condition("有效性", MET, f"文件{validity.status}")


def _cn(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _terms(card: Card) -> list[Condition]:
    """The measure's own terms (「…的，可申请」), which only the person can check."""
    return [Condition("申请条件", UNKNOWN, f"须符合：{s.text}", s) for s in card.conditions[:2]]


def follow_up(matches: Sequence[Match], profile: Profile) -> list[str]:
    """What to ask the person, most useful first: the unknowns shared by most measures."""
    answered = {
        "支持对象": bool(profile.identities or profile.firm),
        "领域": bool(profile.field),
        "地区": bool(profile.region),
        "吸纳就业": profile.hiring is not None,
    }
    counts: dict[str, int] = {}
    for m in matches:
        for c in m.unknown:
            if c.label in ASK and not answered[c.label]:
                counts[c.label] = counts.get(c.label, 0) + 1
    if not profile.identities and not profile.firm:
        counts["支持对象"] = counts.get("支持对象", 0) + len(matches) + 1
    return [ASK[label] for label, _ in sorted(counts.items(), key=lambda kv: -kv[1])]


FIELD_CHOICES = tuple(SECTORS)


MARK = {MET: "✓", NOT_MET: "✗", UNKNOWN: "？"}
HEAD = "根据您提供的情况"  # the answer's first line (the web chat shows it above the cards)
NOT_DIRECT = "知识库中没有直接回答这个问题的条文；以下是与您的情况可能相关的措施，仅供参考。"
FOLLOW_UP = "为进一步判断，请补充"  # a reply to an answer with this line adds to the same situation
SHOWN = 5  # measures spelled out in the answer text (the web chat shows every card)


def compose(
    matches: Sequence[Match], profile: Profile, known: Callable[[str], bool] = bool, first: Sequence[str] = ()
) -> tuple[str, list[str]]:
    """The answer text with [n] markers, and the chunk ids the markers point at (in order); a chunk `known` rejects
    gets no marker, so the numbers always match the citations. `first`: chunks already cited as [1], [2], … by the
    lines before this text (the clauses quoted for the question as asked)."""
    cited: list[str] = list(first)

    def marker(chunk_id: str) -> str:
        if not chunk_id or not known(chunk_id):
            return ""
        if chunk_id not in cited:
            cited.append(chunk_id)
        return f"[{cited.index(chunk_id) + 1}]"

    lines = []
    if not matches:
        lines.append(f"{HEAD}（{profile.describe()}），知识库中没有找到明确适用的支持措施。")
    else:
        lines.append(f"{HEAD}（{profile.describe()}），知识库中有 {len(matches)} 项措施可能适用（✓ 满足，？ 待确认）：")
    for n, m in enumerate(matches[:SHOWN], start=1):
        c = m.card
        number = f"（{c.doc_no}）" if c.doc_no else ""
        lines.append(f"{n}. {c.name}——《{c.title}》{number}{marker(c.chunk_id)}")
        facts = [
            "支持方式：" + "、".join(c.values("kinds")) if c.kinds else "",
            "额度：" + "、".join(dict.fromkeys(s.text for s in c.amounts)) if c.amounts else "",
            "比例：" + "、".join(dict.fromkeys(s.text for s in c.ratios)) if c.ratios else "",
            "负责部门：" + "、".join(c.values("departments")) if c.departments else "",
        ]
        if any(facts):
            lines.append("   " + "；".join(f for f in facts if f))
        for cond in m.conditions:
            cite = marker(cond.span.chunk_id) if cond.span is not None else ""
            lines.append(f"   {MARK[cond.state]} {cond.label}：{cond.detail}{cite}")
    if len(matches) > SHOWN:
        lines.append(f"另有 {len(matches) - SHOWN} 项措施，见下方卡片。")
    asks = follow_up(matches, profile)
    if asks:
        lines.append(FOLLOW_UP + "：" + "".join(f"{i}) {q}" for i, q in enumerate(asks, start=1)))
    if matches:
        lines.append("以上为文件中措施的要点，能否享受以当地主管部门审核为准。")
    return "\n".join(lines), cited
