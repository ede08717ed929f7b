"""措施卡片: the support-measure cards of the library, filtered by words, group, kind and validity."""

from __future__ import annotations

import logging
from collections.abc import Callable

import gradio as gr

from kb import limits
from kb.cards import KINDS
from kb.service import KnowledgeBase

from .. import cards_view
from ..choices import pick
from . import SORRY

log = logging.getLogger(__name__)


class Cards:
    """The 措施卡片 tab; `out` is filled when a page loads and after each ingest (see bot/app.py)."""

    def __init__(self, kb: KnowledgeBase, status_of: Callable[[str], str]) -> None:
        self.kb, self.status_of = kb, status_of
        with gr.Row():
            text = gr.Textbox(label="关键词", placeholder="如：贷款 / 托育 / 国发〔2018〕39号", scale=3)
            self.who = who = gr.Dropdown(
                kb.card_groups(), value=None, label="支持对象（不选为全部）", elem_id="kb-c-who"
            )
            kind = gr.Dropdown(list(KINDS), value=None, label="支持方式（不选为全部）")
            current = gr.Checkbox(value=False, label="只看现行")
        go = gr.Button("查看措施卡片", variant="primary", elem_id="kb-c-go")
        self.out = gr.HTML('<div class="kb-empty">正在载入措施卡片……</div>', elem_id="kb-cards")
        self.who, self.inputs = who, [text, who, kind, current]
        for trigger in (go.click, text.submit):
            trigger(self.show_cards, self.inputs, [self.out], preprocess=False)

    def show_cards(self, text: str, who: str | None, kind: str | None, current_only: bool) -> str:
        who, kind = pick(who, self.kb.card_groups(), "支持对象"), pick(kind, KINDS, "支持方式")
        try:
            words = limits.cut(text, limits.MAX_TERMS_CHARS)[0]
            found = self.kb.cards(words, who, kind, bool(current_only))
        except Exception:
            log.exception("cards failed")
            return f'<div class="kb-empty">{SORRY}</div>'
        return cards_view.cards_list(found, self.status_of)

    def all_cards(self) -> str:
        return cards_view.cards_list(self.kb.cards(), self.status_of)

    def after_ingest(self, text: str, who: str | None, kind: str | None, current_only: bool) -> list:
        """The groups list and the cards shown, again, as the new index has them (the person's filters kept)."""
        groups = self.kb.card_groups()
        who = who if who in groups else None
        return [gr.update(choices=groups, value=who), self.show_cards(text, who, kind, current_only)]
