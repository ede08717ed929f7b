"""The data that flows through the pipeline: SourceDoc → DocMeta → Chunk → Hit → Answer."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Page:
    """A PDF page's character range in its document's text (end exclusive)."""

    number: int
    start: int
    end: int


@dataclass(frozen=True)
class SourceDoc:
    """One source file as text: raw after loading, cleaned after `clean.clean`."""

    path: str
    text: str
    content_hash: str
    format: str
    pages: tuple[Page, ...] = ()
    title_hint: str | None = None
    # What the page states about itself in its own structure (a policy library's metadata table, kb/fields.py):
    # (field, value) pairs, field one of kb.fields.LABELS; meta prefers them to what it reads off the text.
    fields: tuple[tuple[str, str], ...] = ()

    def page_at(self, offset: int) -> int | None:
        """The page number holding character `offset`, or None for paginated-less sources."""
        for page in self.pages:
            if page.start <= offset < page.end:
                return page.number
        return self.pages[-1].number if self.pages else None


@dataclass(frozen=True)
class DocMeta:
    """Policy metadata read from the document's own text."""

    doc_id: str
    title: str
    doc_no: str = ""
    issuer: str = ""
    signed: str = ""
    published: str = ""
    source: str = ""
    kind: str = ""
    region: str = ""  # 国家, a province (江西省) or a province and one of its cities (江西省南昌市)
    topic: str = ""  # 主题分类, when the page's metadata table gives one

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class Chunk:
    """One retrievable passage; `text` is the original cleaned passage, `start`/`end` index the cleaned document."""

    id: str
    doc_id: str
    seq: int
    text: str
    section: str
    start: int
    end: int
    page: int | None
    meta: DocMeta
    doc_hash: str = ""

    def header(self) -> str:
        """The short context line embedded and indexed with the passage (never shown as the passage)."""
        title = "" if self.text.startswith(self.meta.title) else self.meta.title  # the head already says it
        parts = [title] + ([self.section] if self.section else [])
        return " › ".join(p for p in parts if p)

    def indexed_text(self) -> str:
        return f"{self.header()}\n{self.text}"

    def text_hash(self) -> str:
        """Identifies what was embedded, so an unchanged passage can keep its vector when its document changes."""
        return hashlib.sha1(self.indexed_text().encode("utf-8")).hexdigest()[:20]

    def metadata(self) -> dict[str, str | int]:
        """Flat values only (Chroma rejects None and nested values)."""
        flat: dict[str, str | int] = {k: v for k, v in self.meta.as_dict().items() if k != "doc_id"}
        flat.update(
            chunk_id=self.id,
            doc_id=self.doc_id,
            seq=self.seq,
            section=self.section,
            start=self.start,
            end=self.end,
            page=self.page if self.page is not None else -1,
            doc_hash=self.doc_hash,
            text_hash=self.text_hash(),
            year=int(self.meta.signed[:4]) if self.meta.signed[:4].isdigit() else 0,
        )
        return flat

    @classmethod
    def from_metadata(cls, chunk_id: str, text: str, md: dict[str, Any]) -> Chunk:
        meta = DocMeta(
            doc_id=str(md["doc_id"]),
            **{
                k: str(md.get(k, ""))
                for k in ("title", "doc_no", "issuer", "signed", "published", "source", "kind", "region", "topic")
            },
        )
        page = int(md.get("page", -1))
        return cls(
            id=chunk_id,
            doc_id=meta.doc_id,
            seq=int(md["seq"]),
            text=text,
            section=str(md.get("section", "")),
            start=int(md["start"]),
            end=int(md["end"]),
            page=None if page < 0 else page,
            meta=meta,
            doc_hash=str(md.get("doc_hash", "")),
        )


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its scores; `score` is the fused score used for ranking."""

    chunk: Chunk
    score: float
    dense: float | None = None
    lexical: float | None = None
    rank: int = 0
    also: tuple[Chunk, ...] = ()  # the same passage in other documents (near-duplicates folded into this hit)


@dataclass
class Answer:
    """An answer with `[n]` markers; citations[n-1] is the hit marker n points at."""

    question: str
    text: str
    refused: bool
    citations: list[Hit] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    note: str = ""
    searched: str = ""  # the query as searched (a follow-up rewritten with its context)
    cards: list[Any] = field(default_factory=list)  # kb.cards.Card: the measures the cited passages belong to
    matches: list[Any] = field(default_factory=list)  # kb.eligibility.Match: a 我能申请吗 answer, measure by measure
    profile: Any = None  # kb.eligibility.Profile the matches were made for
    # answered (cited, confident) / closest (the nearest passages, hedged) / refused; `refused` is true exactly
    # when the status is refused. Left empty, it follows `refused`.
    status: str = ""
    kind: str = "general"  # general / facts (文号, issuer, dates) / eligibility / empty / blocked
    confidence: float | None = None  # the answer gate's (kb/judge.py), when it judged
    # A 我能申请吗 answer's first lines: the clauses that answer the question as asked, or that none does.
    direct: str = ""

    def __post_init__(self) -> None:
        if not self.status:
            self.status = "refused" if self.refused else "answered"
        self.refused = self.status == "refused"
