"""原文: the whole document beside the tabs, opened at a cited passage by any 查看原文 link or a 文件库 row."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import gradio as gr

from kb import limits
from kb.service import KnowledgeBase

from .. import render

HINT = "点击回答或检索结果中的“查看原文”，在这里阅读整份文件，引用的段落会高亮显示。"
# Installs one click handler for every "查看原文" link (chat, lookup, cards, 文件库) and for the viewer's 返回 link.
# When the document arrives the viewer scrolls to its highlight and, where the viewer is out of sight (a phone, where
# it sits below the tabs), the page scrolls to it; 返回 goes back to the link that opened it.
JS = """
const bring = (tries = 40) => {
  const box = element.querySelector('.kb-scroll');
  // The new value may be drawn a moment after it is set: wait (up to 2 s) for the document the link asked for.
  if ((!box || (window.__kbGo && box.dataset.open !== window.__kbWant)) && tries > 0) {
    setTimeout(() => bring(tries - 1), 50);
    return;
  }
  if (!box) return;
  const m = box.querySelector('mark');
  const back = box.querySelector('.kb-back');
  box.scrollTop = m ? Math.max(0, m.offsetTop - box.offsetTop - box.clientHeight / 3) : 0;
  if (!window.__kbGo) return;
  window.__kbGo = false;
  const target = (m || box).getBoundingClientRect();
  if (target.top < 0 || target.bottom > window.innerHeight) {
    window.scrollBy({top: box.getBoundingClientRect().top - 8, behavior: 'instant'});
  }
  (back || box).focus({preventScroll: true});
};
if (!window.__kbOpen) {
  window.__kbOpen = true;
  document.addEventListener('click', (e) => {
    const back = e.target.closest && e.target.closest('a.kb-back');
    if (back) {
      e.preventDefault();
      const from = window.__kbFrom;
      if (from && from.isConnected) { from.scrollIntoView({block: 'center', behavior: 'instant'}); from.focus(); }
      else window.scrollTo({top: 0, behavior: 'instant'});
      return;
    }
    const a = e.target.closest && e.target.closest('a.kb-open');
    if (!a) return;
    e.preventDefault(); e.stopPropagation();
    const parts = (a.getAttribute('href') || '').split('/');
    window.__kbFrom = a; window.__kbGo = true; window.__kbOpenedAt = Date.now();
    window.__kbWant = parts.slice(1, 4).join('/');
    const shown = element.querySelector('.kb-scroll');
    if (shown && shown.dataset.open === window.__kbWant) { bring(); return; }  // already open there
    trigger('click', {doc: decodeURIComponent(parts[1] || ''), start: +parts[2], end: +parts[3]});
  }, true);
}
watch('value', () => bring());
"""


class Viewer:
    """The 原文 column and the handler its links call."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        gr.Markdown("### 原文")
        self.html = gr.HTML(f'<div class="kb-empty">{HINT}</div>', js_on_load=JS, elem_id="kb-viewer")
        self.html.click(self.open_doc, None, self.html)

    def open_doc(self, data: gr.EventData) -> str:
        payload = getattr(data, "_data", None)
        payload = payload if isinstance(payload, dict) else {}  # as the browser sends it, or nothing
        doc_id = unquote(limits.choice(payload.get("doc", "")))
        return self.document(doc_id, payload.get("start"), payload.get("end"))

    def document(self, doc_id: str, start: Any = None, end: Any = None) -> str:
        text = self.kb.document_text(doc_id)
        meta = next((d for d in self.kb.documents() if d["doc_id"] == doc_id), None)
        if text is None or meta is None:
            return '<div class="kb-empty">找不到这份文件，可能已从知识库中移除。</div>'
        try:
            s, e = int(start), int(end)
        except (TypeError, ValueError, OverflowError):  # OverflowError: an infinite float (JSON Infinity)
            s = e = None
        return render.document_view(meta, text, s, e)
