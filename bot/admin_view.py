"""How the 管理 page shows an ingest: its progress, each uploaded file's result, a document's status. Every value is
escaped (file names come from the maintainer's computer, reasons from the files)."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from kb.corpus import ADDED, DUPLICATE, FAILED, UNCHANGED, UPDATED, FileResult, Upload, relative
from kb.ingest import Progress, Report, shown_path

from .render import esc

OUTCOMES = {ADDED: "新增", UPDATED: "更新", UNCHANGED: "未变", DUPLICATE: "重复", FAILED: "失败"}


def status_cell(doc: dict) -> str:
    return f"{doc['status']}（{doc['status_reason']}）" if doc["status_reason"] else doc["status"]


class PageProgress(Progress):
    """kb.ingest's progress as the page's progress bar."""

    def __init__(self, bar: gr.Progress) -> None:
        self.bar, self.n, self.total, self.what = bar, 0, 0, ""

    def _start(self, total: int, what: str) -> None:
        self.n, self.total, self.what = 0, total, what
        self._show()

    def _show(self) -> None:
        self.bar((self.n, self.total or None), desc=self.what, unit="")

    def reading(self, total: int) -> None:
        self._start(total, "读取文件")

    def file_read(self, path: str) -> None:
        self.n += 1
        self._show()

    def chunks(self, total: int) -> None:
        self._start(total, "计算条文向量")

    def chunks_done(self, n: int) -> None:
        self.n += n
        self._show()


def results_html(results: list[FileResult], report: Report, upload: Upload, corpus_dir: Path) -> str:
    """A row per uploaded file (name, 结果, 说明), then what else the ingest of the corpus folder changed."""
    rows = "".join(
        f'<tr class="kb-admin-{r.outcome}"><td>{esc(r.name)}</td><td><b>{OUTCOMES[r.outcome]}</b></td>'
        f"<td>{esc(_detail(r, corpus_dir))}</td></tr>"
        for r in results
    )
    table = f'<table class="kb-admin-results"><tr><th>文件</th><th>结果</th><th>说明</th></tr>{rows}</table>'
    ours = {shown_path(p.path) for p in upload.placed}
    others = [f"移出知识库：{name}" for name in report.removed]
    others += [
        f"未能入库：{relative(Path(name), corpus_dir)}（{why}）" for name, why in report.failed if name not in ours
    ]
    if not others:
        return table
    items = "".join(f"<li>{esc(line)}</li>" for line in others)
    return f'{table}<p>{esc(corpus_dir.name)}/ 中的其他变动：</p><ul class="kb-admin-others">{items}</ul>'


def _detail(r: FileResult, corpus_dir: Path) -> str:
    where = relative(r.set_aside, corpus_dir) if r.set_aside else ""
    if r.outcome == FAILED:
        kept = "；原有的同名文件已放回，知识库中的内容不变" if r.restored else ""
        return r.reason + (f"。文件未入库，已移到 {where}{kept}" if where else "。文件未保存")
    if r.outcome == DUPLICATE:
        return f"与 {r.reason} 是同一份文件（文号或正文相同），只保存一份；如是新版本，请用与它相同的文件名上传"
    if r.outcome == UPDATED:
        return f"已按新版本重新入库；旧版本在 {where}" if where else "已按新版本重新入库"
    return "与已入库的文件相同" if r.outcome == UNCHANGED else ""


def other_changes(report: Report, corpus_dir: Path, expected_removals: int = 0) -> str:
    """What else an ingest of the corpus folder did (files put there by other means), or ""."""
    counts = {"新增": len(report.added), "更新": len(report.updated), "移出": len(report.removed) - expected_removals}
    parts = [f"{label} {n}" for label, n in counts.items() if n > 0]
    failed = [f"{relative(Path(name), corpus_dir)}（{why}）" for name, why in report.failed]
    if failed:
        parts.append("未能入库 " + "；".join(failed))
    if not parts:
        return ""
    return f'<p class="kb-note">本次入库还处理了 {esc(corpus_dir.name)}/ 中的其他变动：{esc("，".join(parts))}。</p>'
