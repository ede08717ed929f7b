"""文件库: the listed documents as a table; a row opens the document in the viewer."""

from __future__ import annotations

import gradio as gr

from kb.service import KnowledgeBase

from ..choices import event_row

HEADERS = ["标题", "状态", "文号", "发文机关", "成文日期", "发布日期", "地区", "条文块数", "入库时间"]
COLUMNS = ("title", "status", "doc_no", "issuer", "signed", "published", "region", "chunks", "ingested_at")


class Library:
    """The 文件库 tab; the table is filled when a page loads and after each ingest (see bot/app.py)."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        # Filled when a page loads, not at build: Gradio copies every component's initial value into each session,
        # API calls included, so big initial values cost memory per call (evals/bench_load.py).
        self.table = gr.Dataframe(None, headers=HEADERS, interactive=False, wrap=True, elem_id="kb-doc-table")
        gr.Markdown("点击表格中的一行，在右侧阅读全文。")

    def rows(self, docs: list[dict] | None = None) -> list[list]:
        return [[d[k] for k in COLUMNS] for d in (docs if docs is not None else self.kb.documents())]

    def row_doc(self, index: object, row_value: object = None) -> str | None:
        """The doc_id of the row an event names, or None.

        The row as the page shows it (title, 文号) picks the document, so a table shown before an ingest still
        opens the document the person clicked; the row number is the fallback.
        """
        docs = self.kb.documents()
        if isinstance(row_value, list) and len(row_value) >= 3:
            for d in docs:
                if [d["title"], d["doc_no"]] == [row_value[0], row_value[2]]:
                    return d["doc_id"]
        row = event_row(index)
        return docs[row]["doc_id"] if row is not None and 0 <= row < len(docs) else None
