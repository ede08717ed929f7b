"""kb/gaps.py and `python ingest.py --gaps`: refused and 👎 questions grouped by topic for maintainers."""

from __future__ import annotations

import json
import re
from pathlib import Path

from kb.gaps import NO_TOPIC, find_gaps


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


def comment(question: str, text: str, answer: str = "…") -> dict:
    return {"time": "2026-11-28T11:01:00+00:00", "rating": "comment", "question": question, "answer": answer,
            "chunk_ids": [], "comment": text}  # fmt: skip


ASKING_PHRASES = ("最多能", "最多", "怎么办", "可以吗", "可以", "能不能", "多少钱", "多少", "申请", "办理")


def block(text: str, topic: str) -> list[str]:
    """The lines of the text report under `topic`: its examples and comments."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if re.fullmatch(rf"\s*\d+\s+\d+\s+\d+  {re.escape(topic)}", line))
    rest = lines[start + 1 :]
    return rest[: next((i for i, line in enumerate(rest) if not line.startswith("         ")), len(rest))]


def test_a_follow_up_joins_its_topic_and_words_of_asking_are_never_topics(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_lines(
        data / "unanswered.jsonl",
        [
            refused("托育补贴怎么申请？"),
            refused("那托育呢？"),  # a follow-up fragment: about 托育, not about 「那托育」
            refused("托育機構有補貼嗎？"),  # traditional characters
            refused("家政补贴最多能拿多少？"),
            refused("失业了怎么办？"),
            refused("养老补贴可以吗？"),
            refused("能不能申请创业担保贷款"),
            refused("办营业执照多少钱"),
            refused("最多能补多少钱？"),  # nothing but words of asking
            refused("还有育儿假呢"),
        ],
    )
    report = find_gaps([data])
    by_topic = {g.topic: g for g in report.gaps}
    assert report.gaps[0].topic == "托育" and report.gaps[0].count == 3
    assert report.gaps[0].examples == ["托育补贴怎么申请？", "那托育呢？", "托育機構有補貼嗎？"]
    assert not any(g.topic.startswith(("那", "还有")) for g in report.gaps)
    for gap in report.gaps:
        assert not any(phrase in gap.topic for phrase in ASKING_PHRASES), gap.topic
    assert by_topic["失业"].examples == ["失业了怎么办？"]
    assert by_topic["育儿"].examples == ["还有育儿假呢"]
    assert by_topic[NO_TOPIC].examples == ["最多能补多少钱？"]
    assert sum(g.count for g in report.gaps) == 10


def test_the_cli_merges_follow_ups_and_shows_the_comments_left_with_a_thumbs_down(tmp_path: Path, run_cli) -> None:
    data = tmp_path / "data"
    write_lines(
        data / "unanswered.jsonl",
        [refused("那托育呢？"), refused("家政补贴最多能拿多少？"), refused("创业贷款最多能贷多少？")],
    )
    write_lines(
        data / "feedback.jsonl",
        [
            feedback("托育补贴怎么申请？", "down"),
            comment("托育补贴怎么申请？", "只说了江西的，没有我们省的"),
            feedback("家政补贴有哪些？", "up"),
            comment("家政补贴有哪些？", "很清楚，谢谢"),  # left with a 👍: not a gap
            comment("退税多久到账？", "答非所问"),  # no 👎 on this answer in the log: not shown
            feedback("托育机构怎么备案？", "down"),  # one person's 👎 …
            {**comment("托育机构怎么备案？", "写得很全"), "rated": "up"},  # … another's comment on their 👍: not shown
        ],
    )
    text = run_cli("--gaps", "--data-dir", data)
    assert text.returncode == 0, text.stderr
    topics = [line.split("  ")[-1] for line in text.stdout.splitlines() if re.match(r"\s*\d+\s+\d+\s+\d+  ", line)]
    assert topics[0] == "托育" and not any(t in ASKING_PHRASES or t.startswith("那") for t in topics)
    assert block(text.stdout, "托育") == [
        "         · 那托育呢？",
        "         · 托育补贴怎么申请？",
        "         · 托育机构怎么备案？",
        "         👎 「只说了江西的，没有我们省的」 ← 托育补贴怎么申请？",
    ]
    assert "很清楚" not in text.stdout and "答非所问" not in text.stdout and "写得很全" not in text.stdout

    as_json = run_cli("--gaps", "--json", "--data-dir", data)
    gaps = {g["topic"]: g for g in json.loads(as_json.stdout)["gaps"]}
    assert gaps["托育"]["count"] == 3 and gaps["托育"]["refused"] == 1 and gaps["托育"]["disliked"] == 2
    assert gaps["托育"]["comments"] == [
        {"question": "托育补贴怎么申请？", "comment": "只说了江西的，没有我们省的", "time": "2026-11-28T11:01:00+00:00"}
    ]
    assert all(g["comments"] == [] for topic, g in gaps.items() if topic != "托育")
