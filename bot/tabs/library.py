"""文件库: the listed documents as a table (cards on a phone); a title opens the document in the viewer."""

from __future__ import annotations

import gradio as gr

from kb.service import KnowledgeBase

from .. import render


class Library:
    """The 文件库 tab; the table is filled when a page loads and after each ingest (see bot/app.py)."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        # Filled when a page loads, not at build: Gradio copies every component's initial value into each session,
        # API calls included, so big initial values cost memory per call (evals/bench_load.py).
        gr.Markdown("点击标题阅读全文。")
        self.table = gr.HTML('<div class="kb-empty">正在载入文件列表……</div>', elem_id="kb-doc-table")

    def rows(self, docs: list[dict] | None = None) -> str:
        """The table's HTML for these documents (by default, the listed ones)."""
        return render.library_table(docs if docs is not None else self.kb.documents())
