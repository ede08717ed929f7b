"""Held-out precision of the support-measure cards, from hand verdicts (evals/cards-heldout-*.jsonl).

Each line judges one randomly sampled card of the outside benchmark (evals/ncp): whether its paragraph is a support
measure at all, and every extracted value of who, amounts and ratios as right or wrong.

    python -m evals.cards_heldout [path]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

VERDICTS = Path(__file__).resolve().parent / "cards-heldout-1.jsonl"
FIELDS = ("who", "amounts", "ratios")


def _share(ok: int, total: int) -> str:
    return f"{ok}/{total} = {ok / total:.3f}" if total else f"{ok}/0 = n/a"


def report(rows: list[dict]) -> str:
    lines = [f"cards judged: {len(rows)}"]
    for name in FIELDS:
        verdicts = [v["ok"] for row in rows for v in row[name]]
        lines.append(f"{name:8} precision {_share(sum(verdicts), len(verdicts))}")
    measures = sum(row["is_measure"] for row in rows)
    lines.append(f"real measures {_share(measures, len(rows))}")
    lines.append(f"cards with a noted miss: {sum(bool(row['missed']) for row in rows)}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else VERDICTS
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    sys.stdout.write(report(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
