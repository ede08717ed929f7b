"""HTML for support-measure cards (政策措施卡片) and 我能申请吗 answers. Every value links to its place in the text."""

from __future__ import annotations

from collections.abc import Callable

from kb.cards import Card, Span
from kb.eligibility import FOLLOW_UP, HEAD, MARK, MET, NOT_MET, Match, Profile
from kb.types import Answer

from .render import esc, open_href

StatusOf = Callable[[str], str]  # doc_id → 现行 / 已失效 / …
_STATE_CLASS = {MET: "kb-met", NOT_MET: "kb-notmet"}
_ROWS = (
    ("who", "支持对象"),
    ("kinds", "支持方式"),
    ("amounts", "额度"),
    ("ratios", "比例"),
    ("conditions", "条件"),
    ("window", "期限"),
    ("departments", "负责部门"),
)


def span_link(card: Card, span: Span, label: str | None = None) -> str:
    """A value that opens the document at the place it was read from (app.VIEWER_JS handles a.kb-open)."""
    target = open_href(card.doc_id, span.start, span.end)
    return f'<a class="kb-open kb-val" href="{target}" title="查看原文">{esc(label or span.text)}</a>'


def card_html(card: Card, status: str = "", conditions: str = "") -> str:
    number = f"（{esc(card.doc_no)}）" if card.doc_no else ""
    badge = f' <span class="kb-badge">{esc(status)}</span>' if status and status != "现行" else ""
    rows = []
    for name, label in _ROWS:
        spans = getattr(card, name)
        if not spans:
            continue
        values = "、".join(span_link(card, s, s.text if name not in ("who", "kinds") else s.value) for s in spans)
        rows.append(f'<div class="kb-card-row"><span class="kb-card-label">{label}</span>{values}</div>')
    whole = Span(card.name, card.name, card.start, card.end, card.chunk_id)
    return (
        f'<div class="kb-card">'
        f'<div class="kb-card-head"><b>{esc(card.name)}</b>{badge}</div>'
        f'<div class="kb-src-meta">《{esc(card.title)}》{number}'
        f"{' · ' + esc(card.region) if card.region and card.region != '国家' else ''}</div>"
        f"{''.join(rows)}{conditions}"
        f'<div class="kb-card-foot">{span_link(card, whole, "查看原文")}</div></div>'
    )


def match_html(m: Match, status: str = "") -> str:
    items = []
    for c in m.conditions:
        cite = f" {span_link(m.card, c.span, '出处')}" if c.span is not None else ""
        css = _STATE_CLASS.get(c.state, "kb-unknown")
        items.append(f'<li class="{css}"><b>{MARK[c.state]} {esc(c.label)}</b>：{esc(c.detail)}{cite}</li>')
    return card_html(m.card, status, f'<ul class="kb-conds">{"".join(items)}</ul>')


def cards_list(cards: list[Card], status_of: StatusOf) -> str:
    if not cards:
        return '<div class="kb-empty">没有符合条件的措施卡片。可以换个关键词，或去掉筛选条件再试。</div>'
    head = f'<div class="kb-src-meta">共 {len(cards)} 项措施（由规则从原文中读取，以原文为准）</div>'
    return head + "".join(card_html(c, status_of(c.doc_id)) for c in cards)


def eligibility_html(answer: Answer, status_of: StatusOf) -> str:
    """A 我能申请吗 answer: the situation as understood, each matching measure with its conditions, the questions."""
    profile: Profile = answer.profile
    lines = answer.text.split("\n")
    head = esc(next((ln for ln in lines if ln.startswith(HEAD)), lines[0]))
    asks = next((ln for ln in lines if ln.startswith(FOLLOW_UP)), "")
    body = "".join(match_html(m, status_of(m.card.doc_id)) for m in answer.matches)
    if not answer.matches:
        body = '<div class="kb-empty">知识库中没有找到与您情况相符的措施。</div>'
    direct = ""
    if answer.direct:  # the clauses that answer the question as asked (or that none does), before the measures
        hedged = answer.status == "closest"
        badge = '<span class="kb-badge kb-closest-badge">仅供参考：未找到直接答复</span><br>' if hedged else ""
        css = "kb-answer kb-direct kb-closest" if hedged else "kb-answer kb-direct"
        direct = f'<div class="{css}">{badge}{esc(answer.direct).replace(chr(10), "<br>")}</div>'
    return (
        f'<div class="kb-eligibility">{direct}'
        f'<div class="kb-profile">您的情况：{esc(profile.describe())}</div>'
        f'<div class="kb-answer">{head}</div>{body}'
        + (f'<div class="kb-asks">{esc(asks)}</div>' if asks else "")
        + '<p class="kb-note">以上为文件中措施的要点，能否享受以当地主管部门审核为准。</p></div>'
    )


def measure_notes(answer: Answer, status_of: StatusOf) -> str:
    """The cards of the measures an ordinary answer quotes, folded under it."""
    if not answer.cards:
        return ""
    inner = "".join(card_html(c, status_of(c.doc_id)) for c in answer.cards)
    return f'<details class="kb-measures"><summary>措施要点（{len(answer.cards)}）</summary>{inner}</details>'
