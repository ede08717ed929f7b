"""kb/thresholds.py: the asker's own figure against the bands a clause sets, and the answer that follows it."""

from __future__ import annotations

import pytest

from kb import thresholds
from kb.answer import _band_note
from kb.config import Settings
from kb.query import normalise_question
from kb.service import KnowledgeBase

FEES = (
    "其中，对单户担保金额500万元及以下的小微企业和“三农”主体收取的担保费率原则上不超过1%，"
    "对单户担保金额500万元以上的小微企业和“三农”主体收取的担保费率原则上不超过1.5%。"
)


@pytest.mark.parametrize(
    ("question", "said"),
    [
        ("要是我贷款八百万，担保费最高能收到多少？", [(800.0, "万元", "800万")]),  # Chinese numerals read first
        ("我19岁，没考上大学，能领见习补贴吗？", [(19.0, "岁", "19岁")]),
        ("孩子两岁多了，能上托班吗？", [(2.5, "岁", "2岁多")]),
        ("公司有120名员工，能贷多少？", [(120.0, "人", "120名员工")]),
        ("孩子三岁半了，能上托班吗？", [(3.5, "岁", "3岁半")]),  # past 3: not 「3岁以下」
        ("公司有20个员工，能贷多少？", [(20.0, "人", "20个员工")]),
        ("贷5000元也要担保吗？", [(0.5, "万元", "5000元")]),
        # a band the asker sets, a ceiling asked about, years and counts of years are no figure of theirs
        ("我们要担保800万，比500万多，上限多少？", [(800.0, "万元", "800万")]),
        ("500万以下的单子再担保收多少？", []),
        ("个体户营业额不到10万，要交税吗？", []),
        ("创业担保贷款最高能贷15万吗？", []),
        ("到2027年普及率多少？干了3年能领吗？", []),
        # a band written with 元 or a headcount with 员工, ranges, grants, hires, ranks, 万人 and 万平方米
        ("500万元以下的单子再担保收多少？", []),
        ("公司30名员工以下能申请吗？", []),
        ("16至24岁的人能见习吗？我想贷10万-50万元", []),
        ("每人发3600块是真的吗？公司招了5个人，我考了第1名", []),
        ("县里10万人，厂房1万平方米", []),
    ],
)
def test_the_figures_an_asker_states_of_themselves(question, said):
    got = [(round(q.value, 4), q.measure, q.words) for q in thresholds.stated(normalise_question(question))]
    assert got == said


@pytest.mark.parametrize(
    ("text", "bands"),
    [
        (FEES, [("万元", None, 500.0), ("万元", 500.0, None)]),
        ("扩展至16—24岁失业青年", [("岁", 16.0, 24.0)]),
        ("招收2-3岁的幼儿", [("岁", 2.0, 3.0)]),
        ("3岁以下婴幼儿", [("岁", None, 3.0)]),
        ("（超过100人的企业达到15%）", [("人", 100.0, None)]),
        ("申请人年龄不超过35周岁的", [("岁", None, 35.0)]),  # 不超过 is no 超过
        ("不满3周岁的婴幼儿", [("岁", None, 3.0)]),
        ("对5000元—2万元的项目", [("万元", 0.5, 2.0)]),
        # ceilings on what is granted, rates and years set no band on the asker
        ("可申请最高不超过300万元的创业担保贷款", []),
        ("引导合作机构逐步将平均担保费率降至1%以下", []),
        ("额度在20万元以内；提高至30万元以内", []),
        ("给予1万元至3万元的一次性创业补贴", []),
        ("具有5年以上优秀培训业绩的机构", []),
    ],
)
def test_the_bands_a_clause_sets(text, bands):
    assert [(c.measure, c.low, c.high) for c in thresholds.conditions(text)] == bands


def test_a_figure_meets_the_band_it_falls_in_and_a_line_between_two_is_left_to_the_text():
    said = thresholds.stated("担保800万")
    assert [c.words for c in thresholds.met(said, FEES)] == ["500万元以上"]
    assert [c.words for c in thresholds.met(thresholds.stated("担保300万"), FEES)] == ["500万元及以下"]
    # on the line between two bands the text decides, not the figure; past a strict bound is outside it
    assert thresholds.met(thresholds.stated("担保500万"), FEES) == []
    assert thresholds.met(thresholds.stated("公司有100名员工"), "超过100人的企业") == []
    assert thresholds.met(thresholds.stated("孩子3周岁"), "不满3周岁的婴幼儿") == []
    assert thresholds.met(thresholds.stated("我40岁"), "申请人年龄不超过35周岁的") == []
    assert thresholds.met(thresholds.stated("我50岁，女儿20岁"), "16—24岁失业青年") == []  # whose age?
    # every band of a clause on the measure holds, or none is met
    youth = "年龄在16周岁以上、不超过35周岁的青年"
    assert thresholds.met(thresholds.stated("我40岁"), youth) == []
    assert [c.words for c in thresholds.met(thresholds.stated("我30岁"), youth)] == ["16周岁以上", "不超过35周岁"]
    # a sum against a band on what the question speaks of, not any sum
    assert thresholds.met(thresholds.stated("个体户，贷款5万，要交增值税吗"), "月销售额10万元以下的，免征增值税") == []
    # a headcount band is a firm's
    assert thresholds.met(thresholds.stated("我们村有120人"), "（超过100人的企业达到15%）") == []
    assert thresholds.met(thresholds.stated("我们厂有120人"), "（超过100人的企业达到15%）") != []


def test_the_note_names_the_whole_band_and_only_the_askers_own():
    youth = "年龄在16周岁以上、不超过35周岁的青年"
    assert _band_note("我30岁，能申请吗", [(1, youth, None)]) == [
        "按您说的30岁，适用所引条文中“16周岁以上、不超过35周岁”的规定[1]。"
    ]
    assert _band_note("担保800万", [(1, "鼓励创业", None), (2, FEES, None)]) == [
        "按您说的800万，适用所引条文中“500万元以上”的规定[2]。"
    ]
    assert _band_note("我40岁，能申请吗", [(1, youth, None)]) == []
    assert thresholds.met(thresholds.stated("我30岁"), "3岁以下婴幼儿") == []  # another measure's band: no fit
    assert thresholds.met(thresholds.stated("120人"), FEES) == []
    assert thresholds.met([], FEES) == []


@pytest.fixture(scope="module")
def kb(corpus_store: Settings) -> KnowledgeBase:
    return KnowledgeBase(corpus_store)


def test_an_asker_above_a_band_is_answered_from_their_band(kb: KnowledgeBase):
    """「贷款八百万」: the clause for 500万元以上 (1.5%) is quoted and named; before, the answer led with a subsidy for
    guarantees of 500万元及以下 and never quoted the 1.5% ceiling."""
    answer = kb.ask("要是我贷款八百万，找政府性担保机构，担保费最高能收到多少？", log_unanswered=False)
    assert answer.status == "answered"
    assert "原则上不超过1.5%" in answer.text
    assert "按您说的800万，适用所引条文中“500万元以上”的规定[" in answer.text


def test_an_age_inside_a_range_is_said_to_be_and_one_outside_is_left_unremarked(kb: KnowledgeBase):
    inside = kb.ask("我19岁，没考上大学，现在在家闲着没工作，能去单位见习领补贴吗？", log_unanswered=False)
    assert "16—24岁" in inside.text and "按您说的19岁，适用所引条文中“16—24岁”的规定[" in inside.text
    outside = kb.ask("我30岁，没考上大学，现在在家闲着没工作，能去单位见习领补贴吗？", log_unanswered=False)
    assert "按您说的" not in outside.text
