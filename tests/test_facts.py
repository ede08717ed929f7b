"""kb/facts.py: the kind of fact a question asks for, and whether a passage names a figure of that kind."""

from __future__ import annotations

import pytest

from kb import facts
from kb.answer import UNSPECIFIED_FIGURE, UNSPECIFIED_TIME, _unanswered_parts, document_facts
from kb.config import Settings
from kb.service import KnowledgeBase
from kb.types import DocMeta

LOAN = (
    "符合创业担保贷款申请条件的人员自主创业的，可申请最高不超过15万元的创业担保贷款。小微企业当年新招用符合条件的"
    "人员数量达到企业现有在职职工人数25%（超过100人的企业达到15%）并与其签订1年以上劳动合同的，可申请最高不超过"
    "300万元的创业担保贷款。"
)


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        ("创业担保贷款最多能贷多少？利息怎么算？", ("rate", "money")),
        ("就业困难人员参加培训的生活费补贴一天多少钱？", ("money",)),
        ("失业保险金最长能领多少个月？", ("duration",)),  # 多少个月 is a length of time, not a count or a sum
        ("产教融合型企业能按投资额的百分之几抵免教育费附加？", ("share",)),
        ("每个省打算扶持几家担保龙头公司？", ("count",)),
        ("这次示范工作重点支持哪几个服务领域？", ()),  # 哪几个 asks for a list
        ("这个示范工作的通知是什么时候印发的？", ("date",)),
        ("示范项目什么时候截止申报？", ("deadline", "date")),  # a deadline: a signing date does not answer it
        ("托育机构每个孩子室内面积要多少平方米？", ("area",)),
        ("保育员和孩子按几比几配？", ("share",)),
        ("有多少平台入选？", ()),  # 平台 is no area
        ("1+X证书考试在哪个网站报名？", ("contact",)),
        ("截至2月17日共收治多少名患者？", ("count",)),  # 截至 states a date, it does not ask for a deadline
        ("截止日期前提交的材料怎么审核？", ()),  # nor does 截止日期 without an asking word
        ("贷款期限是几年？", ("duration",)),  # a length of time, not a deadline
        ("就业见习计划补贴多少，怎么申请？", ("money",)),  # 见习计划 is a noun, not a plan stated
        ("我想问补贴多少，在哪领？", ("money", "office")),  # 想问 asks
        ("担保费率一般是多少？", ("fee",)),  # a fee, not an interest rate
        ("增值税税率是多少？", ("tax",)),
        ("文件有没有在政府网站上公开？", ()),
        # English questions ask in English
        ("Is there a hotline number I can call about childcare?", ("contact",)),
        ("What is the maximum start-up loan for an individual entrepreneur?", ("money",)),
        ("How long can I receive unemployment benefits?", ("duration",)),
        ("What is the interest rate of the loan?", ("rate",)),
        ("Does the notice say anything about AI?", ()),
        ("多大年纪以下的失业青年可以参加见习？", ("age",)),
        ("怎么申请创业担保贷款？", ()),
        # nouns that only look like asking (from the review): no kind, so no note
        ("超过法定退休年龄的人员能否享受补贴？", ()),
        ("贴息资金怎么申请？", ()),
        ("近几年国家出台了哪些就业政策？", ()),
        ("几年级的学生能领补贴？", ()),
        ("这几个文件有什么区别？", ()),
        ("利率能降几个百分点？", ("share",)),  # points are a share, not a count
        ("带动多少万人就业？", ("count",)),  # 万人 are people, not a sum
        ("多少个工作日办结？", ("duration",)),
        ("年满几周岁可以申请？", ("age",)),
        # 几 / 多少 in a yes/no clause or in a plan stated before the question mean "a few" / "some"
        ("我想招几个合伙人，可以申请贷款吗？", ()),
        ("能多招几个人吗？", ()),
        ("顺便招几个一起干的合伙人行不行？", ()),  # an A-not-A question is a yes/no question too
        ("我打算开个店，能贷多少？", ("money",)),
        ("我计划什么时候申请比较好？", ("date",)),  # the plan is the question itself
        ("能告诉我补贴多少吗？", ("money",)),  # asks to be told
        ("在杭州住了好几年了，能在杭州办失业登记吗？", ()),  # 好几年: a few years, not how long
        ("补贴几千块？", ("money",)),
        # the papers to bring and the office to go to
        ("去卫健部门备案的时候要交哪些材料？", ("materials",)),
        ("执照去哪办？", ("office",)),
        ("执照登记得去哪个部门跑？", ("office",)),
        ("政务服务大厅地址在哪？", ("office",)),
        ("哪些材料可以容缺后补？", ("materials",)),
        ("小饭馆的增值税要交几个点？", ("tax",)),  # a tax rate asked without its word (a rate, not a share besides)
        ("企业所得税能降到多少？", ("tax",)),
        ("个税起征点降到多少？", ()),  # a threshold, not a rate: 税 inside 个税
        ("个体户要交什么税？", ()),  # not papers to bring
        ("需要提供什么条件？", ()),
        ("申请需要带什么？", ("materials",)),
        # a sum refunded, waived or required: a share of one answers too (「可返还…的50%」)
        ("学费国家能给报多少？", ("sum",)),
        ("失业保险能退回来一些吗？能退多少？", ("sum",)),
        ("注册资本最低要多少？", ("sum",)),
        ("生均拨款是多少钱一年？", ("money",)),  # a sum of money, not a sum or a share besides
        ("担保费大概收多少？", ("fee",)),  # 担保费 is a fee's rate (保费 inside it is no sum asked)
        # how a sum is set is asked, not the sum: 「补助标准根据…确定」 answers
        ("政府会给临时补助吗？补多少是怎么定的？", ()),
        ("给多少咋算？", ()),
        # a platform, held when a passage names one
        ("育儿补贴在哪个APP上申请？", ("platform",)),
        ("是在哪个网上平台提交？", ("platform",)),
        ("佛山依托什么平台开通企业融资快线？", ("platform",)),
        # a plan stated with its subject left out: 「想给几个技术骨干发期权」 asks no count; 准备 prepares, 几万 asks
        ("我是做大模型创业的，想给几个技术骨干发期权把人留住，国家支持吗？", ()),
        ("准备哪些材料？去哪里办？", ("materials", "office")),
        ("想贷款的话最多贷几万，利息多少？", ("rate", "money")),
        # the review's cases: 省 of a province, a count or a length is no sum; 报销 and 减多少税 are
        ("全省多少企业享受了？", ()),
        ("社保覆盖多少家企业？", ("count",)),
        ("社保缴费满多少月能领？", ()),
        ("考驾照能报销多少？", ("sum",)),
        ("能减多少税？", ("sum",)),
        ("能退多少比例？", ("share",)),  # a share, not a sum or a share besides
        # how a rate is worked out is asked as a rate; how a sum is set, as no figure
        ("创业担保贷款利息多少怎么算？", ("rate",)),
        ("补多少是按什么定的？", ()),
    ],
)
def test_the_kinds_a_question_asks_for(question, kinds):
    assert facts.asked(question) == kinds


def test_a_deadline_is_a_date_that_ends_something():
    assert not facts.holds("国家发展改革委办公厅 2020年3月26日", "deadline")  # the signing date
    assert not facts.holds("2020年起在全省范围内推行", "deadline")  # 范围内 is no period
    assert facts.holds("到2020年末，各设区市建成1-2个示范机构", "deadline")
    assert facts.holds("自受理之日起20个工作日内办结", "deadline")


def test_a_figure_counts_only_for_its_own_kind():
    assert facts.holds(LOAN, "money") and not facts.holds(LOAN, "rate")  # 25% of the staff is not an interest rate
    assert facts.holds("贷款利率可在贷款市场报价利率基础上上浮3个百分点。", "rate")
    assert facts.holds("担保费率原则上不超过1.5%。", "fee") and not facts.holds("担保费率原则上不超过1.5%。", "rate")
    assert not facts.holds("从2019年1月1日起实施。", "duration")  # a date is not a length of time
    assert facts.holds("从2019年1月1日起实施。", "date")
    assert facts.holds("组织失业青年参加3—12个月的就业见习。", "duration")
    assert not facts.holds("带动就业1万人。", "money") and facts.holds("带动就业1万人。", "count")
    assert facts.missing("创业担保贷款最多能贷多少？利息怎么算？", LOAN) == ("rate",)
    assert not facts.holds("享受贴息政策的小微企业，新招用人员达到职工总数25%", "rate")  # a rate stays in its clause
    assert not facts.holds("年满16周岁", "duration") and not facts.holds("上半年", "duration")
    assert not facts.holds("带动1万余人就业", "money") and not facts.holds("高职百万扩招", "money")
    assert facts.holds("最高15万，", "money") and facts.holds("提高两倍", "share")
    assert not facts.holds("一次性发放", "count") and facts.holds("建设50所", "count")
    assert facts.holds("每个省原则上只保留一家省级担保机构", "count")  # 一家 counts, 一个 does not
    assert not facts.holds("每人每年补贴2000元", "date")  # how often is not when
    # a rate per head is a ratio (「按多少比例配托位」); how often, or one each, is not
    assert facts.holds("按照每千人口不少于10个托位规划", "share") and not facts.holds("每十个工作日报送1次", "share")


def test_a_sum_is_held_as_money_or_as_a_share():
    assert facts.holds("可返还其上年度实际缴纳失业保险费的50%", "sum")
    assert facts.holds("每人每年补贴2000元", "sum")
    assert not facts.holds("按规定给予补贴。", "sum")


def test_a_platform_is_held_when_a_passage_names_one():
    assert facts.holds("依托“粤商通”平台开通企业融资快线", "platform")
    assert facts.holds("通过投资项目在线审批监管平台办理", "platform")
    assert not facts.holds("利用传统媒体以及微博、短视频等新媒体和互联网的优势", "platform")
    assert facts.holds("上海城管部推广“城管通”", "platform")
    assert not facts.holds("深入推进“放管服”改革", "platform") and not facts.holds("加强平台经济监管", "platform")


def test_papers_and_offices_count_only_when_named():
    assert facts.holds("申请人应提交身份证复印件和营业执照。", "materials")
    assert not facts.holds("对托育机构给予一定补贴。", "materials")
    assert facts.holds("可在参保地申请技术技能提升补贴。", "office")
    assert facts.holds("向所在地卫生健康部门备案。", "office")
    assert not facts.holds("各地卫生健康部门要加强监管。", "office")  # a department named, not as where to go
    assert not facts.is_figure("office") and facts.is_figure("money")


def test_a_document_facts_answer_states_the_dates_asked_for():
    """The gate checks a 文号 / issuer / date question against what its answer states (the document's title, 文号,
    issuer and dates), not against the passage found: 「什么时候签发的，哪天发布的」 is answered by the dates."""
    title = "国务院关于深入实施“人工智能+”行动的意见"
    meta = DocMeta("d", title, "国发〔2025〕11号", "国务院", "2025-08-21", "2025-08-26")
    stated = document_facts(meta)
    assert "2025年8月21日" in stated and "国发〔2025〕11号" in stated
    assert facts.missing("国务院关于AI+的那份文件是什么时候签发的，网上哪天发布的？", stated) == ()
    assert facts.missing("是什么时候签发的？", document_facts(DocMeta("d", "某通知"))) == ("date",)


def test_the_answer_names_the_figure_no_quote_gives():
    assert _unanswered_parts("创业担保贷款最多能贷多少？利息怎么算？", [LOAN]) == ["所引条文未规定具体利率。"]
    assert _unanswered_parts("示范项目什么时候截止申报？", ["鼓励地方给予支持。"]) == [UNSPECIFIED_TIME]
    assert _unanswered_parts("个人最多能贷多少？", [LOAN]) == []
    # a sum and a date asked together: both are said to be missing
    monthly = ["按月发放至个人账户。"]
    assert _unanswered_parts("每月补多少，几号发？", monthly) == ["所引条文未规定具体金额。", UNSPECIFIED_TIME]
    assert _unanswered_parts("每月多少，几号发？", monthly) == [UNSPECIFIED_FIGURE, UNSPECIFIED_TIME]
    assert _unanswered_parts("备案要交哪些材料？", ["托育机构应当及时备案。"]) == ["所引条文未规定具体申请材料。"]
    # an office asked with an untyped figure: both said; 到哪个部门 asks no time
    assert _unanswered_parts("最高多少？去哪办？", ["鼓励地方给予支持。"]) == [
        "所引条文未规定具体办理地点。",
        UNSPECIFIED_FIGURE,
    ]
    assert _unanswered_parts("到哪个部门办？", ["鼓励地方给予支持。"]) == ["所引条文未规定具体办理地点。"]


@pytest.fixture(scope="module")
def kb(corpus_store: Settings) -> KnowledgeBase:
    return KnowledgeBase(corpus_store)


def test_a_loan_question_says_the_texts_give_no_interest_rate(kb: KnowledgeBase):
    """The issue's example: both ceilings are quoted, and the answer says plainly that no rate is set."""
    answer = kb.ask("创业担保贷款最多能贷多少？利息怎么算？", log_unanswered=False)
    assert answer.status == "answered"
    assert "15万元" in answer.text and "300万元" in answer.text
    assert "所引条文未规定具体利率。" in answer.text


def test_a_grants_conditions_are_no_figure_of_its_size():
    from kb.facts import without_conditions

    clause = "有条件的地方可对单户担保金额500万元及以下、平均担保费率不超过1%的担保业务给予适当担保费补贴"
    assert not facts.holds(without_conditions(clause, "担保费能补贴几个点？"), "share")
    assert facts.holds(without_conditions(clause, "担保费率不超过多少的业务能有补贴？"), "share")  # whom it is for
    loan = "对符合条件的人员给予最高15万元的贷款"
    assert facts.holds(without_conditions(loan, "能给贷多少？"), "money")


def test_how_old_a_child_may_be_is_asked_as_an_age():
    assert facts.asked("幼儿园开托班可以收多大的孩子？") == ("age",)
