"""bot/: the web chat, tested as people and integrators use it — a real server, gradio_client, headless Chromium."""

from __future__ import annotations

import http.cookiejar
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import CITATION_KEYS, XSS_DOC, start_app, stop_app

from kb.config import Settings
from kb.ingest import ingest

ROOT = Path(__file__).resolve().parents[1]
# Read at import: the autouse fixture in conftest clears every KB_* variable before a test runs.
SCREENSHOTS = os.environ.get("KB_SCREENSHOTS", "")


@pytest.fixture(scope="module")
def app_data(corpus_store: Settings, tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    """The ingested product corpus plus a document full of HTML that must only ever show as text."""
    root = tmp_path_factory.mktemp("app")
    data = root / "data"
    shutil.copytree(corpus_store.data_dir, data)
    xss = root / "xss.txt"
    xss.write_text(XSS_DOC, encoding="utf-8")
    report = ingest([corpus_store.corpus_dir, xss], Settings(data_dir=data), embedder=embedder)
    assert report.ok and len(report.added) == 1, report
    return data


@pytest.fixture(scope="module")
def app_server(app_data: Path) -> Iterator[tuple[subprocess.Popen, str]]:
    proc, url = start_app(app_data)
    yield proc, url
    stop_app(proc)


@pytest.fixture(scope="module")
def app(app_server: tuple[subprocess.Popen, str]) -> str:
    return app_server[1]


@pytest.fixture
def page(browser, app):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.goto(app)
    pg.wait_for_selector("#kb-question textarea", timeout=60_000)
    pg.dialogs = dialogs
    yield pg
    context.close()


def ask(pg, question: str) -> None:
    count = pg.locator("#kb-chat .message-row, #kb-chat [data-testid='bot']").count()
    answers = pg.locator("#kb-chat .kb-answer").count()
    box = pg.locator("#kb-question textarea")
    box.fill(question)
    box.press("Enter")
    pg.wait_for_function(
        "n => document.querySelectorAll('#kb-chat .message-row, #kb-chat [data-testid=\"bot\"]').length > n",
        arg=count,
        timeout=30_000,
    )
    pg.wait_for_function(
        "() => !document.querySelector('#kb-chat').innerText.includes('正在查找相关政策')", timeout=60_000
    )
    # The answer streams as plain text first; it is final once its HTML (every final answer has a .kb-answer) is in.
    pg.wait_for_function(
        "n => document.querySelectorAll('#kb-chat .kb-answer').length > n"
        " || document.querySelector('#kb-chat').innerText.includes('系统暂时无法回答')",
        arg=answers,
        timeout=60_000,
    )


# --- the API -----------------------------------------------------------------------------------------------------


def test_ask_endpoint_answers_with_a_citation_of_the_notice(app):
    from gradio_client import Client

    result = Client(app, verbose=False).predict("示范项目可以获得哪些政策支持？", api_name="/ask")
    assert result["refused"] is False
    assert "[1]" in result["answer"]
    assert result["citations"][0]["n"] == 1
    assert result["citations"][0]["doc_no"] == "发改办高技〔2020〕244号"
    assert set(result["citations"][0]) == CITATION_KEYS
    assert set(result["timings_ms"]) == {"embed", "retrieve", "answer", "total"}


# --- the browser -------------------------------------------------------------------------------------------------


def test_chat_shows_answer_sources_and_opens_the_passage(page):
    ask(page, "示范项目可以获得哪些政策支持？")
    chat = page.locator("#kb-chat")
    assert "[1]" in chat.inner_text()
    page.locator("#kb-chat .kb-sources summary").last.click()  # the sources are folded under the answer
    first_source = page.locator("#kb-chat .kb-src").first
    assert "发改办高技〔2020〕244号" in first_source.inner_text()
    assert first_source.locator("mark").count() >= 1  # the answering sentence is highlighted
    assert "以政策原文为准" in chat.inner_text()
    passage = first_source.locator(".kb-passage").inner_text()
    first_source.locator("a.kb-open").click()
    page.wait_for_selector("#kb-viewer mark", timeout=20_000)
    viewer = page.locator("#kb-viewer")
    assert "国家发展改革委办公厅关于开展社会服务领域双创带动就业示范工作的通知" in viewer.inner_text()
    marked = "".join(viewer.locator("mark").all_inner_texts())
    assert marked and marked.replace("\n", "")[:20] in passage.replace("\n", "")


def test_the_last_answer_exports_as_a_bundle_for_the_record(page):
    ask(page, "个人自主创业最多能申请多少创业担保贷款？")
    page.locator("#kb-export").click()
    link = page.locator("#kb-export-files a[href*='.json']").first
    link.wait_for(timeout=30_000)
    assert page.locator("#kb-export-files a[href*='.md']").count() == 1
    bundle = page.request.get(link.get_attribute("href")).json()
    assert bundle["question"] == "个人自主创业最多能申请多少创业担保贷款？" and "15万元" in bundle["answer"]
    assert bundle["citations"][0]["doc_no"] == "国发〔2018〕39号" and len(bundle["kb_version"]) == 16
    # The answer carries the card of the measure it quotes, folded under it.
    measures = page.locator("#kb-chat .kb-measures").last
    assert "措施要点" in measures.inner_text()
    measures.locator("summary").click()
    assert "最高不超过15万元" in measures.inner_text() and "财政部" in measures.inner_text()


def test_can_i_apply_in_the_chat_lists_measures_with_each_condition_marked_and_cited(page):
    ask(page, "我是退役军人，想做家政，有什么支持？")
    chat = page.locator("#kb-chat")
    answer = chat.locator(".kb-eligibility").last
    answer.wait_for(timeout=30_000)
    assert "退役军人" in answer.locator(".kb-profile").inner_text()
    assert answer.locator(".kb-card").count() >= 2
    assert "发改办高技〔2020〕244号" in answer.inner_text()
    assert answer.locator("li.kb-met").count() >= 2
    assert answer.locator("li.kb-unknown").count() >= 1
    assert "为进一步判断，请补充" in answer.locator(".kb-asks").inner_text()
    veteran = answer.locator("li.kb-met", has_text="退役军人").first
    veteran.locator("a.kb-open").click()
    page.wait_for_selector("#kb-viewer mark", timeout=20_000)
    assert page.locator("#kb-viewer mark").first.inner_text() == "退役军人"


def test_can_i_apply_form_matches_the_stated_situation(page):
    page.get_by_role("tab", name="我能申请吗").click()
    page.locator("#kb-e-who").get_by_label("高校毕业生").check()
    page.locator("#kb-e-firm").get_by_label("小微企业").check()
    page.locator("#kb-e-hiring").get_by_label("会", exact=True).check()
    page.locator("#kb-e-go").click()
    page.wait_for_selector("#kb-e-result .kb-card", timeout=30_000)
    result = page.locator("#kb-e-result")
    assert "高校毕业生" in result.locator(".kb-profile").inner_text()
    text = result.inner_text()
    assert "加大创业担保贷款贴息及奖补政策支持力度" in text and "最高不超过300万元" in text
    assert result.locator("li.kb-notmet").count() == 0  # only measures open to this person
    # The marks of one named measure, as the person sees them (each state pinned in tests/test_cards.py too).
    card = result.locator(".kb-card", has_text="加大创业担保贷款贴息及奖补政策支持力度").first
    met = [li.inner_text() for li in card.locator("li.kb-met").all()]
    unknown = [li.inner_text() for li in card.locator("li.kb-unknown").all()]
    for label in ("支持对象", "领域", "地区", "吸纳就业", "有效性"):
        assert any(label in m for m in met), (label, met)
    assert unknown and all("申请条件" in u for u in unknown), unknown
    copy = page.locator("#kb-e-copy textarea").input_value()
    assert "[1]" in copy and "\n[1]《" in copy


def test_can_i_apply_form_puts_the_measures_of_the_persons_region_and_field_first(page):
    page.get_by_role("tab", name="我能申请吗").click()
    page.locator("#kb-e-who").get_by_label("退役军人").check()
    page.locator("#kb-e-field input").click()
    page.get_by_role("option", name="托育").click()
    page.locator("#kb-e-region input").fill("江西")
    page.get_by_role("option", name="江西省").click()
    page.locator("#kb-e-firm").get_by_label("小微企业").check()
    page.locator("#kb-e-hiring").get_by_label("会", exact=True).check()
    page.locator("#kb-e-go").click()
    page.wait_for_selector("#kb-e-result .kb-card", timeout=30_000)
    result = page.locator("#kb-e-result")
    assert "江西省" in result.locator(".kb-profile").inner_text()
    sources = result.locator(".kb-card > .kb-src-meta").all_inner_texts()
    assert len(sources) > 3 and all("赣府厅发〔2020〕6号" in s for s in sources[:3]), sources
    names = result.locator(".kb-card-head").all_inner_texts()
    assert not any("明确支持范围" in n or "加大奖补支持力度" in n for n in names)  # guarantee institutions' support


def test_measure_cards_can_be_browsed_filtered_and_opened_at_their_source(page):
    page.get_by_role("tab", name="措施卡片").click()
    cards = page.locator("#kb-cards")
    cards.locator(".kb-card").first.wait_for(timeout=20_000)
    assert cards.locator(".kb-card").count() >= 20
    page.get_by_label("关键词").fill("创业担保贷款")
    page.locator("#kb-c-go").click()
    page.wait_for_function("() => document.querySelectorAll('#kb-cards .kb-card').length < 10", timeout=20_000)
    card = cards.locator(".kb-card", has_text="加大创业担保贷款贴息及奖补政策支持力度").first
    assert "国发〔2018〕39号" in card.inner_text() and "人力资源社会保障部" in card.inner_text()
    card.locator("a.kb-val", has_text="最高不超过15万元").click()
    page.wait_for_selector("#kb-viewer mark", timeout=20_000)
    assert page.locator("#kb-viewer mark").first.inner_text() == "最高不超过15万元"
    page.get_by_label("关键词").fill("托育")  # understood as the chat understands it: 婴幼儿照护 too
    page.locator("#kb-c-go").click()
    page.wait_for_function(
        "() => document.querySelector('#kb-cards').innerText.includes('大力发展社区照护服务')", timeout=20_000
    )
    assert cards.locator(".kb-card").count() >= 5


def test_follow_up_question_is_answered_in_context(page):
    ask(page, "家政服务领域的示范方向是什么？")
    ask(page, "那养老托育呢？")
    answers = page.locator("#kb-chat .kb-answer")
    assert answers.count() == 2
    second = answers.last
    # answered (not refused, not only the closest passages), and it cites a passage on 养老 or 托育
    assert "kb-refusal" not in second.get_attribute("class") and "kb-closest" not in second.get_attribute("class")
    sources = page.locator("#kb-chat .kb-sources").last.locator(".kb-src").all_text_contents()  # folded: not shown
    assert sources and any("养老" in s or "托育" in s for s in sources[:2])


def test_lookup_finds_highlights_and_offers_a_copyable_answer(page):
    page.get_by_role("tab", name="检索").click()
    page.get_by_label("关键词或文号").fill("创业担保贷款")
    page.locator("#kb-search").click()
    page.wait_for_selector("#kb-results mark", timeout=30_000)
    assert "创业担保贷款" in page.locator("#kb-results mark").all_inner_texts()
    copy_text = page.locator("#kb-copy textarea").input_value()
    assert "[1]" in copy_text and "\n[1]《" in copy_text


def _look_up(pg, words: str) -> None:
    pg.get_by_role("tab", name="检索").click()
    pg.get_by_label("关键词或文号").fill(words)
    pg.locator("#kb-search").click()


def test_lookup_by_doc_number_shows_the_documents_card_first(page):
    _look_up(page, "国发[2018]39号")
    card = page.locator("#kb-doc-card .kb-doccard")
    card.wait_for(timeout=30_000)
    text = card.inner_text()
    assert "国务院关于做好当前和今后一个时期促进就业工作的若干意见" in text and "国发〔2018〕39号" in text
    assert card.locator(".kb-badge").inner_text() == "现行"
    for fact in ("国务院", "2018年11月16日", "2018年12月5日", "各省、自治区、直辖市人民政府，国务院各部委、各直属机构"):
        assert fact in text, fact
    assert "四、及时开展下岗失业人员帮扶" in text and "落实失业保险待遇" in text  # its sections and measures
    copy = page.locator("#kb-copy textarea").input_value()
    assert copy.startswith("《国务院关于做好当前和今后一个时期促进就业工作的若干意见》（国发〔2018〕39号）")
    assert "状态：现行" in copy and "主送：" in copy and "\n[1]《" in copy
    assert "在文号或标题后加上关键词" in page.locator("#kb-results").inner_text()
    card.locator("a.kb-open", has_text="四、及时开展下岗失业人员帮扶").click()  # a section opens the text there
    page.wait_for_selector("#kb-viewer mark", timeout=20_000)
    assert page.locator("#kb-viewer mark").first.inner_text() == "四、及时开展下岗失业人员帮扶"

    # With other words: the same card, then the document's passages ranked for them, the words marked.
    _look_up(page, "国发〔2018〕39号 失业保险")
    page.wait_for_selector("#kb-results .kb-src mark", timeout=30_000)
    heads = page.locator("#kb-results .kb-src-head").all_inner_texts()
    assert heads and all("国发〔2018〕39号" in h for h in heads)
    # the section on 失业保险 among the first passages (the three that say most of it score within a hair; see
    # tests/test_service.py's lookup test)
    assert any("落实失业保险待遇" in t for t in page.locator("#kb-results .kb-src").all_inner_texts()[:3])
    assert "失业保险" in page.locator("#kb-results mark").all_inner_texts()
    assert page.locator("#kb-doc-card .kb-doccard").count() == 1


def test_the_lookup_card_fits_a_phone(browser, app):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    pg = context.new_page()
    pg.goto(app)
    pg.wait_for_selector("#kb-question textarea", timeout=60_000)
    _look_up(pg, "国发〔2018〕39号")
    card = pg.locator("#kb-doc-card .kb-doccard")
    card.wait_for(timeout=30_000)
    box = card.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    # nothing inside reaches past the card or the screen: long titles and the 主送 line wrap
    assert card.evaluate("e => e.scrollWidth <= e.clientWidth")
    widest = pg.evaluate(
        "() => Math.max(...[...document.querySelectorAll('#kb-doc-card .kb-doccard *')]"
        ".map(e => e.getBoundingClientRect().right))"
    )
    assert widest <= 390, widest
    assert "状态：现行" in pg.locator("#kb-copy textarea").input_value()
    context.close()


def test_documents_show_their_status_and_the_lookup_can_keep_to_those_in_force(page):
    page.get_by_role("tab", name="文件库").click()
    table = page.locator("#kb-doc-table")
    table.get_by_text("状态").first.wait_for(timeout=20_000)
    page.wait_for_function(  # rows are filled when the page loads
        "() => document.querySelector('#kb-doc-table').innerText.includes('现行')", timeout=20_000
    )
    page.get_by_role("tab", name="检索").click()
    page.get_by_label("只看现行").check()
    page.get_by_label("关键词或文号").fill("创业担保贷款")
    page.locator("#kb-search").click()
    page.wait_for_selector("#kb-results .kb-src", timeout=30_000)
    assert "国发〔2018〕39号" in page.locator("#kb-results").inner_text()


def test_dislike_is_written_to_the_feedback_log(page, app_data):
    ask(page, "个人自主创业最多能申请多少创业担保贷款？")
    page.locator("#kb-chat button[aria-label='Dislike']").last.click()
    log = app_data / "feedback.jsonl"
    deadline = time.monotonic() + 15
    entries: list[dict] = []
    while time.monotonic() < deadline:
        if log.exists():
            entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line]
            if any(e["rating"] == "down" for e in entries):
                break
        time.sleep(0.3)
    down = [e for e in entries if e["rating"] == "down"]
    assert down, entries
    assert down[-1]["question"] == "个人自主创业最多能申请多少创业担保贷款？"
    assert down[-1]["chunk_ids"] and down[-1]["answer"] and down[-1]["time"]
    # The comment that follows says which rating it goes with (python ingest.py --gaps lists those of a 👎).
    page.get_by_placeholder("对上一条回答的意见（可选）").fill("没说利息怎么算")
    page.get_by_role("button", name="提交意见").click()
    deadline = time.monotonic() + 15
    comments: list[dict] = []
    while time.monotonic() < deadline and not comments:
        lines = log.read_text(encoding="utf-8").splitlines()
        comments = [e for e in map(json.loads, filter(None, lines)) if e["rating"] == "comment"]
        time.sleep(0.3)
    assert comments and comments[-1]["comment"] == "没说利息怎么算" and comments[-1]["rated"] == "down", comments


def test_document_text_and_user_input_are_shown_as_text(page):
    page.get_by_role("tab", name="文件库").click()
    page.get_by_text("关于测试网页安全的通知").first.click()
    page.wait_for_function("() => document.querySelector('#kb-viewer').innerText.includes('<script>')", timeout=20_000)
    viewer = page.locator("#kb-viewer")
    assert "<img src=x onerror=" in viewer.inner_text()
    assert viewer.locator("script").count() == 0 and viewer.locator("img").count() == 0
    page.get_by_role("tab", name="咨询").click()
    ask(page, '<img src=x onerror="window.__xss=3"> 网页安全的通知里写了什么？')
    time.sleep(0.5)
    assert page.evaluate("() => window.__xss") is None
    assert page.locator("#kb-chat img[src='x']").count() == 0
    assert page.dialogs == []


def test_screenshots_for_the_readme(browser, app, tmp_path):
    """Desktop and phone-width screenshots of a real answer and of 我能申请吗. The suite writes them to a temporary
    folder; `make screenshots` runs this test with KB_SCREENSHOTS=docs to refresh the README's images."""
    docs = Path(SCREENSHOTS or tmp_path)
    docs.mkdir(parents=True, exist_ok=True)
    for width, name in ((1280, "screenshot-desktop.png"), (390, "screenshot-mobile.png")):
        context = browser.new_context(viewport={"width": width, "height": 900})
        pg = context.new_page()
        pg.goto(app)
        pg.wait_for_selector("#kb-question textarea", timeout=60_000)
        ask(pg, "我想开一家家政服务公司，有什么扶持政策？")
        pg.locator("#kb-chat .kb-sources summary").last.click()
        pg.locator("#kb-chat a.kb-open").first.click()
        pg.wait_for_selector("#kb-viewer mark", timeout=20_000)
        time.sleep(0.8)
        pg.locator("#kb-chat .kb-answer").last.scroll_into_view_if_needed()  # the answer, not the last source
        pg.evaluate(
            "() => { const a = [...document.querySelectorAll('#kb-chat .kb-answer')].pop();"
            " let box = a.parentElement; while (box && box.scrollHeight <= box.clientHeight) box = box.parentElement;"
            " if (box) box.scrollTop = a.offsetTop - 20; }"
        )
        time.sleep(0.5)
        pg.screenshot(path=str(docs / name), full_page=width < 500)
        context.close()
        assert (docs / name).stat().st_size > 10_000
    # 我能申请吗 in the chat: the measures as cards, each condition marked.
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    pg = context.new_page()
    pg.goto(app)
    pg.wait_for_selector("#kb-question textarea", timeout=60_000)
    ask(pg, "我是退役军人，想做家政，有什么支持？")
    time.sleep(1.5)  # the chat shows the new answer from its first line
    pg.screenshot(path=str(docs / "screenshot-eligibility.png"))
    context.close()
    assert (docs / "screenshot-eligibility.png").stat().st_size > 10_000


# --- start-up and safety -----------------------------------------------------------------------------------------


def test_missing_index_gives_a_page_that_says_how_to_build_it(tmp_path):
    proc, url = start_app(tmp_path / "empty")
    try:
        from gradio_client import Client  # noqa: F401 - the page itself is what matters here

        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200
        config = json.loads(urllib.request.urlopen(url + "config", timeout=10).read())
        text = json.dumps(config, ensure_ascii=False)
        assert "python ingest.py" in text and "Traceback" not in text
    finally:
        output = stop_app(proc)
    assert "Traceback" not in output


def test_login_is_required_when_kb_auth_is_set(app_data):
    from gradio_client import Client

    proc, url = start_app(app_data, {"KB_AUTH": "hotline:s3cret-pass"})
    try:
        for path in ("config", "gradio_api/info"):  # what the page and an API client read first
            with pytest.raises(urllib.error.HTTPError) as denied:
                urllib.request.urlopen(url + path, timeout=30)
            assert denied.value.code == 401 and "请输入账号和密码" in denied.value.read().decode("utf-8")
        jar = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        with pytest.raises(urllib.error.HTTPError) as wrong:
            jar.open(url + "login", data=urllib.parse.urlencode({"username": "hotline", "password": "x"}).encode())
        assert wrong.value.code == 400
        login = {"username": "hotline", "password": "s3cret-pass"}
        assert jar.open(url + "login", data=urllib.parse.urlencode(login).encode(), timeout=30).status == 200
        assert jar.open(url + "config", timeout=30).status == 200
        result = Client(url, auth=("hotline", "s3cret-pass"), verbose=False).predict(
            "示范项目可以获得哪些政策支持？", api_name="/ask"
        )
        assert result["citations"]
    finally:
        stop_app(proc)


def test_the_app_binds_to_localhost_by_default(app_server):
    import psutil

    from bot.__main__ import build_parser

    assert build_parser().parse_args([]).host == "127.0.0.1"
    proc, url = app_server
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    listening = {c.laddr.ip for c in psutil.Process(proc.pid).net_connections(kind="tcp") if c.laddr.port == port}
    assert listening == {"127.0.0.1"}
