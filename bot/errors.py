"""Chinese answers, with no detail echoed back, for the requests Gradio's routes refuse in English or with a bare 500
(found by `python -m evals.bench_fuzz`): a malformed body, an API name the app does not have, anything unforeseen."""

from __future__ import annotations

from fastapi.exceptions import RequestValidationError
from gradio.route_utils import FnIndexInferError
from starlette.requests import Request
from starlette.responses import JSONResponse

MALFORMED = "请求格式不正确：请按 /gradio_api/info 所列的参数发送 JSON。"
NO_SUCH_API = "没有这个接口，可用的接口见 /gradio_api/info。"
NOT_FOUND = "找不到这个地址。"
FAILED = "服务器无法处理这个请求，请稍后再试。"


def _answer(status: int, text: str):  # type: ignore[no-untyped-def]
    async def handler(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"error": text}, status_code=status)

    return handler


# FastAPI's exception_handlers. 404 covers Gradio's own refusals too (an endpoint called directly, not through the
# queue); 500 is Starlette's last resort for any unhandled exception (a KeyError for a queue/join naming no event,
# say), which is still logged.
HANDLERS = {
    RequestValidationError: _answer(422, MALFORMED),
    FnIndexInferError: _answer(404, NO_SUCH_API),
    404: _answer(404, NOT_FOUND),
    500: _answer(500, FAILED),
}
