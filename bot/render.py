"""HTML and text for the web chat. Every piece of document text and user input is escaped here."""

from __future__ import annotations

import html
import re
import string
from datetime import datetime
from urllib.parse import quote

from kb.lookup import DocumentCard
from kb.types import Answer, Hit

_SENTENCE = re.compile(r"[^。！？；\n]+[。！？；]?")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def esc(text: str) -> str:
    return html.escape(text or "", quote=True)


_INERT = {ord(ch): f"&#{ord(ch)};" for ch in string.punctuation}


def inert(text: str) -> str:
    """A user's own words for a Markdown view: every ASCII punctuation mark as a character reference, so that no
    tag, image, link, autolink or emphasis can be made of them; the words read as typed."""
    return (text or "").translate(_INERT)


def cn_date(iso: str) -> str:
    if not iso or iso.count("-") != 2:
        return iso or ""
    y, m, d = iso.split("-")
    return f"{int(y)}年{int(m)}月{int(d)}日"


def open_href(doc_id: str, start: int, end: int) -> str:
    """The target the page script turns into "open this document at this place" (see app.VIEWER_JS)."""
    return f"#kb-open/{quote(doc_id, safe='')}/{start}/{end}"


def open_link(hit: Hit, label: str = "查看原文") -> str:
    return f'<a class="kb-open" href="{open_href(hit.chunk.doc_id, hit.chunk.start, hit.chunk.end)}">{esc(label)}</a>'


def _core(text: str) -> str:
    return "".join(_CJK.findall(text))


def highlight_passage(passage: str, answer_text: str, question: str) -> str:
    """The passage, escaped, with the sentences the answer quotes (or else the closest one) in <mark>."""
    sentences = [m.group(0) for m in _SENTENCE.finditer(passage)]
    answer_core = _core(answer_text)
    quoted = {i for i, s in enumerate(sentences) if len(_core(s)) >= 8 and _core(s)[:24] in answer_core}
    if not quoted and sentences:
        q = _core(question)
        grams = {q[i : i + 2] for i in range(len(q) - 1)}
        scores = [len(grams & {_core(s)[i : i + 2] for i in range(len(_core(s)) - 1)}) for s in sentences]
        if max(scores, default=0) > 0:
            quoted = {scores.index(max(scores))}
    out = []
    for i, sentence in enumerate(sentences):
        piece = esc(sentence).replace("\n", "<br>")
        out.append(f"<mark>{piece}</mark>" if i in quoted else piece)
    return "".join(out)


def source_card(n: int, hit: Hit, answer_text: str, question: str) -> str:
    meta = hit.chunk.meta
    details = " · ".join(
        part
        for part in (
            esc(meta.issuer),
            f"成文 {esc(meta.signed)}" if meta.signed else "",
            esc(hit.chunk.section),
            f"第{hit.chunk.page}页" if hit.chunk.page else "",
        )
        if part
    )
    number = f"（{esc(meta.doc_no)}）" if meta.doc_no else ""
    return (
        f'<div class="kb-src"><div class="kb-src-head"><b>[{n}] 《{esc(meta.title)}》</b>{number}</div>'
        f'<div class="kb-src-meta">{details}</div>'
        f'<blockquote class="kb-passage">{highlight_passage(hit.chunk.text, answer_text, question)}</blockquote>'
        f"{open_link(hit)}{also_line(hit)}</div>"
    )


def also_titles(hit: Hit) -> list[str]:
    """Other documents that carry the same passage (near-duplicates folded into this hit)."""
    return list(dict.fromkeys(c.meta.title for c in hit.also if c.meta.title != hit.chunk.meta.title))[:3]


def also_line(hit: Hit) -> str:
    titles = also_titles(hit)
    if not titles:
        return ""
    return '<div class="kb-src-meta">亦见于：' + "、".join(f"《{esc(t)}》" for t in titles) + "</div>"


def chat_message(answer: Answer) -> str:
    """What the assistant says in the chat: the answer, its sources, and the reminder to check the original."""
    body = esc(answer.text).replace("\n", "<br>")
    if answer.refused or not answer.citations:
        return f'<div class="kb-answer kb-refusal">{body}</div>'
    if answer.status == "closest":  # hedged: the nearest passages, not an answer; said in words and marked
        badge = '<span class="kb-badge kb-closest-badge">仅供参考：未找到直接答复</span>'
        return f'<div class="kb-answer kb-closest">{badge}<br>{body}</div>' + sources_block(answer)
    return f'<div class="kb-answer">{body}</div>' + sources_block(answer)


def sources_block(answer: Answer) -> str:
    """The cited passages, folded under the answer, and the reminder that the original text prevails."""
    if not answer.citations:
        return ""
    cards = "".join(source_card(n, hit, answer.text, answer.question) for n, hit in enumerate(answer.citations, 1))
    dates = sorted({h.chunk.meta.signed for h in answer.citations if h.chunk.meta.signed}, reverse=True)
    date_note = f"（文件日期：{'、'.join(cn_date(d) for d in dates[:3])}）" if dates else ""
    return (
        f'<details class="kb-sources"><summary>来源（{len(answer.citations)}）</summary>{cards}</details>'
        f'<p class="kb-note">以政策原文为准{date_note}。</p>'
    )


def plain_text(answer: Answer) -> str:
    """The answer and its citations as plain text for hotline staff: 「…[1]\\n[1]《title》（文号）section」."""
    lines = [answer.text]
    for n, hit in enumerate(answer.citations, start=1):
        meta = hit.chunk.meta
        number = f"（{meta.doc_no}）" if meta.doc_no else ""
        section = hit.chunk.section.replace(" › ", " ") if hit.chunk.section else ""
        lines.append(f"[{n}]《{meta.title}》{number}{section}")
    return "\n".join(lines)


def document_view(meta: dict, text: str, start: int | None = None, end: int | None = None) -> str:
    """The whole cleaned document, escaped, with the cited passage marked (the page script scrolls to it)."""
    marked = start is not None and end is not None and 0 <= start < end <= len(text)
    paragraphs, offset = [], 0
    for line in text.split("\n"):
        lo, hi = offset, offset + len(line)
        offset = hi + 1
        if not line.strip():
            continue
        if marked and lo < end and start < hi:  # this paragraph holds part of the passage: mark that part
            a, b = max(start, lo) - lo, min(end, hi) - lo
            line_html = esc(line[:a]) + "<mark>" + esc(line[a:b]) + "</mark>" + esc(line[b:])
        else:
            line_html = esc(line)
        paragraphs.append(f"<p>{line_html}</p>")
    paragraphs = "".join(paragraphs)
    facts = " · ".join(
        part
        for part in (
            esc(meta.get("doc_no", "")),
            esc(meta.get("issuer", "")),
            f"成文 {esc(meta['signed'])}" if meta.get("signed") else "",
            f"发布 {esc(meta['published'])}" if meta.get("published") else "",
            esc(meta.get("region", "")),
        )
        if part
    )
    return (
        f'<div class="kb-scroll" tabindex="-1" data-open="{quote(meta.get("doc_id", ""), safe="")}/{start}/{end}">'
        '<a class="kb-back" href="#kb-back">← 返回刚才的位置</a>'
        f'<article class="kb-doc"><h3>{esc(meta.get("title", ""))}</h3>'
        f'<div class="kb-src-meta">{facts}</div>'
        f'<div class="kb-doc-source">来源文件：{esc(meta.get("source", ""))}</div>{paragraphs}</article></div>'
    )


LIBRARY_COLUMNS = (
    ("title", "标题"), ("status", "状态"), ("doc_no", "文号"), ("issuer", "发文机关"), ("signed", "成文日期"),
    ("published", "发布日期"), ("region", "地区"), ("chunks", "条文块数"), ("ingested_at", "入库时间"),
)  # fmt: skip


def local_time(iso: str) -> str:
    """An ISO timestamp as 2026-11-29 14:05 in the server's time zone; anything else as it is."""
    try:
        moment = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return iso or ""
    return (moment.astimezone() if moment.tzinfo else moment).strftime("%Y-%m-%d %H:%M")


def library_table(docs: list[dict]) -> str:
    """文件库: one row per document, its title a link that opens it; on a phone each row shows as a card whose
    cells carry their column's name (data-label, see the app's CSS)."""
    if not docs:
        return '<div class="kb-empty">知识库中还没有文件。</div>'
    head = "".join(f'<th role="columnheader" class="kb-lib-{k}">{label}</th>' for k, label in LIBRARY_COLUMNS)
    rows = []
    for d in docs:
        cells = []
        for key, label in LIBRARY_COLUMNS:
            value = str(d.get(key, "") if d.get(key) is not None else "")
            if key == "title":
                inner = f'<a class="kb-open" href="{open_href(d["doc_id"], 0, 0)}">{esc(value)}</a>'
            elif key == "status":
                inner = f'<span class="kb-badge{" kb-ok" if value == "现行" else ""}">{esc(value)}</span>'
            elif key == "ingested_at":
                inner = esc(local_time(value))
            else:
                inner = esc(value)
            cells.append(f'<td role="cell" class="kb-lib-{key}" data-label="{label}">{inner}</td>')
        rows.append(f'<tr role="row">{"".join(cells)}</tr>')
    return (
        f'<table class="kb-library" role="table"><thead><tr role="row">{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _mark_terms(text: str, terms: list[str]) -> str:
    """Mark every search term in one pass (longest first, so marks never nest), escaping the text around them.

    Terms are matched in the raw text, not the escaped one, so that a term such as "lt" cannot split "&lt;".
    """
    wanted = sorted({t for t in terms if len(t) >= 2}, key=len, reverse=True)
    if not wanted:
        return esc(text).replace("\n", "<br>")
    pieces = re.split("(" + "|".join(re.escape(t) for t in wanted) + ")", text)  # odd pieces are the terms
    marked = "".join(f"<mark>{esc(p)}</mark>" if i % 2 else esc(p) for i, p in enumerate(pieces))
    return marked.replace("\n", "<br>")


def _place_link(doc_id: str, start: int, end: int, label: str) -> str:
    return f'<a class="kb-open" href="{open_href(doc_id, start, end)}">{esc(label)}</a>'


def _folded(label: str, items: list[str], tag: str = "ul") -> str:
    if not items:
        return ""
    inner = "".join(f"<li>{item}</li>" for item in items)
    return f'<details open><summary>{label}（{len(items)}）</summary><{tag} class="kb-plain">{inner}</{tag}></details>'


def document_card(card: DocumentCard) -> str:
    """The 检索 card of the document a 文号 or a title names: its facts and status, 主送, its sections and its
    measures, each section and measure a link that opens the document there."""
    current = card.status == "现行"
    badge = f'<span class="kb-badge{" kb-ok" if current else ""}">{esc(card.status)}</span>'
    facts = [
        ("文号", card.doc_no),
        ("发文机关", card.issuer),
        ("成文日期", cn_date(card.signed)),
        ("发布日期", cn_date(card.published)),
        ("状态说明", "" if current else card.status_reason),
        ("地区", "" if card.region == "国家" else card.region),
        ("主送", card.addressees or "文件开头未列主送机关"),
    ]
    rows = "".join(
        f'<div class="kb-card-row"><span class="kb-card-label">{label}</span>{esc(value)}</div>'
        for label, value in facts
        if value
    )
    sections = [_place_link(card.doc_id, s.start, s.start + len(s.title), s.title) for s in card.sections]
    measures = [
        _place_link(card.doc_id, m.start, m.end, m.name)
        + (f'<span class="kb-src-meta"> · {esc("、".join(m.values("kinds")))}</span>' if m.kinds else "")
        for m in card.measures
    ]
    return (
        f'<div class="kb-doccard"><div class="kb-card-head"><b>《{esc(card.title)}》</b> {badge}</div>{rows}'
        f"{_folded('章节', sections, 'ol')}{_folded('主要措施', measures)}"
        f'<div class="kb-card-foot">{open_link(card.head, "查看原文")}</div></div>'
    )


def lookup_results(hits: list[Hit], terms: list[str], card: DocumentCard | None = None, searched: str = "") -> str:
    """The passages of a lookup, ranked, with the words searched for marked; under a document's card, a line says
    which document and which words they are ranked for (or how to search inside the document)."""
    if card is not None and not searched:
        example = esc(card.doc_no or f"《{card.title}》")
        return (
            f'<div class="kb-empty">在文号或标题后加上关键词（如「{example} 补贴」），可查看本文件中的相关条文。</div>'
        )
    head = f'<div class="kb-src-meta">本文件中与「{esc(searched)}」最相关的条文：</div>' if card is not None else ""
    if not hits:
        return head + '<div class="kb-empty">没有找到匹配的条文。可以换个关键词，或去掉筛选条件再试。</div>'
    cards = [head]
    for n, hit in enumerate(hits, start=1):
        meta = hit.chunk.meta
        number = f"（{esc(meta.doc_no)}）" if meta.doc_no else ""
        cards.append(
            f'<div class="kb-src"><div class="kb-src-head"><b>{n}. 《{esc(meta.title)}》</b>{number}</div>'
            f'<div class="kb-src-meta">{esc(meta.issuer)} · {esc(meta.signed)} · {esc(hit.chunk.section)}</div>'
            f'<blockquote class="kb-passage">{_mark_terms(hit.chunk.text, terms)}</blockquote>{open_link(hit)}</div>'
        )
    return "".join(cards)


def missing_index_page(reason: str) -> str:
    return (
        '<div class="kb-missing"><h2>知识库还没有建立索引</h2>'
        f"<p>{esc(reason)}</p><p>请在项目目录运行：<code>python ingest.py</code>，"
        "完成后重新启动：<code>python -m bot</code>。</p></div>"
    )
