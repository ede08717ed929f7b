"""The Gradio web app: the tabs (bot/tabs/: 咨询, 检索, 我能申请吗, 措施卡片, 文件库) beside the 原文 viewer, and /ask.

Each tab is its own module with its layout and handlers; this module lays them out and wires what crosses tabs.
"""

from __future__ import annotations

import gradio as gr

from kb.service import KnowledgeBase, answer_json
from kb.serving import IngestService

from . import render
from .access import Access
from .tabs.admin import Admin
from .tabs.cards import Cards
from .tabs.chat import Chat
from .tabs.eligible import Eligible
from .tabs.library import Library
from .tabs.lookup import Lookup
from .tabs.viewer import Viewer

LIVE_SECONDS = 3.0  # how often an open page checks whether an ingest changed the index
INTRO = "双创带动就业、创业担保贷款、融资担保、职业培训、托育等政策的咨询与检索。每条回答都注明出处。"
CSS = """
.gradio-container {max-width: 1280px !important; margin: auto; min-width: 0 !important;}
/* Gradio pads the page 32px a side; on a phone (under ~640px) 8px. Outside a media query: Gradio scopes the rules
   inside one to its .contain element, which the padded element wraps. */
.gradio-container > .main.app {padding-left: clamp(8px, calc(100vw - 608px), 32px) !important;
  padding-right: clamp(8px, calc(100vw - 608px), 32px) !important;}
.kb-answer {scroll-margin-top: .5em;}
/* Contrast of at least 4.5:1 (WCAG AA): white on Gradio's orange-500 buttons is 2.8:1, its grey hints 1.9:1. */
body:not(.dark) .gradio-container {--button-primary-background-fill: #c2410c; --button-primary-border-color: #c2410c;
  --button-primary-background-fill-hover: #9a3412; --button-primary-border-color-hover: #9a3412;
  --body-text-color-subdued: #6b6b75;}
.kb-answer {line-height: 1.7;}
.kb-sources summary {cursor: pointer; color: #3d3d3d; margin-top: .4em;}
.kb-src {border-left: 3px solid #c8102e; padding: .3em .7em; margin: .5em 0; background: rgba(200,16,46,.04);}
.kb-src-meta, .kb-doc-source {color: #444; font-size: .85em;}
.kb-passage {margin: .3em 0; font-size: .92em;}
.kb-passage mark, .kb-doc mark {background: #ffe58a; padding: 0 .1em;}
.kb-note {color: #595959; font-size: .8em;}
.kb-card {border: 1px solid #e3c2c7; border-radius: 6px; padding: .5em .8em; margin: .6em 0;}
.kb-card-head {font-size: 1.02em; margin-bottom: .2em;}
.kb-card-row {margin: .15em 0; font-size: .92em;}
.kb-card-label {display: inline-block; min-width: 5em; color: #666;}
.kb-badge {background: #fde2e2; color: #a8071a; border-radius: 4px; padding: 0 .4em; font-size: .8em;}
.kb-closest {border-left: 3px solid #faad14; padding-left: .6em;}
.kb-closest-badge {background: #fff7e6; color: #874d00;}
.kb-conds {list-style: none; padding-left: .2em; margin: .4em 0;}
.kb-conds li {margin: .15em 0; font-size: .92em;}
.kb-met b {color: #237804;} .kb-notmet b {color: #a8071a;} .kb-unknown b {color: #ad6800;}
.kb-direct {margin-bottom: .6em; padding-bottom: .5em; border-bottom: 1px solid #eee;}
.kb-asks {background: #fffbe6; border-left: 3px solid #faad14; padding: .4em .7em; margin: .5em 0;}
.kb-card-foot {font-size: .85em; margin-top: .2em;}
.kb-doccard {border: 1px solid #e3c2c7; border-radius: 6px; padding: .6em .9em; margin: .3em 0;}
.kb-doccard, #kb-results {overflow-wrap: anywhere;}
.kb-doccard summary {cursor: pointer; color: #555; margin-top: .3em;}
.kb-plain {margin: .2em 0 .2em 1.4em; padding: 0; font-size: .92em;}
.kb-ok {background: #e6f4ea; color: #237804;}
.kb-doc p {text-indent: 2em; margin: .4em 0; line-height: 1.8;}
.kb-scroll {max-height: 75vh; overflow-y: auto; position: relative; padding-right: .5em;}
.kb-admin-results {border-collapse: collapse; width: 100%; font-size: .92em; border: none !important;}
.kb-admin-results tr, .kb-admin-results th, .kb-admin-results td {border: none !important;}
.kb-admin-results th, .kb-admin-results td {text-align: left; padding: .3em .5em; vertical-align: top;
  border-bottom: 1px solid #e5e5e5 !important;}
.kb-admin-results th {color: #666; font-weight: normal;}
.kb-admin-results td:first-child {overflow-wrap: anywhere; width: 30%;}
.kb-admin-results td:nth-child(2) {white-space: nowrap; width: 3.5em;}
.kb-admin-added b, .kb-admin-updated b {color: #237804;} .kb-admin-failed b {color: #a8071a;}
.kb-admin-duplicate b {color: #ad6800;} .kb-admin-unchanged b {color: #666;}
.kb-admin-ok {border-left: 3px solid #52c41a; padding: .3em .7em; background: rgba(82,196,26,.06);}
.kb-back {position: sticky; top: 0; z-index: 1; display: block; background: var(--background-fill-primary);
  padding: .2em .4em; font-size: .9em;}
.kb-library {border-collapse: collapse; width: 100%; font-size: .88em; border: none !important; margin: 0 !important;}
.kb-library tr, .kb-library th, .kb-library td {border: none !important;}
.kb-library th, .kb-library td {text-align: left; padding: .35em .4em !important; vertical-align: top;
  border-bottom: 1px solid #e5e5e5 !important; overflow-wrap: anywhere;}
.kb-library th {color: #555; font-weight: normal; white-space: nowrap;}
.kb-library td.kb-lib-title {min-width: 11em; overflow-wrap: normal;}
.kb-library td.kb-lib-doc_no {white-space: nowrap;}
.kb-library td.kb-lib-signed, .kb-library td.kb-lib-published {white-space: nowrap;}
.kb-library td.kb-lib-ingested_at {min-width: 5.6em; overflow-wrap: normal;}
.kb-library .kb-badge {white-space: nowrap;}
@media (max-width: 640px) {
  .kb-doc p {text-indent: 0;} .kb-scroll {max-height: 60vh;}
  .kb-library thead {position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);}
  .kb-library, .kb-library tbody, .kb-library tr, .kb-library td {display: block; width: auto;}
  .kb-library tr {border: 1px solid #e3c2c7 !important; border-radius: 6px; padding: .4em .7em; margin: .5em 0;}
  .kb-library td {border: none !important; padding: .1em 0 !important; min-width: 0 !important;}
  .kb-library td:empty {display: none;}
  .kb-library td::before {content: attr(data-label) "："; color: #666; display: inline-block; min-width: 5em;}
  .kb-library td.kb-lib-title {font-weight: 600; font-size: 1.05em; margin-bottom: .2em;}
  .kb-library td.kb-lib-title::before {content: none;}
}
"""


def build_app(
    kb: KnowledgeBase | None,
    missing_reason: str = "",
    ingests: IngestService | None = None,
    access: Access | None = None,
) -> gr.Blocks:
    """The whole app; with no index it is a single page that says how to build one. The 管理 tab is there when
    both the ingests of this data directory and a maintainer's login (KB_ADMIN) are given."""
    with gr.Blocks(title="政策知识库问答") as app:
        gr.Markdown(f"# 政策知识库问答\n{INTRO}")
        if kb is None:
            gr.HTML(render.missing_index_page(missing_reason), elem_id="kb-missing")
            return app
        _build(app, kb, ingests, access)
    return app


def _build(app: gr.Blocks, kb: KnowledgeBase, ingests: IngestService | None, access: Access | None) -> None:
    admin = None
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=300), gr.Tabs(overflow_behavior="wrap"):
            with gr.Tab("咨询", id="chat"):
                Chat(kb)
            with gr.Tab("检索", id="lookup"):
                lookup = Lookup(kb)
            with gr.Tab("我能申请吗", id="eligible"):
                Eligible(kb, kb.status_of)
            with gr.Tab("措施卡片", id="cards"):
                cards = Cards(kb, kb.status_of)
            with gr.Tab("文件库", id="docs"):
                library = Library(kb)
            if ingests is not None and access is not None:
                with gr.Tab("管理", id="admin"):
                    admin = Admin(kb, ingests, access)
        with gr.Column(scale=2, min_width=300):
            Viewer(kb)

    seen = gr.State("")  # the index version this page shows
    app.load(lambda: (kb.version(), library.rows(), cards.all_cards()), None, [seen, library.table, cards.out])
    _follow_ingests(kb, seen, lookup, cards, library, admin)

    def ask(question: str) -> dict:
        """Ask the knowledge base; returns the JSON answer (question, answer, refused, citations, timings_ms)."""
        return answer_json(kb.ask(question))

    gr.api(ask, api_name="ask")


def _follow_ingests(
    kb: KnowledgeBase, seen: gr.State, lookup: Lookup, cards: Cards, library: Library, admin: Admin | None
) -> None:
    """An open page picks up a committed ingest within LIVE_SECONDS: the 文件库 table, the 检索 filter lists, the
    措施卡片 and, logged in, the 管理 table (answers and searches use the new index at once: each query checks the
    index version first)."""
    outputs = [seen, library.table, *lookup.filters, cards.who, cards.out]
    inputs = [seen, *cards.inputs]
    if admin is not None:
        outputs += [admin.table, admin.doc]
        inputs.append(admin.session)

    def tick(shown: str, *rest):  # type: ignore[no-untyped-def]
        now = kb.version()
        if now == shown:
            return [gr.skip()] * len(outputs)
        docs = kb.documents()
        card_inputs = rest[: len(cards.inputs)]
        updates = [now, library.rows(docs), *lookup.choice_updates(docs), *cards.after_ingest(*card_inputs)]
        return updates + (admin.after_ingest(rest[-1], docs) if admin is not None else [])

    gr.Timer(LIVE_SECONDS).tick(
        tick,
        inputs,
        outputs,
        preprocess=False,
        show_progress="hidden",
        api_visibility="private",
        concurrency_limit=None,  # a version check: it must not wait behind questions in the queue
    )
