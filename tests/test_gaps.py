"""kb/gaps.py and `python ingest.py --gaps`: refused and 👎 questions grouped by topic for maintainers."""

from __future__ import annotations

import json
from pathlib import Path

from kb.gaps import find_gaps


def write_lines(path: Path, rows: list[dict | str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8"
    )


def refused(question: str, reason: str = "weak evidence") -> dict:
    return {"time": "2026-11-28T10:00:00+00:00", "question": question, "reason": reason, "closest": []}


def feedback(question: str, rating: str) -> dict:
    return {"time": "2026-11-28T11:00:00+00:00", "rating": rating, "question": question, "answer": "…"}


def test_refused_and_disliked_questions_are_grouped_by_topic_across_replicas(tmp_path: Path) -> None:
    one, two = tmp_path / "bot1", tmp_path / "bot2"
    write_lines(
        one / "unanswered.jsonl",
        [
            refused("跨境电商出口退税怎么办理？"),
            refused("出口退税要多久到账？"),
            refused("今天天气怎么样", "off-topic"),
        ],
    )
    write_lines(two / "unanswered.jsonl", [refused("外贸企业出口退税有什么新政策？"), "{not json"])
    write_lines(
        two / "feedback.jsonl",
        [feedback("高新技术企业认定需要什么条件？", "down"), feedback("家政补贴多少？", "up")],
    )
    report = find_gaps([one, two])
    top = report.gaps[0]
    assert top.topic == "退税" and top.count == 3 and top.refused == 3 and top.disliked == 0
    assert top.examples[0] == "跨境电商出口退税怎么办理？" and len(top.examples) == 3
    disliked = [g for g in report.gaps if g.disliked]
    assert len(disliked) == 1 and disliked[0].examples == ["高新技术企业认定需要什么条件？"]
    assert sum(g.count for g in report.gaps) == 4  # the 👍 and the off-topic refusal are not gaps
    assert report.skipped == 1
    assert report.unreadable == [f"{two / 'unanswered.jsonl'}:2: Expecting property name enclosed in double quotes"]


def test_the_cli_prints_the_gaps_as_text_and_json(tmp_path: Path, run_cli) -> None:
    data = tmp_path / "data"
    write_lines(data / "unanswered.jsonl", [refused("出口退税怎么办理？"), refused("出口退税多久到账？")])
    text = run_cli("--gaps", "--data-dir", data)
    assert text.returncode == 0, text.stderr
    assert "退税" in text.stdout and "出口退税怎么办理？" in text.stdout
    as_json = run_cli("--gaps", "--json", "--data-dir", data)
    payload = json.loads(as_json.stdout)
    assert payload["gaps"][0]["topic"] == "退税" and payload["gaps"][0]["count"] == 2
    empty = run_cli("--gaps", "--data-dir", tmp_path / "nothing")
    assert empty.returncode == 0 and "No unanswered" in empty.stdout
