"""管理 (only with KB_ADMIN): upload circulars, set a document's status, withdraw a document.

Each change is made in the corpus folder (kb/corpus.py) and followed by an ingest of that folder through the app's
IngestService, one at a time with handed-over CLI ingests. The page's content shows after a login of its own; the
login lives in the session's gr.State and every handler checks it on the server (a hidden component is no barrier:
a client can call any event).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.utils import get_upload_folder

from kb import KBError, Report
from kb import corpus as corpus_mod
from kb.load import SUPPORTED_SUFFIXES
from kb.service import KnowledgeBase
from kb.serving import IngestService
from kb.validity import STATUSES

from ..access import MAX_FAILED_LOGINS, PASS_COOKIE, Access
from ..admin_view import PageProgress, other_changes, results_html, status_cell
from ..choices import pick
from ..render import esc

log = logging.getLogger(__name__)

AUTO = "按文件内容判断"  # no status.yaml entry: the status is read from the texts again
HEADERS = ["标题", "文号", "状态（依据）", "文件"]
WIDTHS = ["34%", "20%", "24%", "22%"]
NOT_LOGGED_IN = "请先登录管理页。"
MAX_NOTE_CHARS = 200
SET_PASS = f"(t) => {{ if (t) document.cookie = '{PASS_COOKIE}=' + t + '; path=/; SameSite=Strict'; return []; }}"
DROP_PASS = f"() => {{ document.cookie = '{PASS_COOKIE}=; path=/; max-age=0; SameSite=Strict'; return []; }}"


def _refusal(text: str) -> gr.Error:
    """A refusal shown on the page; expected, so Gradio prints no traceback for it."""
    return gr.Error(text, title="未执行", print_exception=False)


class Admin:
    """The 管理 tab. `session` holds {"in": True, "pass": upload pass} once logged in, "failures" before, and the
    doc_id of a withdrawal waiting for its confirmation ("pending")."""

    def __init__(self, kb: KnowledgeBase, ingests: IngestService, access: Access) -> None:
        self.kb, self.ingests, self.access = kb, ingests, access
        self.corpus = kb.settings.corpus_dir
        self.session = gr.State({})
        name = self.corpus.name
        with gr.Column(elem_id="kb-admin-login") as self.login_box:
            gr.Markdown("### 维护者登录\n上传文件、标注状态和撤下文件，仅限维护者。")
            user = gr.Textbox(label="用户名", max_length=200, elem_id="kb-admin-user")
            password = gr.Textbox(label="密码", type="password", max_length=200, elem_id="kb-admin-password")
            login = gr.Button("登录", variant="primary", elem_id="kb-admin-login-btn")
            self.login_msg = gr.Markdown(elem_id="kb-admin-login-msg")
        with gr.Column(visible=False, elem_id="kb-admin-panel") as self.panel:
            with gr.Row(equal_height=True):
                gr.Markdown("已登录为维护者。")
                logout = gr.Button("退出登录", size="sm", scale=0, min_width=100, elem_id="kb-admin-logout")
            gr.Markdown(
                f"### 上传文件\n可一次选择多个文件（{' '.join(SUPPORTED_SUFFIXES)}，每个不超过 "
                f"{kb.settings.max_file_mb:g} MB），保存到 `{name}/` 后立即入库。与 `{name}/` 中已有文件同名时视为"
                f"该文件的新版本，旧版本移到 `{name}/.replaced/`。无法读取的文件不入库，移到 `{name}/.rejected/`，"
                "知识库中已有的内容不受影响。"
            )
            files = gr.File(
                label="选择文件",
                file_count="multiple",
                file_types=list(SUPPORTED_SUFFIXES),
                height=160,
                elem_id="kb-admin-files",
            )
            upload = gr.Button("上传并入库", variant="primary", elem_id="kb-admin-upload")
            self.result = gr.HTML(elem_id="kb-admin-result")
            gr.Markdown(
                f"### 文件与状态\n状态写入 `{name}/status.yaml` 后重新入库生效。撤下的文件移到 `{name}/.withdrawn/`，"
                f"并从知识库中移除；把文件移回 `{name}/` 再运行 `python ingest.py` 即可恢复。"
            )
            with gr.Row():
                self.doc = gr.Dropdown([], value=None, label="文件", scale=3, min_width=240, elem_id="kb-admin-doc")
                status = gr.Dropdown(
                    [*STATUSES, AUTO], value=None, label="状态", min_width=160, elem_id="kb-admin-status"
                )
                note = gr.Textbox(label="说明（可选）", max_length=MAX_NOTE_CHARS, scale=2, elem_id="kb-admin-note")
            with gr.Row():
                set_status = gr.Button("保存状态并入库", elem_id="kb-admin-set")
                withdraw = gr.Button("撤下这份文件…", variant="stop", elem_id="kb-admin-withdraw")
            with gr.Row(visible=False, elem_id="kb-admin-confirm-row") as self.confirm_box:
                self.confirm_text = gr.HTML(elem_id="kb-admin-confirm-text")
                confirm = gr.Button("确认撤下", variant="stop", scale=0, min_width=100, elem_id="kb-admin-confirm")
                cancel = gr.Button("取消", scale=0, min_width=80, elem_id="kb-admin-cancel")
            self.message = gr.HTML(elem_id="kb-admin-message")
            # Filled after a login, not at build (Gradio copies initial values into every session).
            self.table = gr.Dataframe(
                None, headers=HEADERS, column_widths=WIDTHS, interactive=False, wrap=True, elem_id="kb-admin-table"
            )
        pass_box = gr.Textbox(visible=False)  # the upload pass, on its way to the page's cookie
        private: dict[str, Any] = {"preprocess": False, "api_visibility": "private"}
        change = {**private, "concurrency_limit": 1, "concurrency_id": "admin-ingest"}  # after one another
        login_out = [self.session, self.login_box, self.panel, self.login_msg, password, pass_box, self.table, self.doc]
        for trigger in (login.click, password.submit):
            trigger(self.login, [self.session, user, password], login_out, concurrency_limit=1, api_name="admin_login",
                    **private).then(None, pass_box, None, js=SET_PASS)  # fmt: skip
        logout_out = [self.session, self.login_box, self.panel, self.result, self.table, self.doc]
        logout.click(self.logout, self.session, logout_out,
                     api_name="admin_logout", **private).then(None, None, None, js=DROP_PASS)  # fmt: skip
        upload.click(self.upload, [self.session, files], [self.result, files, self.table, self.doc],
                     api_name="admin_upload", **change)  # fmt: skip
        set_status.click(self.set_status, [self.session, self.doc, status, note], [self.message, self.table, self.doc],
                         api_name="admin_set_status", **change)  # fmt: skip
        confirm_out = [self.session, self.confirm_box, self.confirm_text, self.message]
        withdraw.click(self.ask_withdraw, [self.session, self.doc], confirm_out, api_name="admin_withdraw", **private)
        confirm.click(self.withdraw, self.session, [*confirm_out, self.table, self.doc],
                      api_name="admin_withdraw_confirm", **change)  # fmt: skip
        cancel.click(self.cancel, self.session, confirm_out, api_name="admin_cancel", **private)

    # --- login --------------------------------------------------------------------------------------------------
    def logged_in(self, session: object) -> bool:
        return isinstance(session, dict) and session.get("in") is True and self.access.pass_valid(session.get("pass"))

    def _require(self, session: object) -> dict:
        if not self.logged_in(session):
            log.warning("管理 page: an event was called without a login")
            raise _refusal(NOT_LOGGED_IN)
        return dict(session)  # type: ignore[call-overload]

    def login(self, session: dict | None, user: object, password: object) -> list:
        session = dict(session or {})
        skip = [gr.skip()] * 3
        if self.logged_in(session):
            return [session, gr.skip(), gr.skip(), "", "", *skip]
        failures = int(session.get("failures", 0))
        if failures >= MAX_FAILED_LOGINS:
            return [session, gr.skip(), gr.skip(), "登录失败次数过多，请关闭页面，稍后再试。", "", *skip]
        if not self.access.check(user, password):
            session["failures"] = failures + 1
            log.warning("管理 page: a failed login (%d in this session)", failures + 1)
            return [session, gr.skip(), gr.skip(), "用户名或密码不正确。", "", *skip]
        session = {"in": True, "pass": self.access.issue_pass()}
        log.info("管理 page: a maintainer logged in")
        return [session, gr.update(visible=False), gr.update(visible=True), "", "", session["pass"], *self._docs()]

    def logout(self, session: dict | None) -> list:
        if isinstance(session, dict) and isinstance(session.get("pass"), str):
            self.access.revoke_pass(session["pass"])
        return [{}, gr.update(visible=True), gr.update(visible=False), "", [], gr.update(choices=[], value=None)]

    # --- the documents ------------------------------------------------------------------------------------------
    def _docs(self, docs: list[dict] | None = None, keep: bool = False) -> list:
        """The table's rows and the document list as the index is now; the list's choice kept or cleared."""
        docs = self.kb.documents() if docs is None else docs
        rows = [[d["title"], d["doc_no"], status_cell(d), "、".join(d["sources"])] for d in docs]
        choices = [(f"{d['title']}（{d['doc_no']}）" if d["doc_no"] else d["title"], d["doc_id"]) for d in docs]
        return [rows, gr.update(choices=choices) if keep else gr.update(choices=choices, value=None)]

    def after_ingest(self, session: object, docs: list[dict]) -> list:
        """The timer's update (bot/app.py) after any ingest: the table and list again, for a logged-in page."""
        return self._docs(docs, keep=True) if self.logged_in(session) else [gr.skip(), gr.skip()]

    def _doc(self, doc_id: object) -> dict:
        docs = {d["doc_id"]: d for d in self.kb.documents()}
        if not doc_id:
            raise _refusal("请先选择一份文件。")
        return docs[pick(doc_id, docs, "文件")]

    def _ingest(self, progress: gr.Progress) -> Report:
        """An ingest of the corpus folder (after any other ingest running in the app), served at once."""
        try:
            report = self.ingests.run([self.corpus], progress=PageProgress(progress))
        except KBError as exc:
            log.warning("管理 page: the ingest failed: %s", exc)
            raise _refusal(f"入库未完成：{exc}。已做的文件改动保留在 {self.corpus.name}/ 中，可稍后重试。") from exc
        return report

    # --- the actions --------------------------------------------------------------------------------------------
    def upload(self, session: object, files: object, progress: gr.Progress = gr.Progress()) -> list:  # noqa: B008
        self._require(session)
        uploads = Path(get_upload_folder()).resolve()
        sent = [  # Gradio has checked that each file is one it received; checked again before it is read and deleted
            (str(f.get("orig_name") or Path(f["path"]).name), Path(f["path"]))
            for f in (files if isinstance(files, list) else [])
            if isinstance(f, dict)
            and isinstance(f.get("path"), str)
            and Path(f["path"]).resolve().is_relative_to(uploads)
        ]
        if not sent:
            raise _refusal("请先选择要上传的文件。")
        progress(None, desc="保存文件")
        try:
            upload = corpus_mod.place(sent, self.corpus, self.kb.settings.max_file_mb)
        except OSError as exc:
            log.exception("管理 page: cannot save the uploaded files")
            raise _refusal(f"无法保存到 {self.corpus.name}/：{exc.strerror or exc}") from exc
        finally:
            for _name, temp in sent:
                temp.unlink(missing_ok=True)  # Gradio's copy; the corpus has its own
        report = self._ingest(progress) if upload.placed else Report()
        results = corpus_mod.settle(upload, report, self.corpus)
        log.info("管理 page: upload of %d file(s): %s", len(sent), {r.name: r.outcome for r in results})
        return [results_html(results, report, upload, self.corpus), None, *self._docs()]

    def set_status(
        self,
        session: object,
        doc_id: object,
        status: object,
        note: object,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio's way of asking for a progress bar
    ) -> list:
        self._require(session)
        doc = self._doc(doc_id)
        chosen = pick(status, [*STATUSES, AUTO], "状态")
        if not chosen:
            raise _refusal("请选择状态。")
        text = " ".join((note if isinstance(note, str) else "")[:MAX_NOTE_CHARS].split())
        try:
            path = corpus_mod.set_status(self.corpus, [doc["doc_no"], doc_id], None if chosen == AUTO else chosen, text)
        except KBError as exc:
            raise _refusal(str(exc)) from exc
        report = self._ingest(progress)
        docs = self.kb.documents()
        now = next((d["status"] for d in docs if d["doc_id"] == doc["doc_id"]), "")
        where = corpus_mod.relative(path, self.corpus)
        done = f"《{esc(doc['title'])}》现在的状态：<b>{esc(now)}</b>（已写入 {esc(where)}）。"
        return [f'<div class="kb-admin-ok">{done}</div>{other_changes(report, self.corpus)}', *self._docs(docs)]

    def ask_withdraw(self, session: object, doc_id: object) -> list:
        session = self._require(session)
        doc = self._doc(doc_id)
        files = self._files(doc["doc_id"])
        session["pending"] = doc["doc_id"]
        shown = "、".join(f"<code>{esc(corpus_mod.relative(f, self.corpus))}</code>" for f in files)
        where = f"<code>{esc(self.corpus.name)}/.withdrawn/</code>"
        text = f"确认撤下《{esc(doc['title'])}》？文件 {shown} 将移到 {where}，并从知识库中移除。"
        return [session, gr.update(visible=True), text, ""]

    def _files(self, doc_id: str) -> list[Path]:
        files = self.kb.files_of(doc_id)
        root = self.corpus.resolve()
        if not files or not all(f.resolve().is_relative_to(root) for f in files):
            raise _refusal(f"这份文件不是从 {self.corpus.name}/ 入库的，不能在这里撤下。")
        return files

    def withdraw(self, session: object, progress: gr.Progress = gr.Progress()) -> list:  # noqa: B008
        session = self._require(session)
        doc_id = session.pop("pending", None)
        if doc_id is None:
            raise _refusal("没有等待确认的撤下。")
        doc = self._doc(doc_id)
        try:
            moved = corpus_mod.withdraw(self._files(doc_id), self.corpus)
        except KBError as exc:
            raise _refusal(str(exc)) from exc
        log.info("管理 page: withdrew %s: %s", doc_id, [str(m) for m in moved])
        report = self._ingest(progress)
        docs = self.kb.documents()
        gone = all(d["doc_id"] != doc_id for d in docs)
        where = "、".join(corpus_mod.relative(m, self.corpus) for m in moved)
        text = f"已撤下《{esc(doc['title'])}》：文件移到 {esc(where)}。"
        text += "" if gone else "但它仍在知识库中，请查看日志。"
        text = f'<div class="kb-admin-ok">{text}</div>{other_changes(report, self.corpus, int(gone))}'
        return [session, gr.update(visible=False), "", text, *self._docs(docs)]

    def cancel(self, session: object) -> list:
        session = self._require(session)
        session.pop("pending", None)
        return [session, gr.update(visible=False), "", ""]
