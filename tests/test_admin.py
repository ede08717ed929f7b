"""The 管理 page (KB_ADMIN): kb/corpus.py's changes to the corpus folder and bot/access.py's login, then the page as
a maintainer uses it — a real app process, headless Chromium, gradio_client, and raw calls of its events."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import CIRCULAR_A, CIRCULAR_B, CIRCULAR_C, ROOT, start_app, stop_app

from bot.access import FAILED_LOGIN_DELAY, PASS_COOKIE, Access
from kb import corpus
from kb.config import Settings
from kb.errors import ConfigError
from kb.ingest import Report, ingest, shown_path
from kb.validity import parse_overrides

USER, PASSWORD = "maint", "pw-for-tests-7"
TITLE_A = "国务院办公厅关于做好家政服务提质扩容工作的通知"  # 国办发〔2024〕1号
TITLE_B = "江西省人民政府关于发展普惠托育服务的实施意见"  # 赣府发〔2023〕9号
TITLE_C = "国务院关于加快发展银发经济的意见"  # 国发〔2024〕7号, uploaded
STATUS_YAML = "# 维护者的标注，请勿删除\n赣府发〔2023〕9号: 现行  # 已核实\n"
NOT_LOGGED_IN = "请先登录管理页。"


# --- kb/corpus.py ---------------------------------------------------------------------------------------------------


def test_an_upload_name_keeps_its_last_part_and_hidden_unsupported_or_unprintable_names_are_refused():
    assert corpus.safe_name("../../etc/通知.txt") == "通知.txt"
    assert corpus.safe_name("C:\\Users\\x\\政策.PDF") == "政策.PDF"
    for bad in (".bashrc.txt", "../.hidden.md", "run.sh", "status.yaml", "a\nb.txt", "x/", "", "a" * 200 + ".txt"):
        with pytest.raises(ValueError):
            corpus.safe_name(bad)


def test_an_upload_of_a_taken_name_replaces_the_file_and_keeps_the_old_one(tmp_path):
    root, incoming = tmp_path / "corpus", tmp_path / "in"
    root.mkdir()
    incoming.mkdir()
    (root / "a.txt").write_text("old", encoding="utf-8")
    (root / "same.txt").write_text("same", encoding="utf-8")
    for name, text in {"a.txt": "new", "same.txt": "same", "big.txt": "x" * 2000, "b.md": "b"}.items():
        (incoming / name).write_text(text, encoding="utf-8")
    sent = [(n, incoming / n) for n in ("a.txt", "same.txt", "big.txt", "b.md", "../b.md", ".x.txt")]
    upload = corpus.place(sent, root, max_mb=0.001)
    placed = {p.name: p for p in upload.placed}
    assert (root / "a.txt").read_text() == "new" and placed["a.txt"].previous.read_text() == "old"
    assert placed["a.txt"].previous.parent.parent == root / corpus.REPLACED
    assert placed["same.txt"].same and placed["same.txt"].previous is None
    assert (root / "b.md").read_text() == "b"
    refused = dict(upload.refused)
    assert "文件过大" in refused["big.txt"] and "同名" in refused["../b.md"] and "隐藏" in refused[".x.txt"]
    assert not (root / "big.txt").exists()
    assert sorted(p.name for p in root.iterdir() if not p.name.startswith(".")) == ["a.txt", "b.md", "same.txt"]


def test_a_failed_upload_is_set_aside_and_the_version_it_replaced_comes_back(tmp_path):
    root, incoming = tmp_path / "corpus", tmp_path / "in"
    root.mkdir()
    incoming.mkdir()
    (root / "a.pdf").write_bytes(b"the good old version")
    (incoming / "a.pdf").write_bytes(b"broken")
    (incoming / "new.txt").write_text("new", encoding="utf-8")
    upload = corpus.place([("a.pdf", incoming / "a.pdf"), ("new.txt", incoming / "new.txt")], root, 1)
    report = Report(failed=[(shown_path(root / "a.pdf"), "corrupt PDF")], added=[shown_path(root / "new.txt")])
    results = {r.name: r for r in corpus.settle(upload, report, root)}
    assert results["new.txt"].outcome == corpus.ADDED
    failed = results["a.pdf"]
    assert failed.outcome == corpus.FAILED and failed.reason == "corrupt PDF" and failed.restored
    assert failed.set_aside.read_bytes() == b"broken" and failed.set_aside.parent.parent == root / corpus.REJECTED
    assert (root / "a.pdf").read_bytes() == b"the good old version"


def test_a_status_is_written_where_it_was_and_every_other_line_stays(tmp_path):
    path = tmp_path / "status.yaml"
    path.write_text(
        "# 维护者的标注\n国发〔2018〕39号:\n  status: 部分修订\n  note: 旧说明\n# 下面一条已核实\nh123: 现行\n",
        encoding="utf-8",
    )
    corpus.set_status(tmp_path, ["国发〔2018〕39号", "国发〔2018〕39号"], "已废止", "见: 2024 新规 #2")  # 文号, doc_id
    corpus.set_status(tmp_path, ["国办发〔2024〕1号", "国办发〔2024〕1号"], "已失效")
    text = path.read_text(encoding="utf-8")
    assert (
        text.startswith("# 维护者的标注\n国发〔2018〕39号: {status: 已废止")
        and "# 下面一条已核实\nh123: 现行\n" in text
    )
    overrides = parse_overrides(text, "status.yaml")
    assert (
        overrides["国发〔2018〕39号"].status == "已废止" and "见: 2024 新规 #2" in overrides["国发〔2018〕39号"].reason
    )
    assert overrides["国办发〔2024〕1号"].status == "已失效" and overrides["h123"].status == "现行"
    corpus.set_status(tmp_path, ["", "h123"], None)  # back to what the text says
    assert "h123" not in parse_overrides(path.read_text(encoding="utf-8"), "status.yaml")
    assert "# 下面一条已核实" in path.read_text(encoding="utf-8")


def test_a_status_file_that_cannot_be_edited_safely_is_left_alone(tmp_path):
    path = tmp_path / "status.yaml"
    for text in ("a: [unclosed\n", "- a list\n", "{a: 现行, b: 已废止}\n"):
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError, match="by hand"):
            corpus.set_status(tmp_path, ["国发〔2018〕39号"], "现行")
        assert path.read_text(encoding="utf-8") == text
    with pytest.raises(ConfigError):
        corpus.set_status(tmp_path, ["国发〔2018〕39号"], "作废")


def test_withdrawn_files_move_into_the_hidden_folder_and_files_outside_the_corpus_are_refused(tmp_path):
    root = tmp_path / "corpus"
    (root / "pdf").mkdir(parents=True)
    (root / "pdf" / "a.pdf").write_bytes(b"a")
    (root / "a-copy.txt").write_bytes(b"a")
    moved = corpus.withdraw([root / "pdf" / "a.pdf", root / "a-copy.txt"], root)
    assert [m.relative_to(root).parts[0] for m in moved] == [corpus.WITHDRAWN] * 2
    assert moved[0].parts[-2:] == ("pdf", "a.pdf") and not (root / "pdf" / "a.pdf").exists()
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("x", encoding="utf-8")
    with pytest.raises(ConfigError, match="not in"):
        corpus.withdraw([outside], root)
    assert outside.exists()


# --- bot/access.py --------------------------------------------------------------------------------------------------


def test_the_login_costs_a_wrong_guess_a_delay_and_an_upload_pass_needs_its_cookie():
    access = Access(USER, PASSWORD)
    started = time.monotonic()
    assert not access.check(USER, "guess") and time.monotonic() - started >= FAILED_LOGIN_DELAY
    assert not access.check(None, None) and not access.check(USER, PASSWORD + "x")
    assert access.check(USER, PASSWORD)
    token = access.issue_pass()
    assert access.may_upload(f"other=1; {PASS_COOKIE}={token}".encode())
    assert not access.may_upload(f"{PASS_COOKIE}=forged".encode()) and not access.may_upload(b"")
    access.revoke_pass(token)
    assert not access.may_upload(f"{PASS_COOKIE}={token}".encode())


def test_a_malformed_kb_admin_stops_the_app_with_a_clear_message(tmp_path):
    env = {**os.environ, "KB_ADMIN": "maint-without-password"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--data-dir", str(tmp_path), "--port", "1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0 and "KB_ADMIN must look like user:password" in done.stderr


# --- the page -------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, embedder) -> tuple[Path, Path]:
    """A corpus folder of circulars A and B (with a status.yaml) and its index: (corpus, data)."""
    root = tmp_path_factory.mktemp("admin")
    folder = root / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_text(CIRCULAR_A, encoding="utf-8")
    (folder / "b.txt").write_text(CIRCULAR_B, encoding="utf-8")
    (folder / "status.yaml").write_text(STATUS_YAML, encoding="utf-8")
    assert ingest([folder], Settings(data_dir=root / "data", corpus_dir=folder), embedder=embedder).ok
    return folder, root / "data"


@pytest.fixture(scope="module")
def admin_app(site) -> Iterator[str]:
    folder, data = site
    proc, url = start_app(data, {"KB_ADMIN": f"{USER}:{PASSWORD}", "KB_CORPUS_DIR": str(folder)})
    yield url
    log = stop_app(proc)
    assert "Traceback" not in log, log[-3000:]


def open_admin(browser, url: str, width: int = 1280, height: int = 900):  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(url)
    page.wait_for_selector("#kb-question textarea", timeout=60_000)
    page.get_by_role("tab", name="管理").click()
    page.locator("#kb-admin-user textarea").wait_for(timeout=20_000)
    return page


def log_in(page, password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    page.locator("#kb-admin-user textarea").fill(USER)
    page.locator("#kb-admin-password input").fill(password)
    page.locator("#kb-admin-login-btn").click()


def upload(page, files: list[Path]) -> str:  # type: ignore[no-untyped-def]
    """Choose the files, wait until they are uploaded, ingest them; returns the result table's text."""
    before = page.locator("#kb-admin-result").inner_text()
    page.locator("#kb-admin-files input[type=file]").set_input_files([str(f) for f in files])
    for f in files:
        page.locator("#kb-admin-files", has_text=f.stem).wait_for(timeout=30_000)  # shown as stem and suffix
    page.locator("#kb-admin-upload").click()
    page.wait_for_function(
        "b => { const t = document.querySelector('#kb-admin-result table'); return t && t.innerText !== b; }",
        arg=before,
        timeout=180_000,
    )
    return page.locator("#kb-admin-result").inner_text()


def choose(page, elem_id: str, option: str) -> None:  # type: ignore[no-untyped-def]
    page.locator(f"#{elem_id} input").click()
    page.get_by_role("option", name=option).click()


def row_of(text: str, name: str) -> str:
    """The line of the upload's result table that names a file."""
    return next(line for line in text.splitlines() if line.startswith(name))


def table_row(page, elem_id: str, title: str) -> str:  # type: ignore[no-untyped-def]
    """The text of a gr.Dataframe's row holding `title` (Gradio 6 draws rows as div[role=row])."""
    return page.locator(f"#{elem_id} [role=row]", has_text=title).first.inner_text()


def ask(url: str, question: str) -> dict:
    from gradio_client import Client

    return Client(url, verbose=False).predict(question, api_name="/ask")


def cites(answer: dict, doc_no: str) -> bool:
    return not answer["refused"] and any(c["doc_no"] == doc_no for c in answer["citations"])


def call_event(url: str, api_name: str, data: list, session: str | None = None) -> dict:
    """One event of the page, called as any client can (the queue, like the browser): the completed message."""
    config = json.loads(urllib.request.urlopen(url + "config", timeout=30).read())
    event = next(d for d in config["dependencies"] if d.get("api_name") == api_name)
    session = session or uuid.uuid4().hex[:11]
    body = {"data": data, "fn_index": event["id"], "session_hash": session, "event_data": None,
            "trigger_id": event["targets"][0][0]}  # fmt: skip
    request = urllib.request.Request(
        url + "gradio_api/queue/join", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    urllib.request.urlopen(request, timeout=30).read()
    with urllib.request.urlopen(url + f"gradio_api/queue/data?session_hash={session}", timeout=120) as stream:
        for raw in stream:
            if raw.startswith(b"data:"):
                message = json.loads(raw[5:])
                if message.get("msg") == "process_completed":
                    return message
    raise AssertionError("the event never completed")


def shots_dir(tmp_path: Path) -> Path:
    """Where screenshots go: ADMIN_SHOTS names a folder to keep them in (the autouse fixture clears KB_* variables)."""
    shots = Path(os.environ.get("ADMIN_SHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    return shots


def test_without_kb_admin_there_is_no_admin_tab(site, browser):
    folder, data = site
    proc, url = start_app(data, {"KB_CORPUS_DIR": str(folder)})
    try:
        page = browser.new_page()
        page.goto(url)
        page.wait_for_selector("#kb-question textarea", timeout=60_000)
        assert page.get_by_role("tab", name="文件库").count() == 1
        assert page.get_by_role("tab", name="管理").count() == 0 and page.locator("#kb-admin-login").count() == 0
        page.close()
        assert "管理" not in urllib.request.urlopen(url + "config", timeout=30).read().decode("utf-8")
    finally:
        stop_app(proc)


def test_a_maintainer_uploads_sets_a_status_and_withdraws_a_document(admin_app, site, browser, tmp_path):
    url, (folder, _data) = admin_app, site
    page = open_admin(browser, url)
    # A wrong password: refused, and nothing of the page is shown.
    log_in(page, "not-the-password")
    page.locator("#kb-admin-login-msg", has_text="用户名或密码不正确").wait_for(timeout=20_000)
    assert page.locator("#kb-admin-panel").count() == 0 or not page.locator("#kb-admin-panel").is_visible()
    assert page.locator("#kb-admin-files input[type=file]").count() == 0
    assert not any(c["name"] == PASS_COOKIE and c["value"] for c in page.context.cookies())
    # The right one: the page and its table of documents.
    log_in(page)
    page.locator("#kb-admin-panel").wait_for(state="visible", timeout=20_000)
    page.locator("#kb-admin-table", has_text=TITLE_B).wait_for(timeout=20_000)

    # Two files at once: a new circular and a broken PDF.
    new, broken = tmp_path / "c-银发经济.txt", tmp_path / "broken.pdf"
    new.write_text(CIRCULAR_C, encoding="utf-8")
    broken.write_bytes(b"%PDF-1.4 this is not a pdf")
    result = upload(page, [new, broken])
    assert "新增" in row_of(result, new.name)
    failed = row_of(result, "broken.pdf")
    assert "失败" in failed and "PDF" in failed and ".rejected/" in failed
    assert (folder / new.name).exists() and not (folder / "broken.pdf").exists()
    assert [p.name for p in (folder / corpus.REJECTED).rglob("*.pdf")] == ["broken.pdf"]
    page.locator("#kb-admin-table", has_text=TITLE_C).wait_for(timeout=20_000)
    # The chat answers on the new 文号 at once, with its citation; the old documents keep working.
    assert cites(ask(url, "国发〔2024〕7号对老年助餐服务怎么说？"), "国发〔2024〕7号")
    assert cites(ask(url, "国办发〔2024〕1号说了什么？"), "国办发〔2024〕1号")

    # A new version of a.txt, under the same name: an update, the old one kept aside.
    changed = tmp_path / "a.txt"
    changed.write_text(CIRCULAR_A.replace("每人给予500元", "每人给予800元"), encoding="utf-8")
    result = upload(page, [changed])
    assert "更新" in row_of(result, "a.txt") and ".replaced/" in row_of(result, "a.txt")
    assert [p.read_text(encoding="utf-8") for p in (folder / corpus.REPLACED).rglob("a.txt")] == [CIRCULAR_A]
    assert "800元" in json.dumps(
        ask(url, "国办发〔2024〕1号对新招用家政服务人员的企业给予多少补贴？"), ensure_ascii=False
    )

    # A status: written to status.yaml beside the maintainers' own lines, shown in the table.
    choose(page, "kb-admin-doc", f"{TITLE_A}（国办发〔2024〕1号）")
    choose(page, "kb-admin-status", "已废止")
    page.locator("#kb-admin-note textarea").fill("由新文件替代")
    page.locator("#kb-admin-set").click()
    page.locator("#kb-admin-message", has_text="已废止").wait_for(timeout=60_000)
    assert "已废止" in table_row(page, "kb-admin-table", TITLE_A)
    text = (folder / "status.yaml").read_text(encoding="utf-8")
    assert text.startswith(STATUS_YAML) and parse_overrides(text, "status.yaml")["国办发〔2024〕1号"].status == "已废止"

    # Withdraw B, after a confirmation: gone from the 文件库, its file in the hidden folder.
    choose(page, "kb-admin-doc", f"{TITLE_B}（赣府发〔2023〕9号）")
    page.locator("#kb-admin-withdraw").click()
    page.locator("#kb-admin-confirm-row", has_text="确认撤下").wait_for(timeout=20_000)
    assert (folder / "b.txt").exists()  # nothing happens before the confirmation
    page.locator("#kb-admin-confirm-row").screenshot(path=str(shots_dir(tmp_path) / "admin-confirm.png"))
    page.locator("#kb-admin-confirm").click()
    page.locator("#kb-admin-message", has_text="已撤下").wait_for(timeout=60_000)
    assert not (folder / "b.txt").exists()
    assert [p.relative_to(folder).parts[0] for p in folder.rglob("b.txt")] == [corpus.WITHDRAWN]
    page.get_by_role("tab", name="文件库").click()
    page.locator("#kb-doc-table", has_text=TITLE_C).wait_for(timeout=20_000)
    page.wait_for_function(
        f"() => !document.querySelector('#kb-doc-table').innerText.includes('{TITLE_B}')", timeout=20_000
    )
    assert "已废止" in table_row(page, "kb-doc-table", TITLE_A)
    assert not cites(ask(url, "赣府发〔2023〕9号对新增托位有什么补助？"), "赣府发〔2023〕9号")
    page.close()


def test_admin_events_and_uploads_are_refused_without_a_login(admin_app, site):
    url, (folder, _data) = admin_app, site
    before = sorted((p.relative_to(folder), p.stat().st_mtime_ns) for p in folder.rglob("*"))
    for api_name, data in (
        ("admin_upload", [None, None]),
        ("admin_set_status", [None, "国发〔2024〕7号", "已废止", ""]),
        ("admin_withdraw", [None, "国发〔2024〕7号"]),
        ("admin_withdraw_confirm", [None]),
    ):
        done = call_event(url, api_name, data)
        assert done["success"] is False and done["output"]["error"] == NOT_LOGGED_IN, (api_name, done)
    assert sorted((p.relative_to(folder), p.stat().st_mtime_ns) for p in folder.rglob("*")) == before
    form = b'--x\r\nContent-Disposition: form-data; name="files"; filename="a.txt"\r\n\r\nhello\r\n--x--\r\n'
    for cookie in ("", f"{PASS_COOKIE}=forged"):
        request = urllib.request.Request(
            url + "gradio_api/upload", form, {"Content-Type": "multipart/form-data; boundary=x", "Cookie": cookie}
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 403
    # Guessing: each wrong password costs a delay, and a session that failed too often is refused even the right one.
    session = uuid.uuid4().hex[:11]
    started = time.monotonic()
    for _ in range(5):
        done = call_event(url, "admin_login", [None, USER, "guess"], session)
        assert "用户名或密码不正确" in json.dumps(done, ensure_ascii=False)
    assert time.monotonic() - started >= 5 * FAILED_LOGIN_DELAY
    done = call_event(url, "admin_login", [None, USER, PASSWORD], session)
    assert "登录失败次数过多" in json.dumps(done, ensure_ascii=False)
    assert call_event(url, "admin_withdraw_confirm", [None], session)["output"]["error"] == NOT_LOGGED_IN


def test_screenshots_of_the_logged_in_page(admin_app, browser, tmp_path):
    """Phone and desktop size, with an upload's results; ADMIN_SHOTS names a folder to keep them in."""
    shots = shots_dir(tmp_path)
    same, broken = tmp_path / "c-银发经济.txt", tmp_path / "扫描件-无法读取.pdf"
    same.write_text(CIRCULAR_C, encoding="utf-8")
    broken.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 8)
    for width, height, name in ((1280, 900, "admin-desktop.png"), (390, 844, "admin-phone.png")):
        page = open_admin(browser, admin_app, width, height)
        log_in(page)
        page.locator("#kb-admin-panel").wait_for(state="visible", timeout=20_000)
        result = upload(page, [same, broken])
        assert row_of(result, same.name).split("\t")[1] in ("未变", "新增") and "失败" in row_of(result, broken.name)
        page.locator("#kb-admin-table", has_text=TITLE_C).wait_for(timeout=20_000)
        time.sleep(0.5)
        page.screenshot(path=str(shots / name), full_page=True)
        page.close()
        assert (shots / name).stat().st_size > 10_000


def test_the_upload_route_opens_only_to_a_live_upload_pass():
    """Unit-level: the body limit refuses uploads when no login can issue passes (as before this page existed)."""
    from starlette.testclient import TestClient

    from bot.body_limit import BodyLimit

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    access = Access(USER, PASSWORD)
    token = access.issue_pass()
    closed = TestClient(BodyLimit(app, max_bytes=1024))
    opened = TestClient(BodyLimit(app, max_bytes=1024, may_upload=access.may_upload, max_upload_bytes=4096))
    form, live = {"files": ("a.txt", b"x" * 2000)}, {"Cookie": f"{PASS_COOKIE}={token}"}
    assert closed.post("/gradio_api/upload", files=form, headers=live).status_code == 403
    assert opened.post("/gradio_api/upload", files=form, headers=live).status_code == 200
    assert opened.post("/gradio_api/upload", files=form).status_code == 403
    big = {"files": ("a.txt", b"x" * 5000)}
    assert opened.post("/gradio_api/upload", files=big, headers=live).status_code == 413
    assert opened.post("/gradio_api/process_recording", files=form, headers=live).status_code == 403
