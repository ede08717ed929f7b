"""文件库: the listed documents as a table; a row opens the document in the viewer."""

from __future__ import annotations

import gradio as gr

from ..choices import event_row

HEADERS = ["标题", "状态", "文号", "发文机关", "成文日期", "发布日期", "地区", "条文块数", "入库时间"]
COLUMNS = ("title", "status", "doc_no", "issuer", "signed", "published", "region", "chunks", "ingested_at")


class Library:
    """The 文件库 tab; the table is filled when a page loads (see bot/app.py)."""

    def __init__(self, docs: list[dict]) -> None:
        self.docs = docs
        # Filled when a page loads, not at build: Gradio copies every component's initial value into each session,
        # API calls included, so big initial values cost memory per call (evals/bench_load.py).
        self.table = gr.Dataframe(None, headers=HEADERS, interactive=False, wrap=True, elem_id="kb-doc-table")
        gr.Markdown("点击表格中的一行，在右侧阅读全文。")

    def rows(self) -> list[list]:
        return [[d[k] for k in COLUMNS] for d in self.docs]

    def row_doc(self, index: object) -> str | None:
        """The doc_id of the row an event names, or None."""
        row = event_row(index)
        return self.docs[row]["doc_id"] if row is not None and 0 <= row < len(self.docs) else None
