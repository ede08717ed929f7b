"""The Gradio web chat: 咨询 (chat with sources), 检索 (lookup for hotline staff), 文件库 (documents), /ask API."""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Collection
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import gradio as gr

from kb import KBError, limits
from kb import eligibility as elig
from kb.cards import KINDS
from kb.export import to_markdown
from kb.meta import PROVINCES
from kb.query import TRUNCATED_NOTICE, Turn, clean_question
from kb.retrieve import Filters
from kb.service import KnowledgeBase, answer_json

from . import cards_view, feedback, render

log = logging.getLogger(__name__)

INTRO = "双创带动就业、创业担保贷款、融资担保、职业培训、托育等政策的咨询与检索。每条回答都注明出处。"
VIEWER_HINT = "点击回答或检索结果中的“查看原文”，在这里阅读整份文件，引用的段落会高亮显示。"
SORRY = "抱歉，系统暂时无法回答这个问题，请稍后再试。"
EXAMPLES = [
    "我想开一家家政服务公司，有什么扶持政策？",
    "做养老托育的创业项目能得到哪些支持？",
    "返乡做乡村旅游创业，文件里怎么说？",
    "家电回收领域的示范方向是什么？",
    "个人创业担保贷款最多能贷多少？",
    "我是退役军人，想做家政，有什么支持？",
]
HIRING_CHOICES = {"会": True, "不会": False, "不确定": None}
CSS = """
.gradio-container {max-width: 1280px !important; margin: auto;}
.kb-answer {line-height: 1.7;}
.kb-sources summary {cursor: pointer; color: #555; margin-top: .4em;}
.kb-src {border-left: 3px solid #c8102e; padding: .3em .7em; margin: .5em 0; background: rgba(200,16,46,.04);}
.kb-src-meta, .kb-doc-source {color: #666; font-size: .85em;}
.kb-passage {margin: .3em 0; font-size: .92em;}
.kb-passage mark, .kb-doc mark {background: #ffe58a; padding: 0 .1em;}
.kb-note {color: #888; font-size: .8em;}
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
.kb-asks {background: #fffbe6; border-left: 3px solid #faad14; padding: .4em .7em; margin: .5em 0;}
.kb-card-foot {font-size: .85em; margin-top: .2em;}
.kb-doc p {text-indent: 2em; margin: .4em 0; line-height: 1.8;}
.kb-scroll {max-height: 75vh; overflow-y: auto; position: relative; padding-right: .5em;}
@media (max-width: 640px) { .kb-doc p {text-indent: 0;} .kb-scroll {max-height: 60vh;} }
"""
# Installs one click handler for every "查看原文" link (chat, lookup), and scrolls the viewer to its highlight.
VIEWER_JS = """
if (!window.__kbOpen) {
  window.__kbOpen = true;
  document.addEventListener('click', (e) => {
    const a = e.target.closest && e.target.closest('a.kb-open');
    if (!a) return;
    e.preventDefault(); e.stopPropagation();
    const parts = (a.getAttribute('href') || '').split('/');
    trigger('click', {doc: decodeURIComponent(parts[1] || ''), start: +parts[2], end: +parts[3]});
  }, true);
}
watch('value', () => {
  const box = element.querySelector('.kb-scroll');
  const m = element.querySelector('mark');
  if (box && m) box.scrollTop = Math.max(0, m.offsetTop - box.offsetTop - box.clientHeight / 3);
});
"""


def pick(value: object, options: Collection[str], label: str) -> str:
    """A single choice as a client sent it: "" for none; a value the list does not offer is refused in Chinese.

    Gradio's own check answers in English and echoes the value back whole, however long, so the
    choice inputs reach the handlers unchecked (`preprocess=False`) and are checked here.
    """
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or value not in options:
        raise gr.Error(f"「{label}」只能从列表中选择。")
    return value


def pick_all(values: object, options: Collection[str], label: str) -> tuple[str, ...]:
    """A multi-select as a client sent it: each value as in `pick`; past limits.MAX_CHOICES the rest are dropped."""
    if values is None:
        return ()
    if not isinstance(values, list):
        raise gr.Error(f"「{label}」只能从列表中选择。")
    return tuple(pick(v, options, label) for v in values[: limits.MAX_CHOICES])


def event_row(index: object) -> int | None:
    """The row an event's index names (`row`, or `[row, column]`), or None for whatever else a client sent."""
    if isinstance(index, list | tuple) and index:
        index = index[0]
    return index if type(index) is int else None


def _turns(history: list[dict], meta: dict[int, dict]) -> list[Turn]:
    turns = []
    for i, message in enumerate(history):
        if message.get("role") == "assistant" and i in meta:
            turns.append(Turn(meta[i]["question"], meta[i]["answer"], meta[i]["doc_ids"]))
    return turns[-3:]


def build_app(kb: KnowledgeBase | None, missing_reason: str = "") -> gr.Blocks:
    """The whole app; with no index it is a single page that says how to build one."""
    with gr.Blocks(title="政策知识库问答") as app:
        gr.Markdown(f"# 政策知识库问答\n{INTRO}")
        if kb is None:
            gr.HTML(render.missing_index_page(missing_reason), elem_id="kb-missing")
            return app
        _build(app, kb)
    return app


def _build(app: gr.Blocks, kb: KnowledgeBase) -> None:
    docs = kb.documents()

    def status_of(doc_id: str) -> str:
        return kb.retriever.validity_of(doc_id).status

    def answer_html(answer) -> str:  # type: ignore[no-untyped-def]
        if answer.profile is not None:  # 我能申请吗: the measures as cards, each condition marked
            return cards_view.eligibility_html(answer, status_of) + render.sources_block(answer)
        return render.chat_message(answer) + cards_view.measure_notes(answer, status_of)

    feedback_path = kb.settings.data_dir / "feedback.jsonl"
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=340), gr.Tabs():
            with gr.Tab("咨询", id="chat"):
                chatbot = gr.Chatbot(
                    label="政策咨询",
                    height=560,
                    buttons=["copy"],
                    feedback_options=("Like", "Dislike"),
                    placeholder="请描述您的情况或问题，例如：个人创业担保贷款最多能贷多少？",
                    elem_id="kb-chat",
                )
                with gr.Row():
                    question = gr.Textbox(
                        show_label=False, placeholder="输入问题，按回车发送", scale=5, elem_id="kb-question"
                    )
                    send = gr.Button("发送", variant="primary", scale=1, min_width=80, elem_id="kb-send")
                gr.Examples(EXAMPLES, inputs=question, label="示例问题（点击填入）")
                with gr.Row():
                    comment = gr.Textbox(show_label=False, placeholder="对上一条回答的意见（可选）", scale=5)
                    comment_btn = gr.Button("提交意见", scale=1, min_width=80)
                with gr.Row():
                    clear = gr.Button("清空对话", size="sm")
                    export_btn = gr.Button("导出上一条答复存档（含出处与知识库版本）", size="sm", elem_id="kb-export")
                export_files = gr.File(
                    label="答复存档", file_count="multiple", visible=False, elem_id="kb-export-files"
                )
                meta_state = gr.State({})
                last_rated = gr.State(None)
            with gr.Tab("检索", id="lookup"):
                with gr.Row():
                    terms = gr.Textbox(label="关键词或文号", placeholder="如：创业担保贷款 / 国发〔2018〕39号", scale=4)
                    search_btn = gr.Button("检索", variant="primary", scale=1, min_width=80, elem_id="kb-search")
                with gr.Row():
                    doc_choices = [d["doc_id"] for d in docs]
                    f_doc = gr.Dropdown([(d["title"], d["doc_id"]) for d in docs], label="文件", multiselect=True)
                    # value=None: Gradio would otherwise preselect the first choice and filter by it.
                    issuers = sorted({d["issuer"] for d in docs if d["issuer"]})
                    f_issuer = gr.Dropdown(issuers, value=None, label="发文机关（不选为全部）")
                    regions = sorted({d["region"] for d in docs if d["region"]})
                    f_region = gr.Dropdown(regions, value=None, label="地区（不选为全部）")
                    years = sorted({d["signed"][:4] for d in docs if d["signed"]}, reverse=True)
                    f_year = gr.Dropdown(years, value=None, label="年份（不选为全部）")
                    f_current = gr.Checkbox(value=False, label="只看现行", elem_id="kb-current-only")
                copy_box = gr.Textbox(label="可复制的答复（含出处）", lines=6, buttons=["copy"], elem_id="kb-copy")
                results = gr.HTML(elem_id="kb-results")
            with gr.Tab("我能申请吗", id="eligible"):
                gr.Markdown("填写您的情况，查看知识库中可能适用的支持措施，以及每项条件是否满足。")
                with gr.Row():
                    e_who = gr.CheckboxGroup(list(elig.IDENTITY_WORDS), label="您的身份（可多选）", elem_id="kb-e-who")
                    e_start = gr.Checkbox(value=True, label="打算创业或已经创业", elem_id="kb-e-start")
                with gr.Row():
                    e_field = gr.Dropdown(list(elig.FIELD_CHOICES), value=None, label="领域", elem_id="kb-e-field")
                    e_region = gr.Dropdown(list(PROVINCES), value=None, label="所在省份", elem_id="kb-e-region")
                    e_firm = gr.Radio(list(elig.FIRMS), value=None, label="经营主体", elem_id="kb-e-firm")
                    e_hiring = gr.Radio(
                        list(HIRING_CHOICES), value="不确定", label="是否招用员工", elem_id="kb-e-hiring"
                    )
                e_btn = gr.Button("查看可申请的措施", variant="primary", elem_id="kb-e-go")
                e_copy = gr.Textbox(label="可复制的答复（含出处）", lines=4, buttons=["copy"], elem_id="kb-e-copy")
                e_out = gr.HTML(elem_id="kb-e-result")
            with gr.Tab("措施卡片", id="cards"):
                with gr.Row():
                    c_text = gr.Textbox(label="关键词", placeholder="如：贷款 / 托育 / 国发〔2018〕39号", scale=3)
                    groups = sorted({v for c in kb.retriever.cards for v in c.values("who")})
                    c_who = gr.Dropdown(groups, value=None, label="支持对象（不选为全部）", elem_id="kb-c-who")
                    c_kind = gr.Dropdown(list(KINDS), value=None, label="支持方式（不选为全部）")
                    c_current = gr.Checkbox(value=False, label="只看现行")
                c_btn = gr.Button("查看措施卡片", variant="primary", elem_id="kb-c-go")
                c_out = gr.HTML('<div class="kb-empty">正在载入措施卡片……</div>', elem_id="kb-cards")
            with gr.Tab("文件库", id="docs"):
                # Filled when a page loads, not at build: Gradio copies every component's initial value into each
                # session, API calls included, so big initial values cost memory per call (evals/bench_load.py).
                table = gr.Dataframe(
                    None,
                    headers=[
                        "标题",
                        "状态",
                        "文号",
                        "发文机关",
                        "成文日期",
                        "发布日期",
                        "地区",
                        "条文块数",
                        "入库时间",
                    ],
                    interactive=False,
                    wrap=True,
                    elem_id="kb-doc-table",
                )
                gr.Markdown("点击表格中的一行，在右侧阅读全文。")
        with gr.Column(scale=2, min_width=300):
            gr.Markdown("### 原文")
            viewer = gr.HTML(
                f'<div class="kb-empty">{VIEWER_HINT}</div>',
                js_on_load=VIEWER_JS,
                elem_id="kb-viewer",
            )

    def respond(message: str, history: list[dict], meta: dict[int, dict]):
        history = list(history or []) if isinstance(history, list) else []
        if not isinstance(message, str) or not message.strip():
            yield history, meta, ""
            return
        shown, was_cut = limits.cut(message, limits.MAX_QUESTION_CHARS)
        # Shown as typed, never as HTML or Markdown (no image a question names is fetched, no link made).
        history.append({"role": "user", "content": render.inert(shown + ("……" if was_cut else ""))})
        history.append({"role": "assistant", "content": "正在查找相关政策……"})
        yield history, meta, ""
        try:
            final = None
            for text, final in kb.ask_stream(message, _turns(history[:-2], meta)):
                if final is None:
                    history[-1] = {"role": "assistant", "content": render.esc(text)}
                    yield history, meta, gr.skip()
            assert final is not None
            history[-1] = {"role": "assistant", "content": answer_html(final)}
            meta = {
                **meta,
                len(history) - 1: {
                    "question": message,
                    "answer": final.text,
                    "chunk_ids": [h.chunk.id for h in final.citations],
                    "doc_ids": list(dict.fromkeys(h.chunk.doc_id for h in final.citations)),
                    "bundle": kb.export(final),
                },
            }
        except KBError as exc:
            log.warning("question failed: %s", exc)
            history[-1] = {"role": "assistant", "content": render.esc(f"{SORRY}（{exc}）")}
        except Exception:
            log.exception("question failed")
            history[-1] = {"role": "assistant", "content": SORRY}
        # The box was cleared when the question was taken: leave alone whatever the user has typed since.
        yield history, meta, gr.skip()

    def export_last(meta: dict[int, dict]):
        """The last answer's provenance bundle as Markdown and JSON files, for the record."""
        entries = [meta[i] for i in sorted(meta) if meta[i].get("bundle")]
        if not entries:
            gr.Info("还没有可导出的答复。")
            return gr.update(visible=False, value=None)
        b = entries[-1]["bundle"]
        folder = Path(tempfile.mkdtemp(prefix="kb-export-"))
        stem = f"答复存档-{b['time'][:19].replace(':', '')}"
        md, js = folder / f"{stem}.md", folder / f"{stem}.json"
        md.write_text(to_markdown(b), encoding="utf-8")
        js.write_text(json.dumps(b, ensure_ascii=False, indent=1), encoding="utf-8")
        return gr.update(visible=True, value=[str(md), str(js)])

    def rate(meta: dict[int, dict], data: gr.LikeData):
        entry = meta.get(event_row(data.index))
        # The chat offers Like and Dislike (True, False); anything else a client sends is kept only if it is short.
        rating = "up" if data.liked is True else "down" if data.liked is False else limits.choice(data.liked)
        if entry is None or not rating:
            return None
        feedback.record(feedback_path, rating, entry["question"], entry["answer"], entry["chunk_ids"])
        gr.Info("感谢反馈！")
        return entry

    def send_comment(text: str, entry: dict | None):
        text = limits.cut(text, limits.MAX_COMMENT_CHARS)[0]
        if not text.strip():
            return ""
        if entry is None:
            gr.Warning("请先对一条回答点 👍 或 👎，再填写意见。")
            return text
        feedback.record(feedback_path, "comment", entry["question"], entry["answer"], entry["chunk_ids"], text.strip())
        gr.Info("意见已记录，谢谢！")
        return ""

    def open_doc(data: gr.EventData):
        payload = getattr(data, "_data", None)
        payload = payload if isinstance(payload, dict) else {}  # as the browser sends it, or nothing
        doc_id = unquote(limits.choice(payload.get("doc", "")))
        return _document(doc_id, payload.get("start"), payload.get("end"))

    def _document(doc_id: str, start: Any = None, end: Any = None) -> str:
        text = kb.document_text(doc_id)
        meta = next((d for d in kb.documents() if d["doc_id"] == doc_id), None)
        if text is None or meta is None:
            return '<div class="kb-empty">找不到这份文件，可能已从知识库中移除。</div>'
        try:
            s, e = int(start), int(end)
        except (TypeError, ValueError, OverflowError):  # OverflowError: an infinite float (JSON Infinity)
            s = e = None
        return render.document_view(meta, text, s, e)

    def lookup(
        query: str,
        doc_ids: list[str] | None,
        issuer: str | None,
        region: str | None,
        year: str | None,
        current_only: bool = False,
    ):
        year = pick(year, years, "年份")
        filters = Filters(
            current_only=bool(current_only),
            doc_ids=pick_all(doc_ids, doc_choices, "文件"),
            issuer=pick(issuer, issuers, "发文机关"),
            region=pick(region, regions, "地区"),
            date_from=f"{year}-01-01" if year else "",
            date_to=f"{year}-12-31" if year else "",
        )
        query, was_cut = clean_question(query)
        if not query.strip():
            return "", '<div class="kb-empty">请输入关键词或文号。</div>'
        try:
            hits = kb.search(query, k=10, filters=filters or None)
            answer = kb.ask(query, filters=filters or None, log_unanswered=False)
        except Exception:
            log.exception("lookup failed")
            return "", f'<div class="kb-empty">{SORRY}</div>'
        tokens = kb.retriever.store.lexical.tokenizer.tokenize(query)
        notice = TRUNCATED_NOTICE if was_cut else ""
        return notice + render.plain_text(answer), render.lookup_results(hits, tokens)

    def eligible(
        who: list[str] | None,
        starting: bool,
        field: str | None,
        region: str | None,
        firm: str | None,
        hiring: str | None,
    ):
        firm = pick(firm, elig.FIRMS, "经营主体")
        profile = elig.Profile(
            identities=pick_all(who, elig.IDENTITY_WORDS, "身份"),
            field=pick(field, elig.FIELD_CHOICES, "领域"),
            region=pick(region, PROVINCES, "所在省份"),
            firm=firm,
            hiring=HIRING_CHOICES[pick(hiring, HIRING_CHOICES, "是否招用员工") or "不确定"],
            starting=bool(starting) or firm == "尚未创办",
        )
        if not profile:
            return "", '<div class="kb-empty">请至少选择身份、领域、省份或经营主体中的一项。</div>'
        try:
            answer = kb.eligibility(profile, f"我能申请吗：{profile.describe()}")
        except Exception:
            log.exception("eligibility failed")
            return "", f'<div class="kb-empty">{SORRY}</div>'
        return render.plain_text(answer), cards_view.eligibility_html(answer, status_of) + render.sources_block(answer)

    def show_cards(text: str, who: str | None, kind: str | None, current_only: bool):
        who, kind = pick(who, groups, "支持对象"), pick(kind, KINDS, "支持方式")
        try:
            words = limits.cut(text, limits.MAX_TERMS_CHARS)[0]
            found = kb.cards(words, who, kind, bool(current_only))
        except Exception:
            log.exception("cards failed")
            return f'<div class="kb-empty">{SORRY}</div>'
        return cards_view.cards_list(found, status_of)

    def open_row(evt: gr.SelectData):
        row = event_row(evt.index)
        return _document(docs[row]["doc_id"]) if row is not None and 0 <= row < len(docs) else gr.skip()

    for trigger in (send.click, question.submit):
        trigger(respond, [question, chatbot, meta_state], [chatbot, meta_state, question])
    chatbot.like(rate, [meta_state], [last_rated])
    comment_btn.click(send_comment, [comment, last_rated], [comment])
    clear.click(lambda: ([], {}, None), None, [chatbot, meta_state, last_rated])
    export_btn.click(export_last, [meta_state], [export_files])
    viewer.click(open_doc, None, viewer)
    for trigger in (search_btn.click, terms.submit):
        trigger(lookup, [terms, f_doc, f_issuer, f_region, f_year, f_current], [copy_box, results], preprocess=False)
    table.select(open_row, None, viewer)
    columns = ("title", "status", "doc_no", "issuer", "signed", "published", "region", "chunks", "ingested_at")
    rows = [[d[k] for k in columns] for d in docs]
    app.load(lambda: (rows, cards_view.cards_list(kb.cards(), status_of)), None, [table, c_out])
    e_btn.click(eligible, [e_who, e_start, e_field, e_region, e_firm, e_hiring], [e_copy, e_out], preprocess=False)
    for trigger in (c_btn.click, c_text.submit):
        trigger(show_cards, [c_text, c_who, c_kind, c_current], [c_out], preprocess=False)

    def ask(question: str) -> dict:
        """Ask the knowledge base; returns the JSON answer (question, answer, refused, citations, timings_ms)."""
        return answer_json(kb.ask(question))

    gr.api(ask, api_name="ask")
