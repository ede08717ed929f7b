"""`python -m bot.ask "问题"` (text or --json) and `python -m bot.ask --batch IN.jsonl --out OUT.jsonl`."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from kb import KBError, Settings
from kb.service import KnowledgeBase, answer_json
from kb.types import Answer


def render(answer: Answer) -> str:
    """The answer, then its numbered sources with title, 文号, section and the passage."""
    lines = [answer.text, ""]
    if answer.citations:
        lines.append("来源：")
    for n, hit in enumerate(answer.citations, start=1):
        meta = hit.chunk.meta
        head = f"[{n}] 《{meta.title}》"
        if meta.doc_no:
            head += f"（{meta.doc_no}）"
        if hit.chunk.section:
            head += f" {hit.chunk.section}"
        if hit.chunk.page:
            head += f"（第{hit.chunk.page}页）"
        lines.append(head)
        lines.extend("    " + line for line in hit.chunk.text.splitlines())
        if hit.also:
            titles = list(dict.fromkeys(c.meta.title for c in hit.also if c.meta.title != meta.title))[:3]
            if titles:
                lines.append("    亦见于：" + "、".join(f"《{t}》" for t in titles))
    lines.append("以政策原文为准。")
    return "\n".join(lines) + "\n"


def run_batch(kb: KnowledgeBase, src: Path, out: Path, k: int) -> int:
    failures = 0
    with open(src, encoding="utf-8") as fin, open(out, "w", encoding="utf-8") as fout:
        for lineno, line in enumerate(fin, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                question = item["question"]
                if not isinstance(question, str):
                    raise TypeError("question is not a string")
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                sys.stderr.write(f"{src}:{lineno}: skipped, not a JSON object with a 'question' string ({exc})\n")
                failures += 1
                continue
            record = answer_json(kb.ask(question, k=k))
            record["id"] = item.get("id", lineno)
            fout.write(json.dumps(record, ensure_ascii=False) + "\n")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.ask", description="Ask the policy knowledge base.")
    parser.add_argument("question", nargs="?", help="the question (omit with --batch)")
    parser.add_argument("--data-dir", type=Path, help="index location (default: KB_DATA_DIR or data/)")
    parser.add_argument("--json", action="store_true", help="print the JSON answer")
    parser.add_argument("--k", type=int, default=5, help="number of cited passages (default 5)")
    parser.add_argument("--batch", type=Path, help="JSONL file of {id, question}")
    parser.add_argument("--out", type=Path, help="with --batch: where to write the JSONL answers")
    parser.add_argument(
        "--export",
        choices=["md", "json"],
        help="print the answer bundle for the record: question, query, answer, citations with offsets, "
        "knowledge-base version, embedder, time",
    )
    args = parser.parse_args(argv)
    if bool(args.batch) == (args.question is not None):  # an empty "" is a question: it gets the empty-input reply
        parser.error("give either one question or --batch IN.jsonl --out OUT.jsonl")
    if args.batch and not args.out:
        parser.error("--batch needs --out")
    if args.k < 1:
        parser.error("--k must be at least 1")
    if args.export and (args.batch or args.json):
        parser.error("--export goes with one question, without --json")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        kb = KnowledgeBase(Settings.from_env(data_dir=args.data_dir))
        if args.batch:
            if not args.batch.exists():
                sys.stderr.write(f"bot.ask: {args.batch}: no such file\n")
                return 2
            return run_batch(kb, args.batch, args.out, args.k)
        answer = kb.ask(args.question, k=args.k)
    except KBError as exc:
        sys.stderr.write(f"bot.ask: {exc}\n")
        return 2
    if args.export:
        from kb.export import to_markdown

        bundle = kb.export(answer)
        out = to_markdown(bundle) if args.export == "md" else json.dumps(bundle, ensure_ascii=False, indent=1) + "\n"
        sys.stdout.write(out)
    elif args.json:
        sys.stdout.write(json.dumps(answer_json(answer), ensure_ascii=False, indent=1) + "\n")
    else:
        sys.stdout.write(render(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
