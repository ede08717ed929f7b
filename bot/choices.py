"""What a client sends for a choice or an event, checked before any handler uses it (answers in Chinese)."""

from __future__ import annotations

from collections.abc import Collection

import gradio as gr

from kb import limits


def pick(value: object, options: Collection[str], label: str) -> str:
    """A single choice as a client sent it: "" for none; a value the list does not offer is refused in Chinese.

    Gradio's own check answers in English and echoes the value back whole, however long, so the
    choice inputs reach the handlers unchecked (`preprocess=False`) and are checked here.
    """
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or value not in options:
        raise gr.Error(f"「{label}」只能从列表中选择。", title="出错了")
    return value


def pick_all(values: object, options: Collection[str], label: str) -> tuple[str, ...]:
    """A multi-select as a client sent it: each value as in `pick`; past limits.MAX_CHOICES the rest are dropped."""
    if values is None:
        return ()
    if not isinstance(values, list):
        raise gr.Error(f"「{label}」只能从列表中选择。", title="出错了")
    return tuple(pick(v, options, label) for v in values[: limits.MAX_CHOICES])


def event_row(index: object) -> int | None:
    """The row an event's index names (`row`, or `[row, column]`), or None for whatever else a client sent."""
    if isinstance(index, list | tuple) and index:
        index = index[0]
    return index if type(index) is int else None
