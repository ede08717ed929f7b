"""检索: keyword, 文号 or title lookup for hotline staff, with filters: a named document's card with a citable summary
to copy, then the ranked passages with the words searched for marked (kb.service.KnowledgeBase.lookup)."""

from __future__ import annotations

import logging

import gradio as gr

from kb.query import TRUNCATED_NOTICE
from kb.retrieve import Filters
from kb.route import EMPTY
from kb.service import KnowledgeBase

from .. import render
from ..choices import pick, pick_all
from . import SORRY

log = logging.getLogger(__name__)


class Lookup:
    """The 检索 tab; its filters offer what the listed documents hold (updated after each ingest)."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        docs = kb.documents()
        options = self.options(docs)
        with gr.Row():
            terms = gr.Textbox(
                label="关键词或文号",
                placeholder="如：创业担保贷款 / 国发〔2018〕39号 / 国发〔2018〕39号 失业保险",
                scale=4,
            )
            search_btn = gr.Button("检索", variant="primary", scale=1, min_width=80, elem_id="kb-search")
        with gr.Row():
            self.f_doc = gr.Dropdown(options["docs"], label="文件", multiselect=True)
            # value=None: Gradio would otherwise preselect the first choice and filter by it.
            self.f_issuer = gr.Dropdown(options["issuers"], value=None, label="发文机关（不选为全部）")
            self.f_region = gr.Dropdown(options["regions"], value=None, label="地区（不选为全部）")
            self.f_year = gr.Dropdown(options["years"], value=None, label="年份（不选为全部）")
            f_current = gr.Checkbox(value=False, label="只看现行", elem_id="kb-current-only")
        self.filters = [self.f_doc, self.f_issuer, self.f_region, self.f_year]
        card = gr.HTML(elem_id="kb-doc-card")  # the document a 文号 or title names
        copy_box = gr.Textbox(label="可复制的答复（含出处）", lines=6, buttons=["copy"], elem_id="kb-copy")
        results = gr.HTML(elem_id="kb-results")
        inputs = [terms, *self.filters, f_current]
        for trigger in (search_btn.click, terms.submit):
            trigger(self.lookup, inputs, [card, copy_box, results], preprocess=False)

    def lookup(
        self,
        query: str,
        doc_ids: list[str] | None,
        issuer: str | None,
        region: str | None,
        year: str | None,
        current_only: bool = False,
    ) -> tuple[str, str, str]:
        options = self.options(self.kb.documents())  # as the index is now: an ingest may have added some
        year = pick(year, options["years"], "年份")
        filters = Filters(
            current_only=bool(current_only),
            doc_ids=pick_all(doc_ids, [doc_id for _title, doc_id in options["docs"]], "文件"),
            issuer=pick(issuer, options["issuers"], "发文机关"),
            region=pick(region, options["regions"], "地区"),
            date_from=f"{year}-01-01" if year else "",
            date_to=f"{year}-12-31" if year else "",
        )
        try:
            found = self.kb.lookup(query, k=10, filters=filters or None)
        except Exception:
            log.exception("lookup failed")
            return "", "", f'<div class="kb-empty">{SORRY}</div>'
        if found.answer.kind == EMPTY:
            return "", "", '<div class="kb-empty">请输入关键词或文号。</div>'
        notice = TRUNCATED_NOTICE if found.cut else ""
        card = render.document_card(found.document) if found.document is not None else ""
        passages = render.lookup_results(found.hits, found.terms, found.document, found.searched)
        return card, notice + render.plain_text(found.answer), passages

    @staticmethod
    def options(docs: list[dict]) -> dict[str, list]:
        """The filters' choices: what the listed documents hold."""
        return {
            "docs": [(d["title"], d["doc_id"]) for d in docs],
            "issuers": sorted({d["issuer"] for d in docs if d["issuer"]}),
            "regions": sorted({d["region"] for d in docs if d["region"]}),
            "years": sorted({d["signed"][:4] for d in docs if d["signed"]}, reverse=True),
        }

    def choice_updates(self, docs: list[dict]) -> list[dict]:
        """New choices for the four filter lists (after an ingest), keeping what a person has picked."""
        options = self.options(docs)
        return [gr.update(choices=options[key]) for key in ("docs", "issuers", "regions", "years")]
