"""The learned passage ranker (kb/rank.py) on the real corpus index: shipped, fitted on training questions only,
re-orders without losing or inventing candidates, and leaves the gate the fused order to weigh."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from kb.config import Settings
from kb.errors import ConfigError
from kb.query import rewrite
from kb.rank import FEATURES, RANKER, RERANK, Ranker, candidate_features, load_ranker
from kb.retrieve import Retriever
from kb.service import KnowledgeBase


@pytest.fixture(scope="module")
def retriever(corpus_store: Settings) -> Retriever:
    return Retriever(corpus_store)


def test_the_shipped_ranker_is_fitted_on_training_questions_only():
    ranker = load_ranker()
    assert ranker is not None and ranker.names == FEATURES
    about = json.loads(RANKER.read_text(encoding="utf-8"))["about"]
    assert "train.jsonl" in about["fitted_on"] and "calibration" in about["fitted_on"]
    assert "test" not in about["fitted_on"] and "dev" not in about["fitted_on"]


def test_learned_is_the_default_and_fused_can_be_chosen(corpus_store: Settings):
    assert Settings().ranker == "learned"
    assert Retriever(corpus_store).ranker is not None
    assert Retriever(replace(corpus_store, ranker="fused")).ranker is None
    with pytest.raises(ConfigError, match="KB_RANKER"):
        Settings.from_env({"KB_RANKER": "magic"})


def test_a_damaged_ranker_file_keeps_the_fused_order(tmp_path: Path, caplog):
    bad = tmp_path / "ranker.json"
    bad.write_text('{"version": 1, "features": ["dense"]}', encoding="utf-8")
    assert load_ranker(bad) is None and "unusable" in caplog.text


def test_features_are_finite_and_say_what_they_measure(retriever: Retriever):
    query = rewrite("创业担保贷款最多能贷多少？")
    hits = retriever.candidates(query).hits[:RERANK]
    values = candidate_features(query.text, hits, retriever.store.lexical, spans=[retriever.span(h) for h in hits])
    assert len(values) == len(hits) and all(set(v) == set(FEATURES) for v in values)
    assert all(v == v and abs(v) < 1e6 for row in values for v in row.values())
    assert all(0.0 <= row[name] <= 1.0 for row in values for name in ("coverage", "idf_coverage", "bigrams", "title"))
    # the 300万元 / 15万元 clause holds the subject (创业担保贷款) and the kind of fact asked for (an amount)
    best = max(zip(hits, values, strict=True), key=lambda hv: hv[1]["idf_coverage"])
    assert best[1]["kind_match"] == 1.0 and "万元" in retriever.span(best[0])[0]


def test_the_kind_of_fact_is_read_as_kb_facts_reads_it(retriever: Retriever):
    """「担保费大概收多少」 asks a fee's rate: the clause with 担保费率…1% matches it, a clause with only a headcount
    share (25%) or a sum does not, although both hold a number."""
    query = rewrite("想贷点款，找政府性的担保公司担保300万，担保费大概收多少？")
    hits = retriever.candidates(query).hits[:RERANK]
    spans = [retriever.span(h) for h in hits]
    values = candidate_features(query.text, hits, retriever.store.lexical, spans=spans)
    by_text = {text: row for (text, _tokens), row in zip(spans, values, strict=True)}
    fee = [row for text, row in by_text.items() if "担保费率原则上不超过1%" in text]
    other = [row for text, row in by_text.items() if "担保费" not in text and "%" in text]
    assert fee and all(row["kind_match"] == 1.0 for row in fee)
    assert other and all(row["kind_match"] == 0.0 and row["kind_miss"] == 1.0 for row in other)


def test_a_passage_is_credited_with_the_form_of_a_word_it_has(retriever: Retriever):
    """反担保 is a rare word and 担保, a form of it, is in nearly every passage of 国办发〔2019〕6号: a passage that
    says only 担保 is credited with 担保's weight, not with 反担保's (it was credited in full)."""
    query = rewrite("反担保")
    hits = retriever.candidates(query).hits[:RERANK]
    spans = [retriever.span(h) for h in hits]
    values = candidate_features(query.text, hits, retriever.store.lexical, spans=spans)
    by_form = {"反担保": [], "担保": []}
    for (text, _tokens), row in zip(spans, values, strict=True):
        by_form["反担保" if "反担保" in text else "担保"].append(row["idf_coverage"])
    assert by_form["反担保"] and by_form["担保"]
    assert min(by_form["反担保"]) == 1.0 and 0.0 < max(by_form["担保"]) < 0.7


def test_reranking_keeps_every_candidate_and_the_fused_scores(retriever: Retriever):
    query = rewrite("我在托儿所当保育员，政府有没有安排我们这种人参加培训？")
    fused = retriever.candidates(query).hits
    assert retriever.ranker is not None
    ranked = retriever.ranker.rerank(query.text, fused, retriever.store.lexical)
    assert sorted(h.chunk.id for h in ranked) == sorted(h.chunk.id for h in fused)
    assert [h.score for h in ranked[:RERANK]] == sorted((h.score for h in fused[:RERANK]), reverse=True)


def test_a_model_that_prefers_coverage_puts_the_covering_passage_first(retriever: Retriever):
    names = FEATURES
    only_coverage = Ranker(names, (0.0,) * len(names), (1.0,) * len(names),
                           tuple(1.0 if n == "idf_coverage" else 0.0 for n in names), 0.0)  # fmt: skip
    query = rewrite("创业担保贷款 贴息")
    hits = retriever.candidates(query).hits
    ranked = only_coverage.rerank(query.text, hits, retriever.store.lexical)
    top = candidate_features(query.text, ranked[:1], retriever.store.lexical)[0]["idf_coverage"]
    assert top == max(v["idf_coverage"] for v in candidate_features(query.text, hits[:RERANK], retriever.store.lexical))


def test_the_gate_weighs_the_fused_order(corpus_store: Settings):
    learned, fused = KnowledgeBase(corpus_store), KnowledgeBase(replace(corpus_store, ranker="fused"))
    for question in ("托育机构有什么补贴？", "增值税税率是多少？"):
        q = rewrite(question)
        a, b = learned.retriever.retrieve(q, k=10), fused.retriever.retrieve(q, k=10)
        assert a.fused is not None and [h.chunk.id for h in a.fused] == [h.chunk.id for h in b.hits]
        assert learned.judge(q, a).features == fused.judge(q, b).features
