"""检索: keyword or 文号 lookup for hotline staff, with filters, highlighted passages and a copyable answer."""

from __future__ import annotations

import logging

import gradio as gr

from kb.query import TRUNCATED_NOTICE, clean_question
from kb.retrieve import Filters
from kb.service import KnowledgeBase

from .. import render
from ..choices import pick, pick_all
from . import SORRY

log = logging.getLogger(__name__)


class Lookup:
    """The 检索 tab; its filters offer what the listed documents hold."""

    def __init__(self, kb: KnowledgeBase, docs: list[dict]) -> None:
        self.kb = kb
        self.doc_choices = [d["doc_id"] for d in docs]
        self.issuers = sorted({d["issuer"] for d in docs if d["issuer"]})
        self.regions = sorted({d["region"] for d in docs if d["region"]})
        self.years = sorted({d["signed"][:4] for d in docs if d["signed"]}, reverse=True)
        with gr.Row():
            terms = gr.Textbox(label="关键词或文号", placeholder="如：创业担保贷款 / 国发〔2018〕39号", scale=4)
            search_btn = gr.Button("检索", variant="primary", scale=1, min_width=80, elem_id="kb-search")
        with gr.Row():
            f_doc = gr.Dropdown([(d["title"], d["doc_id"]) for d in docs], label="文件", multiselect=True)
            # value=None: Gradio would otherwise preselect the first choice and filter by it.
            f_issuer = gr.Dropdown(self.issuers, value=None, label="发文机关（不选为全部）")
            f_region = gr.Dropdown(self.regions, value=None, label="地区（不选为全部）")
            f_year = gr.Dropdown(self.years, value=None, label="年份（不选为全部）")
            f_current = gr.Checkbox(value=False, label="只看现行", elem_id="kb-current-only")
        copy_box = gr.Textbox(label="可复制的答复（含出处）", lines=6, buttons=["copy"], elem_id="kb-copy")
        results = gr.HTML(elem_id="kb-results")
        inputs = [terms, f_doc, f_issuer, f_region, f_year, f_current]
        for trigger in (search_btn.click, terms.submit):
            trigger(self.lookup, inputs, [copy_box, results], preprocess=False)

    def lookup(
        self,
        query: str,
        doc_ids: list[str] | None,
        issuer: str | None,
        region: str | None,
        year: str | None,
        current_only: bool = False,
    ) -> tuple[str, str]:
        year = pick(year, self.years, "年份")
        filters = Filters(
            current_only=bool(current_only),
            doc_ids=pick_all(doc_ids, self.doc_choices, "文件"),
            issuer=pick(issuer, self.issuers, "发文机关"),
            region=pick(region, self.regions, "地区"),
            date_from=f"{year}-01-01" if year else "",
            date_to=f"{year}-12-31" if year else "",
        )
        query, was_cut = clean_question(query)
        if not query.strip():
            return "", '<div class="kb-empty">请输入关键词或文号。</div>'
        try:
            hits = self.kb.search(query, k=10, filters=filters or None)
            answer = self.kb.ask(query, filters=filters or None, log_unanswered=False)
        except Exception:
            log.exception("lookup failed")
            return "", f'<div class="kb-empty">{SORRY}</div>'
        tokens = self.kb.terms_of(query)
        notice = TRUNCATED_NOTICE if was_cut else ""
        return notice + render.plain_text(answer), render.lookup_results(hits, tokens)
