"""An ASGI middleware that refuses request bodies over a size limit (413) before the app reads them whole."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyLimit:
    """A body whose Content-Length is over `max_bytes`, or that grows past it while streamed, gets 413 (in Chinese)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await self._refuse(send)
            return
        seen = 0
        started = refused = False

        async def limited() -> Message:
            # Past the limit the app is told the client left, and the 413 is sent from here: an exception raised into
            # the app would reach FastAPI's body parser, which answers any error while reading with a 400.
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    if not started:
                        refused = True
                        await self._refuse(send)
                    return {"type": "http.disconnect"}
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if refused:
                return  # whatever the app answers to a body it never got whole: the 413 has gone out
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, limited, tracked)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"error": f"请求内容过大（上限 {self.max_bytes // 1024} KB）。"}, ensure_ascii=False).encode(
            "utf-8"
        )
        headers = [(b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
