"""咨询: the chat, with sources under each answer, 👍/👎 and comments, and the provenance export."""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

import gradio as gr

from kb import KBError, limits
from kb.export import to_markdown
from kb.query import Turn
from kb.service import KnowledgeBase
from kb.types import Answer

from .. import cards_view, feedback, render
from ..choices import event_row
from . import SORRY

log = logging.getLogger(__name__)

EXAMPLES = [
    "我想开一家家政服务公司，有什么扶持政策？",
    "做养老托育的创业项目能得到哪些支持？",
    "返乡做乡村旅游创业，文件里怎么说？",
    "家电回收领域的示范方向是什么？",
    "个人创业担保贷款最多能贷多少？",
    "我是退役军人，想做家政，有什么支持？",
]


def turns(history: list[dict], meta: dict[int, dict]) -> list[Turn]:
    """The earlier turns the knowledge base reads a follow-up in (the last three answered ones)."""
    out = []
    for i, message in enumerate(history):
        if message.get("role") == "assistant" and i in meta:
            out.append(Turn(meta[i]["question"], meta[i]["answer"], meta[i]["doc_ids"]))
    return out[-3:]


# The chat does not follow the text to its end (autoscroll=False): a question shows at the bottom of the chat, and
# the finished answer from its first line (its sources are folded under it), the page scrolled too if the chat is
# out of sight (a phone).
SHOW_QUESTION_JS = """() => setTimeout(() => {
  const rows = document.querySelectorAll('#kb-chat .message-row, #kb-chat [data-testid="user"]');
  let box = rows.length ? rows[rows.length - 1].parentElement : null;
  while (box && box.scrollHeight <= box.clientHeight) box = box.parentElement;
  if (box && box !== document.documentElement) box.scrollTop = box.scrollHeight;
}, 150)"""
SHOW_ANSWER_JS = """() => setTimeout(() => {
  const all = document.querySelectorAll('#kb-chat .kb-answer, #kb-chat .kb-eligibility');
  const last = all[all.length - 1];
  const a = last && (last.closest('.kb-eligibility') || last);  // a 我能申请吗 answer: from its first line
  if (!a || Date.now() - (window.__kbOpenedAt || 0) < 2000) return;  // a 查看原文 was clicked meanwhile: stay there
  let box = a.parentElement;
  while (box && box.scrollHeight <= box.clientHeight) box = box.parentElement;
  if (box && box !== document.documentElement && box !== document.body) {
    box.scrollTop += a.getBoundingClientRect().top - box.getBoundingClientRect().top - 40;  // under the label
  }
  const top = a.getBoundingClientRect().top;
  if (top < 0 || top > window.innerHeight - 80) window.scrollBy({top: top - 12, behavior: 'instant'});
}, 150)"""


class Chat:
    """The 咨询 tab. The session state `meta` maps a chat index to what was answered there (question, text, cited
    chunks and documents, the export bundle)."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.feedback_path = kb.settings.data_dir / "feedback.jsonl"
        self.chatbot = gr.Chatbot(
            label="政策咨询",
            height=560,
            autoscroll=False,
            buttons=["copy"],
            feedback_options=("Like", "Dislike"),
            placeholder="请描述您的情况或问题，例如：个人创业担保贷款最多能贷多少？",
            elem_id="kb-chat",
        )
        with gr.Row():
            question = gr.Textbox(show_label=False, placeholder="输入问题，按回车发送", scale=5, elem_id="kb-question")
            send = gr.Button("发送", variant="primary", scale=1, min_width=80, elem_id="kb-send")
        gr.Examples(EXAMPLES, inputs=question, label="示例问题（点击填入）")
        with gr.Row():
            comment = gr.Textbox(show_label=False, placeholder="对上一条回答的意见（可选）", scale=5)
            comment_btn = gr.Button("提交意见", scale=1, min_width=80)
        with gr.Row():
            clear = gr.Button("清空对话", size="sm")
            export_btn = gr.Button("导出上一条答复存档（含出处与知识库版本）", size="sm", elem_id="kb-export")
        export_files = gr.File(label="答复存档", file_count="multiple", visible=False, elem_id="kb-export-files")
        meta_state = gr.State({})
        last_rated = gr.State(None)
        for trigger in (send.click, question.submit):
            trigger(None, js=SHOW_QUESTION_JS)
            trigger(self.respond, [question, self.chatbot, meta_state], [self.chatbot, meta_state, question]).then(
                None, js=SHOW_ANSWER_JS
            )
        self.chatbot.like(self.rate, [meta_state], [last_rated])
        comment_btn.click(self.send_comment, [comment, last_rated], [comment])
        clear.click(lambda: ([], {}, None), None, [self.chatbot, meta_state, last_rated])
        export_btn.click(self.export_last, [meta_state], [export_files])

    def answer_html(self, answer: Answer) -> str:
        if answer.profile is not None:  # 我能申请吗: the measures as cards, each condition marked
            return cards_view.eligibility_html(answer, self.kb.status_of) + render.sources_block(answer)
        return render.chat_message(answer) + cards_view.measure_notes(answer, self.kb.status_of)

    def respond(self, message: str, history: list[dict], meta: dict[int, dict]):  # type: ignore[no-untyped-def]
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
            for text, final in self.kb.ask_stream(message, turns(history[:-2], meta)):
                if final is None:
                    history[-1] = {"role": "assistant", "content": render.esc(text)}
                    yield history, meta, gr.skip()
            assert final is not None
            history[-1] = {"role": "assistant", "content": self.answer_html(final)}
            meta = {
                **meta,
                len(history) - 1: {
                    "question": message,
                    "answer": final.text,
                    "chunk_ids": [h.chunk.id for h in final.citations],
                    "doc_ids": list(dict.fromkeys(h.chunk.doc_id for h in final.citations)),
                    "bundle": self.kb.export(final),
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

    def export_last(self, meta: dict[int, dict]):  # type: ignore[no-untyped-def]
        """The last answer's provenance bundle as Markdown and JSON files, for the record."""
        entries = [meta[i] for i in sorted(meta) if meta[i].get("bundle")]
        if not entries:
            gr.Info("还没有可导出的答复。", title="提示")
            return gr.update(visible=False, value=None)
        b = entries[-1]["bundle"]
        folder = Path(tempfile.mkdtemp(prefix="kb-export-"))
        stem = f"答复存档-{b['time'][:19].replace(':', '')}"
        md, js = folder / f"{stem}.md", folder / f"{stem}.json"
        md.write_text(to_markdown(b), encoding="utf-8")
        js.write_text(json.dumps(b, ensure_ascii=False, indent=1), encoding="utf-8")
        return gr.update(visible=True, value=[str(md), str(js)])

    def rate(self, meta: dict[int, dict], data: gr.LikeData):  # type: ignore[no-untyped-def]
        entry = meta.get(event_row(data.index))
        # The chat offers Like and Dislike (True, False); anything else a client sends is kept only if it is short.
        rating = "up" if data.liked is True else "down" if data.liked is False else limits.choice(data.liked)
        if entry is None or not rating:
            return None
        feedback.record(self.feedback_path, rating, entry["question"], entry["answer"], entry["chunk_ids"])
        gr.Info("感谢反馈！", title="提示")
        return {**entry, "rating": rating}  # the comment that follows goes with this rating

    def send_comment(self, text: str, entry: dict | None) -> str:
        text = limits.cut(text, limits.MAX_COMMENT_CHARS)[0]
        if not text.strip():
            return ""
        if entry is None:
            gr.Warning("请先对一条回答点 👍 或 👎，再填写意见。", title="注意")
            return text
        path = self.feedback_path
        rated = str(entry.get("rating", ""))
        feedback.record(path, "comment", entry["question"], entry["answer"], entry["chunk_ids"], text.strip(), rated)
        gr.Info("意见已记录，谢谢！", title="提示")
        return ""
