"""The kind of fact a question asks for — a sum of money, a share, a length of time, a count, an age, a date — and
whether a text holds one.

「利率是多少」 is not answered by a passage that names 15万元, nor 「最长能贷几年」 by one that only names amounts:
the gate (kb/judge.py) weighs whether the best passages hold every kind asked for, and the answer says which
asked kind no quote gives (kb/answer.py). Each kind is one pattern for the asking and one for a figure of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CN = "一二三四五六七八九十百千万两半"
_NUM = rf"(?<![\d.])\d+(?:\.\d+)?|[{_CN}]+"


@dataclass(frozen=True)
class Kind:
    """One kind of fact: how a question asks for it, and how a passage states a figure of it."""

    name: str
    label: str  # how an answer names it: 「所引条文未规定具体{label}。」
    asked: re.Pattern[str]
    held: re.Pattern[str]
    asked_in_english: re.Pattern[str] | None = None  # the same asking in an English question
    figure: bool = True  # a number or a date (an answer leads with it); False for materials and places


def _english(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![a-z])(?:{pattern})", re.I)


_SHARE = rf"(?:{_NUM})\s*(?:%|％|个百分点)|百分之[{_CN}\d]+|LPR|基点|基准利率"
_POINTS = r"百分点|基点|点"  # 「几个百分点」 asks for a share, not a count
_NOT_A_SUM = r"个|年|天|岁|人|家|次|名|所|项|月|利率"  # 「多少家企业」「满多少月」 count or last, they are no sum
# a sum names its currency, or is a bare 万/亿 ending its phrase (「最高15万」); 10万人, 5万辆 are not sums
_MONEY_HELD = rf"(?:{_NUM})\s*(?:[万亿千]?元|[万亿](?=[，。；、）)\s]|$))"
_ASKING_RATE = r"(?:是|为|按|怎么算|如何计算|怎么计算|多少|多高|几)"


def _rate(name: str, label: str, words: str, asked_more: str, english: str) -> Kind:
    """A rate of one family — interest, a fee, a tax: 「利率是多少」 is not answered by a guarantee fee's 1.5%. It is
    asked as its word with an asking word (「贴息资金怎么申请」 asks none), and stated beside its word, within a clause
    (a 25% headcount share is not the loan's interest)."""
    return Kind(
        name,
        label,
        re.compile(rf"(?:{words})(?:{_ASKING_RATE}|[^，。？?]{{0,4}}?(?:多少|多高|几个点|怎么算))|{asked_more}"),
        re.compile(rf"(?:{words})[^。；，]{{0,24}}?(?:{_SHARE})|(?:{_SHARE})[^。；，]{{0,12}}?(?:{words})"),
        _english(english),
    )


KINDS = (
    _rate(
        "rate",
        "利率",
        "利率|利息|贴息|息差|年化",
        "多少(?:利息|利率)|贴多少息",
        "interest rate|what rate|rate of interest|how much interest",
    ),
    _rate(
        "fee",
        "费率",
        "费率|担保费|手续费",
        "(?:担保费|手续费)(?:收|交)多少",
        "fee rate|guarantee fee|how much (?:is the )?fee",
    ),
    _rate(
        "tax",
        "税率",
        "税率|征收率",
        # 「增值税要交几个点」「所得税能降到多少」 ask a rate without its word
        r"(?:交|缴|征)多少税|税(?:要)?交多少"
        r"|(?<![个免])税(?:要|能|可以|会|得)?(?:交|缴|按)?(?:几个点|多少个点|百分之几|(?:降|减)(?:到|至)多少)",
        "tax rate|how much tax",
    ),
    Kind(
        "share",
        "比例",
        re.compile(rf"百分之几|百分比|几成|比例|比率|占比|几个(?:{_POINTS})|多少个(?:{_POINTS})|几倍|多少倍|几比几"),
        re.compile(
            rf"(?:{_NUM})\s*(?:%|％|个百分点)|百分之[{_CN}\d]+|[{_CN}]成(?!立|果|效|本|熟|员)|(?:\d+(?:\.\d+)?|[{_CN}]+)倍"
            r"|\d+\s*[:：比]\s*\d+"  # 「1:5」「1比3」
            r"|每[十百千万](?:人口?|名|户)[^，,。；;]{0,8}?\d"  # a rate per head: 「每千人口不少于10个托位」
        ),
        _english(r"what (?:percentage|percent|share|proportion|ratio)|how many percent"),
    ),
    Kind(
        "area",
        "面积",
        re.compile(
            r"(?:多少|几)平(?:方|米|$|(?=[？?，,。的]))|多大面积|面积(?:是|要|有|达到|不少于)?多(?:大|少)|多少亩|几亩|多少公顷"
        ),
        re.compile(r"(?<![\d.])\d+(?:\.\d+)?\s*(?:平方米|平米|平方公里|㎡|亩|公顷)"),
        _english(r"square met|how big|what area|how large an area"),
    ),
    Kind(
        "money",
        "金额",
        re.compile(
            r"多少钱|几块钱|多少元|几元|多少万(?!人|名|户|家|个)|几万(?!人|名|户|家|个)|多少亿|"
            r"[补贴奖扣贷借给拿领发]多少(?!个|年|天|岁|人|家|次|名|所|项)|[补贴奖扣贷借给拿领发]了?几[万千百]|几[千百]块|"
            r"补贴标准|额度|金额|资金多少|多少补贴|多少资金|(?:奖励|工资|费用|学费)多少"
        ),
        re.compile(_MONEY_HELD),
        _english(r"how much(?! time| interest| of)|what amount|maximum [\w -]{0,20}?(?:loan|amount|subsid|grant)"),
    ),
    Kind(
        # 「学费能给报多少」「能退多少」「注册资本最低要多少」: a sum, or a share of one (退50%),
        # refunded, waived or required
        "sum",
        "金额或比例",
        re.compile(
            rf"(?:[减免退付赔]|报销?|(?<![全本各该外])省)多少(?!{_NOT_A_SUM})"
            rf"|(?:资本|本金|成本|租金|房租|押金|学费|经费|拨款|奖金|津贴|工资|社保费?)[^，。？?]{{0,6}}?多少(?!{_NOT_A_SUM})"
        ),
        re.compile(rf"{_MONEY_HELD}|{_SHARE}"),
    ),
    Kind(
        "duration",
        "期限",
        re.compile(
            r"(?<![近这那前头])几年(?!级)|多少年|多久|多长时间|多长期限|几个月|多少个月|多少天|几天|几日内|"
            r"几个工作日|多少个工作日|多少小时|期限多长|期限是多少|年限"
        ),
        re.compile(
            rf"(?<![\d月上下第])(?:\d{{1,3}}|[{_CN}]+)\s*(?:年(?!级)|个月|个工作日|日|天|周(?!岁)|小时)(?!\d)"
            r"|长期|永久|日内|年内|个月内"
        ),
        _english(r"how long|how many (?:years|months|days|working days|hours)"),
    ),
    Kind(
        "count",
        "数量",
        re.compile(
            rf"多少个(?!月|工作日|小时|{_POINTS})|(?<![哪这那])几个(?!月|工作日|小时|{_POINTS})|多少家|(?<![哪这那])几家|"
            r"多少人|多少名|几名|几所|多少所|多少项|(?<![哪这那])几项|多少张|多少次|多少万(?:人|名|户|家|个)"
        ),
        # a counted figure; 一 alone counts only with a unit that counts (「一家」「一所」), not 「一个」「一次性」
        re.compile(
            rf"(?:\d+(?:\.\d+)?|[{_CN}]{{2,}}|[二三四五六七八九十两])\s*(?:个|家|人|名|所|项|张|次(?!性)|台|套|户|万人|万个|万名)"
            r"|(?<![统唯])一(?:家|所|名|项|张|台|套|户)"
        ),
        _english(r"how many(?! years| months| days| working days| hours| percent)"),
    ),
    Kind(
        "age",
        "年龄",
        re.compile(
            r"多大年纪|多大岁数|几周?岁|多少周?岁|年龄(?:是|要|有什么|多大|多少|限制|要求|上限|下限|范围)"
            r"|多大的?(?:孩子|娃|小孩|宝宝|婴幼儿|幼儿|儿童|人)"  # 「托班可以收多大的孩子」
        ),
        re.compile(rf"(?:{_NUM})\s*(?:周岁|岁)"),
        _english(r"how old|what age|age limit"),
    ),
    Kind(
        "deadline",  # a date or a period that ends something: 「2020年底前」「30个工作日内」, not a signing date
        "截止时间或期限",
        # asked, not stated: 「截至2月17日共收治多少名」 asks a count as of a date
        re.compile(
            r"(?:什么时候|哪天|几号|何时|啥时候|哪一天)[^，。？?]{0,6}?(?:截止|结束|到期)"
            r"|(?:截止|到期)(?:日期|时间)?(?:到|于|是|在)?(?:什么时候|哪天|几号|何时|哪一天)"
            r"|(?:最晚|最迟)[^，。？?]{0,6}?(?:什么时候|哪天|几号|何时|哪一天)"
            r"|(?:什么时候|哪天|几号|何时)(?:之?前|以前|为止)|到什么时候"
        ),
        re.compile(
            r"(?:\d{4}\s*年|\d{1,2}\s*月|年底|年末|月底|[上中下]旬|\d+\s*(?:个工作日|日|天|个月))[^。；，]{0,8}?"
            r"(?:前|以前|之前|为止|止)|\d+\s*(?:个工作日|日|天|个月|年)(?:以)?内"  # 「20个工作日内」, not 「范围内」
            r"|(?:截止|截至|不迟于|不晚于)[^。；]{0,6}?(?:\d{4}\s*年|\d{1,2}\s*月)"
            r"|(?:到|至)\s*(?:\d{4}\s*年|\d{1,2}\s*月)"  # 「到2027年」「1月1日至12月31日」
        ),
        _english(r"deadline|by when|no later than|until when"),
    ),
    Kind(
        "date",
        "时间",
        re.compile(r"什么时候|什么时间|何时|哪天|哪一?年|哪个月|几月份|几号|几月几|到哪一?天|啥时候"),
        re.compile(r"\d{4}\s*年|\d{1,2}\s*月|[上中下]旬|年底|年前|年末|之日起|日内|个工作日"),
        _english(r"when\b|what date|which year|what year"),
    ),
    Kind(
        "contact",  # documents seldom print one: 「热线电话是多少」「在哪个网站下载」
        "联系方式或网址",
        re.compile(
            r"(?:电话|热线|网址|网站|官网|邮箱)(?:号码)?(?:是|为)?(?:多少|什么|在哪|哪个)|(?:哪个|什么)(?:网站|网址|官网|电话|热线)"
            r"|(?:在哪|去哪|哪里)(?:个网站)?(?:下载|查询|报名)|(?:打|拨)(?:什么|哪个)电话|联系方式"
        ),
        re.compile(r"\d{3,4}-\d{7,8}|(?<!\d)1[3-9]\d{9}(?!\d)|(?<!\d)12\d{3}(?!\d)|https?://|www\.|\.gov\.cn|@"),
        _english(r"phone|hotline|website|url|web ?site|download|e-?mail|contact number"),
    ),
)
# 「在哪个APP上申请」「依托什么平台开通」: a platform, held where a passage names one — a quoted name with a platform's
# suffix or ending in 通 (“粤商通”平台, “城管通”), or a platform of some service (在线审批监管平台); 「平台经济」 and a
# quoted slogan (“放管服”) are none
_PLATFORM = r"[Aa][Pp][Pp]|网上平台|平台|小程序|公众号"
_PLATFORM_NAMED = (
    r"[“\"][^”\"]{2,16}[”\"]\s*(?:[Aa][Pp][Pp]|平台|小程序|公众号|客户端)|[“\"][^”\"]{1,8}通[”\"]"
    r"|[A-Za-z\u4e00-\u9fff]{2,12}(?:服务|信息|网上|审批|监管|政务|公共|办事|综合|管理|数据|交易|融资|对接)平台"
    r"|[A-Za-z\u4e00-\u9fff]{2,12}(?:[Aa][Pp][Pp]|小程序|公众号|客户端)"
)
KINDS += (
    Kind(
        "platform",
        "平台",
        re.compile(rf"(?:哪个|什么|啥)(?:{_PLATFORM})"),
        re.compile(_PLATFORM_NAMED),
        _english(r"which (?:app|platform)|what (?:app|platform)"),
        figure=False,
    ),
)
# Hotline questions ask for the papers to bring and the office to go to; circulars seldom list either (a website
# or a phone number is a contact, above). Held loosely: any paper named, any office named as where to apply.
_OFFICE = r"部门|机关|机构|大厅|窗口|中心|网站|平台|所在地|户籍地|常住地|经营地|参保地|政府|街道|社区"
KINDS += (
    Kind(
        "materials",
        "申请材料",
        re.compile(
            r"(?:什么|哪些|啥|哪几样|几样)(?:材料|资料|证件|证明|手续材料)|材料(?:有哪些|是什么|要哪些|清单)"
            # 「要带什么？」, not 「要交什么税」「需要提供什么条件」
            r"|(?:要|得|需要)(?:带|准备|提交|提供|交)(?:什么|哪些|啥)(?=[？?。，,！!]|$)"
        ),
        re.compile(r"材料|资料|证件|证明|身份证|营业执照|申请表|复印件|申报书|清单"),
        _english(r"what (?:documents|papers|materials)|which (?:documents|papers)|documents (?:do|are) (?:i|we) need"),
        figure=False,
    ),
    Kind(
        "office",
        "办理地点",
        re.compile(
            r"(?:去|到|在)(?:哪|哪里|哪儿|什么地方|哪个(?:地方|大厅|窗口))(?:办|交|申请|登记|备案|报名|领|缴|注册|跑)"
            r"|(?:地址|地点)(?:在哪|是哪|是什么)|哪个(?:大厅|窗口)|(?:去|到)哪个部门"
        ),
        re.compile(
            rf"(?:向|到|在|由|赴)[^，。；]{{0,14}}?(?:{_OFFICE})[^。；]{{0,10}}?"
            r"(?:办理|申请|登记|备案|注册|申领|提出|报送|缴纳|领取|受理|申报|提交)"
            r"|网上办|线上办|一网通办|政务服务|办事大厅|服务窗口|登记机关|地址"
        ),
        _english(r"where (?:do|can|should) (?:i|we) (?:apply|go|register|file|submit)|which office"),
        figure=False,
    ),
)
_BY_NAME = {k.name: k for k in KINDS}


_CLAUSE = re.compile(r"[，。？！；,.?!;\n]+")
# An A-not-A question (能不能, 行不行, 可不可以, 有没有); group 1 holds the verb when it is repeated
A_NOT_A = re.compile(r"可不可以|可以不可以|有没有|(可以|[能会是要用算行有])不\1")
# A yes/no question — 「能招几个人吗」, 「招几个合伙人行不行」 — its 几 means "a few"
_YES_NO = re.compile(rf"[吗嘛]\s*$|{A_NOT_A.pattern}|是否|能否")
# 「我打算招几个人，…」 states a plan before asking (a person plans; 见习计划, 风险准备金 are nouns)
_INTENDS = re.compile(r"(?:我|我们|咱们?|本人|自己|公司|单位|厂里)[^，。]{0,3}?(?:想|打算|准备|计划)")
# A plan stated with its subject left out (「想给几个技术骨干发期权…」): its 几 means "a few", not 「几万」 asked
_PLANS_A_FEW = re.compile(r"^(?:想|打算)[^，。]*?几(?![万千百块元])")
_A_FEW = re.compile(r"好几|十几|几十")  # 「住了好几年」「几十家企业」: a few, not how many
# 「补多少是怎么定的」「给多少咋算」 ask how a sum is set (「标准根据…确定」 answers), not for the sum
_HOW_SET = re.compile(
    r"[补给奖发退报领拿]多少[^，。？?]{0,3}?(?:(?:怎么|咋|如何|怎样)(?:定|算|确定|计算|核定)|(?:按|根据|依据)什么)"
)
_KNOWING = re.compile(r"知道|清楚|了解|告诉|问问|问一下|想问|请问|查|说说|说一下")  # 「能告诉我补贴多少吗」 does ask


def _indefinite(clause: str, last: bool) -> bool:
    """Whether the asking words of `clause` are indefinite: in a yes/no clause, or in a plan stated before the
    question (「我打算招几个人，…」), 几 / 多少 / 什么时候 mean "a few" / "some" / "some time" — unless the clause
    asks to be told (「你知道截止到什么时候吗」)."""
    if _KNOWING.search(clause):
        return False
    return bool(_YES_NO.search(clause) or (not last and (_INTENDS.search(clause) or _PLANS_A_FEW.search(clause))))


def asked(question: str) -> tuple[str, ...]:
    """The kinds of fact `question` asks for, in KINDS order (none for 「怎么申请」 or 「有哪些支持」, nor for the
    indefinite 几 of 「我想招几个人，能贷款吗」)."""
    parts = [_HOW_SET.sub("", _A_FEW.sub("", c)) for c in _CLAUSE.split(question) if c.strip()]
    clauses = [c for i, c in enumerate(parts) if not _indefinite(c, i == len(parts) - 1)]
    found = tuple(
        k.name
        for k in KINDS
        if any(k.asked.search(c) or (k.asked_in_english and k.asked_in_english.search(c)) for c in clauses)
    )
    if {"rate", "fee", "tax"} & set(found):  # 「增值税要交几个点」 asks a tax rate, not a share besides
        found = tuple(k for k in found if k != "share")
    if {"money", "share"} & set(found):  # 「拨款是多少钱」「能退多少比例」: a sum of money, or a share, not both
        found = tuple(k for k in found if k != "sum")
    return found


# What a grant is given to, when that is set by figures: 「对单户担保金额500万元及以下、平均担保费率不超过1%的担保
# 业务给予适当担保费补贴」 names no sum nor rate of the subsidy — 500万元 and 1% say which business earns one.
_CONDITION = re.compile(r"对[^，。；;]{0,60}?的(?=[^，。；;]{0,30}?(?:给予|予以|实行|提供|发放|奖励|奖补|补贴|补助))")


# A question on the size of what is granted (「补多少」「能给补贴几个点」「奖补标准」), not on whom it is for
# (「担保金额多少以下能享受」「多大年纪能领」: there the condition's figure is the answer).
_ASKS_GRANTED = re.compile(
    r"[补贴给奖发返退][^，。？?]{0,3}?(?:多少|几个点|百分之几|几成|几[万千百])|(?:补贴|补助|奖补|奖励|资助)(?:标准|额度|金额)"
)


def without_conditions(text: str, question: str) -> str:
    """`text` without the figures that only say whom a grant goes to (an 「对…的」 phrase before 给予 / 补贴 …), when
    `question` asks the size of what is granted; else `text`."""
    if not _ASKS_GRANTED.search(question):
        return text
    return _CONDITION.sub(lambda m: re.sub(r"\d", "", m.group(0)), text)


def holds(text: str, kind: str) -> bool:
    """Whether `text` names a figure of `kind`."""
    return bool(_BY_NAME[kind].held.search(text))


def missing(question: str, text: str) -> tuple[str, ...]:
    """The kinds `question` asks for that `text` names no figure of."""
    return tuple(k for k in asked(question) if not holds(text, k))


def is_figure(kind: str) -> bool:
    """Whether `kind` is a number or a date (not the papers to bring or the office to go to)."""
    return _BY_NAME[kind].figure


def label(kind: str) -> str:
    """How an answer names a kind: 「所引条文未规定具体{label}。」"""
    return _BY_NAME[kind].label
