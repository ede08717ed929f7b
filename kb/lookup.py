"""检索 for hotline staff: the document a 文号 or a title names, as a card (its facts, status, 主送, sections and
measures, with a citable summary), and the passages ranked for the other words typed.

`KnowledgeBase.lookup` wires it to one retrieval; this module only reads what the query names and what a
document's text and cards say about it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .answer import addressees
from .cards import Card
from .meta import doc_numbers_in
from .types import Answer, Hit

# A query that is part of a title names that document when it is this long and covers this much of the title
# (「促进就业工作的若干意见」); a shorter one is a keyword (「政府性融资担保」 is in a title, and in many passages).
TITLE_MIN_CHARS = 8
TITLE_MIN_SHARE = 0.5
SHOWN_MEASURES = 8  # measures named in the copyable summary (the card lists them all)
_HEADING = re.compile(r"^\s*([一二三四五六七八九十]+、\S{2,40})\s*$")
_QUOTED = re.compile(r"《([^《》]{2,80})》")
_NUMBER = re.compile(r"^(.+?)〔(\d{4})〕(\d+)号$")


@dataclass(frozen=True)
class Section:
    """A top-level section (「一、支持企业稳定发展」) and where it runs in the cleaned text."""

    title: str
    start: int
    end: int


@dataclass(frozen=True)
class DocumentCard:
    """What a hotline operator needs to know about one document first."""

    doc_id: str
    title: str
    doc_no: str
    issuer: str
    signed: str  # ISO dates, as in DocMeta
    published: str
    region: str
    status: str  # 现行, 已失效, … (kb/validity.py), as of today
    status_reason: str
    addressees: str  # 主送, from the document's head ("" when it lists none)
    head: Hit  # the document's first passage: the summary's facts cite it
    sections: tuple[Section, ...] = ()
    measures: tuple[Card, ...] = ()


@dataclass
class Lookup:
    """One lookup: the card of the document the query names (or None), the passages, and the copyable text."""

    query: str  # as cleaned
    searched: str  # what the passages were ranked for: the other words, the title, or the whole query
    document: DocumentCard | None
    hits: list[Hit]
    answer: Answer  # the copyable text with its citations: the document's summary, or the answer the passages give
    terms: list[str] = field(default_factory=list)  # the words to mark in the passages
    cut: bool = False  # the query was cut to MAX_QUESTION_CHARS


def _core(text: str) -> str:
    return re.sub(r"[\s\W_]+", "", text)


def named_document(text: str, docs: Mapping[str, Mapping[str, str]]) -> tuple[str, str] | None:
    """(doc_id, the other words) when the query names a stored document by its 文号, by its title (whole, in 《》, or
    a long enough part of it); None for a keyword query. `docs` maps doc_id → its metadata (title, doc_no)."""
    by_no = {meta["doc_no"]: doc_id for doc_id, meta in docs.items() if meta.get("doc_no")}
    for number in doc_numbers_in(text):
        if number in by_no:
            return by_no[number], _without_number(text, number)
    titles = {doc_id: _core(meta.get("title", "")) for doc_id, meta in docs.items() if meta.get("title")}
    query = _core(text)
    whole = [doc_id for doc_id, title in titles.items() if title and title in query]
    if whole:
        doc_id = max(whole, key=lambda d: len(titles[d]))
        return doc_id, query.replace(titles[doc_id], "", 1)
    for quoted in _QUOTED.finditer(text):
        inside = _core(quoted[1])
        holders = [doc_id for doc_id, title in titles.items() if len(inside) >= 4 and inside in title]
        if len(holders) == 1:
            return holders[0], text.replace(quoted[0], " ")
    part = [
        doc_id
        for doc_id, title in titles.items()
        if len(query) >= TITLE_MIN_CHARS and query in title and len(query) >= TITLE_MIN_SHARE * len(title)
    ]
    return (part[0], "") if len(part) == 1 else None


def _without_number(text: str, number: str) -> str:
    """The query without the 文号, however it was typed (「国发[2018]39号」, 「国发（2018）39号」)."""
    m = _NUMBER.match(number)
    if m is None:
        return text.replace(number, " ")
    prefix, year, num = m.groups()
    loose = rf"{re.escape(prefix)}\s*\W?\s*{year}\s*\W?\s*{num}\s*号"
    return re.sub(loose, " ", text)


def sections_of(text: str) -> tuple[Section, ...]:
    """The top-level sections (一、二、…) of a cleaned text, each running to the next."""
    heads = []
    offset = 0
    for line in text.split("\n"):
        m = _HEADING.match(line)
        if m:
            heads.append((m[1], offset + m.start(1)))
        offset += len(line) + 1
    ends = [start for _title, start in heads[1:]] + [len(text.rstrip())]
    return tuple(Section(title, start, end) for (title, start), end in zip(heads, ends, strict=True))


def document_card(head: Hit, text: str, measures: Sequence[Card], status: str, status_reason: str) -> DocumentCard:
    """The card of one document: `head` is its first passage, `text` its cleaned text, `measures` its cards."""
    meta = head.chunk.meta
    return DocumentCard(
        doc_id=meta.doc_id,
        title=meta.title,
        doc_no=meta.doc_no,
        issuer=meta.issuer,
        signed=meta.signed,
        published=meta.published,
        region=meta.region,
        status=status,
        status_reason=status_reason,
        addressees=addressees(head.chunk.text),
        head=head,
        sections=sections_of(text),
        measures=tuple(measures),
    )


def _cn_date(iso: str) -> str:
    parts = iso.split("-")
    return f"{int(parts[0])}年{int(parts[1])}月{int(parts[2])}日" if len(parts) == 3 else iso


def summary(card: DocumentCard) -> Answer:
    """The card as a citable text for the copy box: facts, 主送, sections and measures; the facts cite [1], the
    document's first passage."""
    number = f"（{card.doc_no}）" if card.doc_no else ""
    status = card.status + (f"（{card.status_reason.rstrip('。；')}）" if card.status_reason else "")
    facts = [
        f"发文机关：{card.issuer}" if card.issuer else "",
        f"成文日期：{_cn_date(card.signed)}" if card.signed else "",
        f"发布日期：{_cn_date(card.published)}" if card.published else "",
        f"状态：{status}",
    ]
    lines = [f"《{card.title}》{number}", "；".join(f for f in facts if f)]
    lines.append(f"主送：{card.addressees}[1]" if card.addressees else "文件开头未列主送机关[1]")
    if card.sections:
        lines.append("主要内容：" + "；".join(s.title for s in card.sections))
    if card.measures:
        names = list(dict.fromkeys(m.name for m in card.measures))
        more = f"等{len(names)}项" if len(names) > SHOWN_MEASURES else ""
        lines.append("主要措施：" + "；".join(names[:SHOWN_MEASURES]) + more)
    return Answer(card.title, "\n".join(lines), refused=False, citations=[card.head], kind="facts", status="answered")
