"""Provenance export: an answer bundle that can be checked later against the knowledge base that gave it."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from .store import Manifest
from .types import Answer

BUNDLE_VERSION = 1


def kb_version(manifest: Manifest) -> str:
    """A digest of what was stored: each document's id and version, the pipeline and the embedder."""
    state = {
        "docs": {doc_id: doc["hash"] for doc_id, doc in sorted(manifest.docs.items())},
        "pipeline": manifest.pipeline.get("signature", ""),
        "embedder": manifest.embedder,
    }
    return hashlib.sha256(json.dumps(state, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]


def bundle(answer: Answer, manifest: Manifest, searched: str, now: datetime | None = None) -> dict[str, Any]:
    """Question, query as searched, answer, every citation with title, 文号, section, offsets and passage, the
    knowledge-base version, the embedder and the time."""
    citations = []
    for n, hit in enumerate(answer.citations, start=1):
        chunk = hit.chunk
        listed = manifest.docs.get(chunk.doc_id, {})
        citations.append(
            {
                "n": n,
                "doc_id": chunk.doc_id,
                "title": chunk.meta.title,
                "doc_no": chunk.meta.doc_no,
                "issuer": chunk.meta.issuer,
                "signed": chunk.meta.signed,
                "source": chunk.meta.source,
                "section": chunk.section,
                "page": chunk.page,
                "start": chunk.start,
                "end": chunk.end,
                "chunk_id": chunk.id,
                "doc_version": listed.get("hash", chunk.doc_hash),
                "passage": chunk.text,
                "passage_sha256": hashlib.sha256(chunk.text.encode("utf-8")).hexdigest(),
            }
        )
    return {
        "bundle_version": BUNDLE_VERSION,
        "time": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "question": answer.question,
        "searched": searched,
        "answer": answer.text,
        "refused": answer.refused,
        "citations": citations,
        "kb_version": kb_version(manifest),
        "embedder": manifest.embedder,
        "pipeline": dict(manifest.pipeline),
    }


def _inert(text: object) -> str:
    """Text as a Markdown viewer shows it, never as markup: HTML brackets and ampersands escaped (the JSON bundle keeps
    the exact text and its digest)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_markdown(b: dict[str, Any]) -> str:
    """The same bundle for people: readable, and still holding every figure needed to check it. Every value from a
    question, an answer or a document is made inert (`_inert`)."""
    b = {**b, **{k: _inert(b[k]) for k in ("question", "searched", "answer")}}
    b["citations"] = [
        {**c, **{k: _inert(c[k]) for k in ("title", "doc_no", "section", "source", "passage") if c.get(k) is not None}}
        for c in b["citations"]
    ]
    size = b["pipeline"].get("chunk_size", "—")
    lines = [
        f"# 答复存档 · {b['time']}",
        "",
        f"- 问题：{b['question']}",
        f"- 检索用语：{b['searched']}",
        f"- 知识库版本：`{b['kb_version']}`（嵌入模型 {b['embedder']}，切分 {size} 字）",
        "",
        "## 答复",
        "",
        b["answer"],
        "",
    ]
    if b["citations"]:
        lines += ["## 引用", ""]
    for c in b["citations"]:
        where = f"《{c['title']}》" + (f"（{c['doc_no']}）" if c["doc_no"] else "")
        section = f" {c['section']}" if c["section"] else ""
        page = f"，第{c['page']}页" if c["page"] is not None else ""
        lines += [
            f"**[{c['n']}]** {where}{section}",
            f"来源 `{c['source']}`，字符 {c['start']}–{c['end']}{page}，文档版本 `{c['doc_version']}`",
            "",
            *[f"> {line}" for line in c["passage"].splitlines() or [""]],
            "",
        ]
    return "\n".join(lines)
