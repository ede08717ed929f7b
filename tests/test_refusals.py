"""How the running web app refuses what it does not take: in Chinese, with nothing of the request echoed back.

Each case is one the API fuzz (tests/test_fuzz.py, `python -m evals.bench_fuzz`) found answered in English, with a
bare 500, or not refused at all.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest


def post(url: str, path: str, body: bytes, content_type: str = "application/json") -> tuple[int, dict]:
    request = urllib.request.Request(url + path, data=body, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture(scope="module")
def url(small_app) -> str:
    return small_app[1]


def test_a_choice_the_list_does_not_offer_is_refused_in_chinese_without_echoing_it(url):
    from gradio_client import Client

    client = Client(url, verbose=False, download_files=False)
    for args, api, label in (
        (("家政", [], "<b>某某机关</b>", None, None, False), "/lookup", "发文机关"),
        ((["<b>某某机关</b>"], True, None, None, None, "会"), "/eligible", "身份"),
        (("家政", None, {"某某机关": 1}, False), "/show_cards", "支持方式"),
    ):
        with pytest.raises(Exception) as refused:  # gradio_client raises its own AppError
            client.predict(*args, api_name=api)
        assert f"「{label}」只能从列表中选择" in str(refused.value) and "某某机关" not in str(refused.value)
    _card, _copy, results = client.predict("家政", [], "国务院办公厅", None, None, False, api_name="/lookup")
    assert "国办发〔2024〕1号" in results


def test_a_malformed_request_or_an_unknown_api_gets_a_chinese_answer(url):
    assert post(url, "/gradio_api/call/ask", b'{"data": "not a list"}') == (
        422,
        {"error": "请求格式不正确：请按 /gradio_api/info 所列的参数发送 JSON。"},
    )
    assert post(url, "/gradio_api/call/nope", b'{"data": []}') == (
        404,
        {"error": "没有这个接口，可用的接口见 /gradio_api/info。"},
    )
    status, answer = post(url, "/gradio_api/call/v2/nope", b'{"question": "x"}')
    assert status == 500 and answer == {"error": "服务器无法处理这个请求，请稍后再试。"}


def test_a_body_that_is_not_utf8_gets_400_in_chinese(url):
    assert post(url, "/gradio_api/call/ask", b'{"data": ["\xff\xfe\xc3\x28"]}') == (
        400,
        {"error": "请求内容不是 UTF-8 编码的 JSON。"},
    )


def test_the_upload_routes_take_no_files(url):
    body = b'--b\r\nContent-Disposition: form-data; name="files"; filename="x.txt"\r\n\r\nhello\r\n--b--\r\n'
    for path in ("/gradio_api/upload", "/gradio_api/process_recording"):
        assert post(url, path, body, "multipart/form-data; boundary=b") == (403, {"error": "本服务不接收上传的文件。"})


def test_no_event_can_be_called_past_the_queue(url):
    """Gradio serves every event at /gradio_api/run/<name> too, skipping the queue and its limits, unless told not."""
    for api, data in (("ask", ["家政补贴"]), ("lookup", ["家政", [], None, None, None, False])):
        assert post(url, f"/gradio_api/run/{api}", json.dumps({"data": data}).encode()) == (
            404,
            {"error": "找不到这个地址。"},
        )


@pytest.fixture(scope="module")
def open_doc(url):
    """Trigger the 查看原文 handler with the given event data, as the browser does; returns (result, message, text)."""
    from evals.bench_fuzz import list_endpoints, queue_call

    endpoint = next(ep for ep in list_endpoints(url) if ep.name == "open_doc")
    return lambda data: queue_call(url, endpoint, data, timeout=30)


def test_a_document_link_whose_event_data_is_not_an_object_opens_nothing(open_doc):
    """The 查看原文 handler read the browser's event data as a dict: a string there was an unhandled exception."""
    for data in ("doc", ["国办发〔2024〕1号"], 5, None):
        result, message, text = open_doc(data)
        assert result == "ok" and "找不到这份文件" in text, (data, result, message)
    result, _, text = open_doc({"doc": "国办发〔2024〕1号", "start": 10, "end": 20})
    assert result == "ok" and "<mark>" in text


def test_a_document_link_with_an_infinite_offset_opens_the_document_unmarked(open_doc):
    """JSON's Infinity (Python's json reads it) made int() raise OverflowError in the 查看原文 handler."""
    result, message, text = open_doc({"doc": "国办发〔2024〕1号", "start": float("inf"), "end": float("nan")})
    assert result == "ok" and "家政服务" in text and "<mark>" not in text, (result, message)


def test_a_rating_with_a_strange_index_does_nothing(url, small_app):
    """👍/👎 took the event's index as a row number: a list in a list, a string, a float or a dict there was an
    unhandled exception; and a rating took any value as its label, however long."""
    from gradio_client import Client

    from evals.bench_fuzz import list_endpoints, queue_call

    endpoints = {ep.name: ep for ep in list_endpoints(url)}
    client = Client(url, verbose=False, download_files=False)
    client.predict("家政服务企业新招员工有补贴吗？", [], api_name="/respond")  # message 1 of this session: an answer
    rate = endpoints["rate"]
    for data in ({"index": [[1]], "liked": False}, {"index": {"a": 1}, "liked": True}, {"index": 1.5, "liked": True},
                 {"index": 1, "liked": "好" * 30_000}):  # fmt: skip
        result, message, _ = queue_call(url, rate, {"value": "x", **data}, 30, session=client.session_hash)
        assert result == "ok", (data, message)
    assert queue_call(url, rate, {"index": 1, "value": "x", "liked": False}, 30, session=client.session_hash)[0] == "ok"
    lines = (small_app[2] / "feedback.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["rating"] for line in lines] == ["down"]
