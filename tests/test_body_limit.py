"""bot/body_limit.py: request bodies over the limit get 413 with a Chinese message, however they are sent."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from pydantic import BaseModel
from starlette.middleware import Middleware
from starlette.testclient import TestClient

from bot.body_limit import BodyLimit, json_values

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


def test_json_values_counts_containers_and_items_not_what_strings_hold():
    assert json_values(b"[]") == 2 and json_values(b"[1]") == 2
    assert json_values(json.dumps({"data": ["a,b[c{", [1, 2], {"k": 'v\\",x'}]}).encode()) == 8
    assert json_values(b'["unterminated, [ {') == 2


def test_json_values_takes_linear_time_on_adversarial_bodies():
    for body in (b'"' + b'\\"' * 120_000, b'"\\"' * 80_000, b'"\\' * 128_000, (b"\\" * 1000 + b'"') * 250):
        t0 = time.perf_counter()
        json_values(body)
        assert time.perf_counter() - t0 < 0.2


def test_a_body_of_many_tiny_values_is_refused(client):
    """Gradio keeps each call's inputs in its session: 234 KB of `[{}, …]` pinned 4 MB there."""
    response = client.post("/call", json={"data": [{}] * 100})
    assert response.status_code == 413 and "请求内容过于复杂" in response.json()["error"]
    history = [{"role": "user", "content": [{"type": "text", "text": "问" * 60}]}] * 3
    assert client.post("/call", json={"data": ["问题", history]}).json() == {"n": 2}
