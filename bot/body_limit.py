"""An ASGI middleware that refuses request bodies over a size limit (413) before the app reads them whole, and JSON
bodies with more values than such a body can honestly hold.

Why the count: Gradio keeps a copy of every input of every call in the caller's session (KB_WEB_SESSIONS of them),
and a JSON value costs far more as a Python object than as text: 234 KB of `[{}, {}, …]` pinned 4 MB a call, so 200
calls held 820 MB (found by `python -m evals.bench_fuzz`). A chat history, the largest honest input, runs to about
500 bytes a value; one value per BYTES_PER_VALUE bytes of the size limit leaves it room.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Gradio's routes that store what is sent as files (forever: the app sets no cache expiry). The app takes files only
# from a logged-in maintainer of the 管理 page (bot/access.py), through the first.
FILE_ROUTES = ("/upload", "/process_recording")
BYTES_PER_VALUE = 128  # 256 KB → at most 2,048 values; 30 turns of chat history are about 500


# A JSON string, or what is left of an unterminated one; possessive, and matching to the end rather than failing, so
# that removing them all takes linear time whatever the body holds.
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"?', re.DOTALL)


def json_values(body: bytes) -> int:
    """About how many values a JSON text holds (a list of n empty dicts counts 2n), without building them."""
    bare = _STRING.sub(b"", body)
    return bare.count(b",") + bare.count(b"[") + bare.count(b"{") + 1


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class BodyLimit:
    """A body over `max_bytes` (declared or streamed), or a non-form body with more JSON values than one value per
    BYTES_PER_VALUE bytes of the limit, gets 413 with a Chinese message; one that is not UTF-8, 400; the file upload
    routes, 403 — except an upload whose Cookie header `may_upload` accepts, which may declare up to
    `max_upload_bytes` and is passed on unread (Gradio writes it to disk as it arrives)."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        may_upload: Callable[[bytes], bool] | None = None,
        max_upload_bytes: int = 0,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_values = max(64, max_bytes // BYTES_PER_VALUE)
        self.may_upload = may_upload
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if scope["method"] == "POST" and scope["path"].rstrip("/").endswith(FILE_ROUTES):
            if not (scope["path"].rstrip("/").endswith("/upload") and self._upload_allowed(headers)):
                await self._refuse(send, "本服务不接收上传的文件。", 403)
            elif length is None or not length.isdigit() or int(length) > self.max_upload_bytes:
                await self._refuse(send, f"上传内容过大（一次上限 {self.max_upload_bytes // 1024 // 1024} MB）。")
            else:
                await self.app(scope, receive, send)  # the server stops a body at its declared length
            return
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await self._refuse(send, f"请求内容过大（上限 {self.max_bytes // 1024} KB）。")
            return
        body = b""
        more = scope["method"] not in ("GET", "HEAD")
        while more:  # read whole (it is small) so that it can be checked before the app parses it
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_bytes:
                # Answer here: an error raised into the app would reach FastAPI's body parser, which makes it a 400.
                await self._refuse(send, f"请求内容过大（上限 {self.max_bytes // 1024} KB）。")
                return
        form = headers.get(b"content-type", b"").lower().startswith((b"multipart/", b"application/x-www-form"))
        if not form and json_values(body) > self.max_values:
            await self._refuse(send, f"请求内容过于复杂（最多 {self.max_values} 项）。")
            return
        if not form and not _is_utf8(body):  # FastAPI would answer "There was an error parsing the body"
            await self._refuse(send, "请求内容不是 UTF-8 编码的 JSON。", 400)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    def _upload_allowed(self, headers: dict[bytes, bytes]) -> bool:
        return self.may_upload is not None and self.may_upload(headers.get(b"cookie", b""))

    async def _refuse(self, send: Send, text: str, status: int = 413) -> None:
        body = json.dumps({"error": text}, ensure_ascii=False).encode("utf-8")
        headers = [(b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
