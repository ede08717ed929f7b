"""我能申请吗: a situation from a form, the measures open to it as cards, each condition marked."""

from __future__ import annotations

import logging
from collections.abc import Callable

import gradio as gr

from kb import eligibility as elig
from kb.meta import PROVINCES
from kb.service import KnowledgeBase

from .. import cards_view, render
from ..choices import pick, pick_all
from . import SORRY

log = logging.getLogger(__name__)

HIRING_CHOICES = {"会": True, "不会": False, "不确定": None}


class Eligible:
    """The 我能申请吗 tab."""

    def __init__(self, kb: KnowledgeBase, status_of: Callable[[str], str]) -> None:
        self.kb, self.status_of = kb, status_of
        gr.Markdown("填写您的情况，查看知识库中可能适用的支持措施，以及每项条件是否满足。")
        with gr.Row():
            who = gr.CheckboxGroup(list(elig.IDENTITY_WORDS), label="您的身份（可多选）", elem_id="kb-e-who")
            start = gr.Checkbox(value=True, label="打算创业或已经创业", elem_id="kb-e-start")
        with gr.Row():
            field = gr.Dropdown(list(elig.FIELD_CHOICES), value=None, label="领域", elem_id="kb-e-field")
            region = gr.Dropdown(list(PROVINCES), value=None, label="所在省份", elem_id="kb-e-region")
            firm = gr.Radio(list(elig.FIRMS), value=None, label="经营主体", elem_id="kb-e-firm")
            hiring = gr.Radio(list(HIRING_CHOICES), value="不确定", label="是否招用员工", elem_id="kb-e-hiring")
        wants = gr.CheckboxGroup(
            list(elig.WANT_WORDS), value=[], label="想了解的支持方式（可多选）", elem_id="kb-e-wants"
        )
        go = gr.Button("查看可申请的措施", variant="primary", elem_id="kb-e-go")
        # The measures right under the button, where the person looks; the text to copy after them.
        out = gr.HTML(elem_id="kb-e-result")
        copy = gr.Textbox(label="可复制的答复（含出处）", lines=4, buttons=["copy"], elem_id="kb-e-copy")
        inputs = [who, start, field, region, firm, hiring, wants]
        go.click(self.eligible, inputs, [copy, out], preprocess=False)

    def eligible(
        self,
        who: list[str] | None,
        starting: bool,
        field: str | None,
        region: str | None,
        firm: str | None,
        hiring: str | None,
        wants: list[str] | None = None,
    ) -> tuple[str, str]:
        firm = pick(firm, elig.FIRMS, "经营主体")
        profile = elig.Profile(
            identities=pick_all(who, elig.IDENTITY_WORDS, "身份"),
            field=pick(field, elig.FIELD_CHOICES, "领域"),
            region=pick(region, PROVINCES, "所在省份"),
            firm=firm,
            hiring=HIRING_CHOICES[pick(hiring, HIRING_CHOICES, "是否招用员工") or "不确定"],
            starting=bool(starting) or firm == "尚未创办",
            wants=pick_all(wants, elig.WANT_WORDS, "支持方式"),
        )
        if not profile:
            return "", '<div class="kb-empty">请至少选择身份、领域、省份或经营主体中的一项。</div>'
        try:
            answer = self.kb.eligibility(profile, f"我能申请吗：{profile.describe()}")
        except Exception:
            log.exception("eligibility failed")
            return "", f'<div class="kb-empty">{SORRY}</div>'
        html = cards_view.eligibility_html(answer, self.status_of) + render.sources_block(answer)
        return render.plain_text(answer), html
