"""kb/validity.py and its use: statuses from the texts and status.yaml, 只看现行, notes in answers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from conftest import CIRCULAR_A, CIRCULAR_B, EXPIRED_DOC

from kb.config import Settings
from kb.ingest import ingest
from kb.retrieve import Filters
from kb.service import KnowledgeBase
from kb.validity import (
    AMENDED,
    EXPIRED,
    IN_FORCE,
    REPEALED,
    Validity,
    acts_on_others,
    assess,
    own_validity,
    parse_overrides,
    passed_windows,
)

TODAY = date(2026, 11, 28)
DOC_A, DOC_B = "国办发〔2024〕1号", "赣府发〔2023〕9号"
REPEALER = """国务院办公厅关于家政服务的新通知
国办发〔2025〕3号
各省、自治区、直辖市人民政府：
一、支持措施
对新招用家政服务人员的企业，每人给予800元一次性补贴。
二、其他
本通知自2025年3月1日起施行，《国务院办公厅关于做好家政服务提质扩容工作的通知》（国办发〔2024〕1号）同时废止。
国务院办公厅
2025年2月20日
"""


def test_a_validity_period_in_the_text_gives_expired_or_in_force() -> None:
    expired = own_validity(EXPIRED_DOC, "2020-02-06", "", TODAY)
    assert expired.status == EXPIRED and expired.until == "2020-12-31" and "有效期至2020年底" in expired.reason
    assert own_validity(EXPIRED_DOC, "2020-02-06", "", date(2020, 6, 1)).status == IN_FORCE
    one_year = "……\n本实施意见自印发之日起实施，有效期一年。\n某市人民政府\n2020年2月10日\n"
    assert own_validity(one_year, "2020-02-10", "", TODAY).until == "2021-02-10"
    months = "本政策自2020年2月6日起施行，施行期暂定为6个月。"
    assert own_validity(months, "", "", TODAY) == Validity(EXPIRED, "施行期暂定为6个月（2020-08-06已过）", "2020-08-06")
    event = own_validity("本通告自即日起施行，有效期至新型冠状病毒感染肺炎疫情解除。", "", "", TODAY)
    assert event.status == IN_FORCE and "请核实" in event.reason
    assert own_validity(CIRCULAR_A, "2024-01-05", "", TODAY) == Validity()


def test_repeals_and_amendments_are_read_from_the_other_documents() -> None:
    assert acts_on_others(REPEALER, "国办发〔2025〕3号")[0][:2] == (DOC_A, REPEALED)
    amend = "将《关于促进就业的意见》（国发〔2018〕39号）第三条中的“15万元”修改为“20万元”。"
    assert acts_on_others(amend, "国发〔2025〕1号")[0][:2] == ("国发〔2018〕39号", AMENDED)
    assert acts_on_others("依据国发〔2018〕39号文件，做好就业工作。", "") == []  # cited, not acted on
    assert acts_on_others("[废止日期] 国发〔2018〕39号", "") == []  # a repost's header field
    docs = {
        DOC_A: ({"doc_no": DOC_A, "title": "A"}, CIRCULAR_A),
        "国办发〔2025〕3号": ({"doc_no": "国办发〔2025〕3号", "title": "新通知"}, REPEALER),
    }
    result = assess(docs, {}, TODAY)
    assert result[DOC_A].status == REPEALED and "《新通知》" in result[DOC_A].reason
    assert result["国办发〔2025〕3号"].status == IN_FORCE


def test_status_yaml_overrides_and_bad_entries_are_skipped(caplog) -> None:
    overrides = parse_overrides(
        f"{DOC_A}: 现行\n{DOC_B}: {{status: 部分修订, note: 见2025年新规}}\nX: 作废\n", "s.yaml"
    )
    assert overrides[DOC_A].status == IN_FORCE and overrides[DOC_B] == Validity(AMENDED, "维护者标注：见2025年新规")
    assert "X" not in overrides and "s.yaml: X" in caplog.text
    assert parse_overrides("[not: a mapping", "s.yaml") == {}


def test_passed_windows_are_found_in_passages() -> None:
    text = "2019年1月1日至12月31日，对面临暂时性生产经营困难的企业……2025年1月1日至2027年12月31日，继续实施。"
    assert passed_windows(text, TODAY) == ["2019年1月1日至12月31日"]
    # A time-limited plan: its start and its duration give its last day.
    plans = "从2019年1月1日起，实施三年百万青年见习计划；自2024年7月1日起，开展为期6个月的专项行动。"
    assert passed_windows(plans, date(2021, 12, 31)) == []
    assert passed_windows(plans, date(2022, 1, 1)) == ["从2019年1月1日起，实施三年"]
    assert "自2024年7月1日起，开展为期6个月" in passed_windows(plans, date(2025, 1, 1))
    assert passed_windows("自2019年1月1日起，3年以上的企业", date(2030, 1, 1)) == []  # a length, not a duration


@pytest.mark.slow
def test_answers_say_when_their_document_is_no_longer_in_force(tmp_path: Path, embedder) -> None:
    src = tmp_path / "corpus"
    src.mkdir()
    (src / "a.txt").write_text(CIRCULAR_A, encoding="utf-8")
    (src / "b.md").write_text(CIRCULAR_B, encoding="utf-8")
    (src / "new.txt").write_text(REPEALER, encoding="utf-8")
    (src / "bj.txt").write_text(EXPIRED_DOC, encoding="utf-8")
    (src / "status.yaml").write_text(f"{DOC_B}: {{status: 部分修订, note: 托位补助标准已调整}}\n", encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data", corpus_dir=src)
    report = ingest([src], settings, embedder=embedder)
    assert report.ok and report.skipped == []  # status.yaml is not reported as an unsupported document
    kb = KnowledgeBase(settings, embedder=embedder)
    statuses = {doc_id: kb.retriever.validity_of(doc_id).status for doc_id in kb.retriever.manifest.docs}
    assert statuses == {DOC_A: REPEALED, DOC_B: AMENDED, "国办发〔2025〕3号": IN_FORCE, "京政办发〔2020〕7号": EXPIRED}

    answer = kb.ask("承租国有企业房产的中小微企业房租怎么减免？", log_unanswered=False)
    assert not answer.refused and answer.citations[0].chunk.doc_id == "京政办发〔2020〕7号"
    assert "注意：《北京市人民政府办公厅关于支持中小微企业的若干措施》（京政办发〔2020〕7号）已失效" in answer.text

    # 只看现行: the repealed and expired documents are left out of the lookup.
    everything = {h.chunk.doc_id for h in kb.search("家政服务人员 一次性补贴 房租")}
    current = {h.chunk.doc_id for h in kb.search("家政服务人员 一次性补贴 房租", filters=Filters(current_only=True))}
    assert {DOC_A, "京政办发〔2020〕7号"} <= everything
    assert current and not current & {DOC_A, "京政办发〔2020〕7号"}

    # Editing status.yaml alone is picked up by the next ingest and by a serving replica.
    (src / "status.yaml").write_text(f"{DOC_A}: 现行\n", encoding="utf-8")
    assert ingest([src], settings, embedder=embedder).ok
    kb.retriever.refresh(force=True)
    assert kb.retriever.validity_of(DOC_A).status == IN_FORCE
    assert kb.retriever.validity_of(DOC_B).status == IN_FORCE
