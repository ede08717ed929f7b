"""bot/body_limit.py: request bodies over the limit get 413 with a Chinese message, however they are sent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from pydantic import BaseModel
from starlette.middleware import Middleware
from starlette.testclient import TestClient

from bot.body_limit import BodyLimit

LIMIT = 1024


class Body(BaseModel):
    data: list


@pytest.fixture
def client() -> TestClient:
    app = FastAPI(middleware=[Middleware(BodyLimit, max_bytes=LIMIT)])

    @app.post("/call")
    def call(body: Body) -> dict:  # parsed by FastAPI, as Gradio's routes are
        return {"n": len(body.data)}

    return TestClient(app)


def chunks(total: int) -> Iterator[bytes]:
    yield b'{"data": ["'
    for _ in range(total // 256):
        yield b"x" * 256
    yield b'"]}'


def test_a_body_under_the_limit_goes_through(client):
    assert client.post("/call", json={"data": ["创业"]}).json() == {"n": 1}


def test_a_declared_length_over_the_limit_is_refused_unread(client):
    body = b'{"data": []}' + b" " * LIMIT
    response = client.post("/call", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and "请求内容过大" in response.json()["error"]


def test_a_streamed_body_without_a_length_is_refused_with_413_not_400(client):
    """It used to reach FastAPI's body parser as an exception, which made it a 400 in English."""
    response = client.post("/call", content=chunks(4 * LIMIT), headers={"Content-Type": "application/json"})
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert response.status_code == 413 and "请求内容过大" in response.json()["error"]
