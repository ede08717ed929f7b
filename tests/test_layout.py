"""bot/: the page on a phone (390×844, mobile emulation) and on a desktop (1280×900): it fits the screen, 查看原文
shows the passage, a new answer shows from its first line, 文件库 is readable, axe-core finds nothing serious, the
chat works from the keyboard. The app fixtures are test_app's (one app per module), the browser conftest's."""

from __future__ import annotations

import re
import time

import pytest
from test_app import app, app_data, app_server, ask  # noqa: F401 - fixtures, shared with test_app

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 3}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
SIZES = {"phone": PHONE, "desktop": DESKTOP}
TABS = ["咨询", "检索", "我能申请吗", "措施卡片", "文件库"]
LONG_QUESTION = "我想开一家家政服务公司，有什么扶持政策？"


@pytest.fixture(params=list(SIZES))
def screen(request, browser, app):  # noqa: F811 - the imported fixtures
    """A page of the app at one screen size; `screen.width` is the viewport's width."""
    context = browser.new_context(**SIZES[request.param])
    pg = context.new_page()
    pg.goto(app)
    pg.wait_for_selector("#kb-question textarea", timeout=60_000)
    pg.width = SIZES[request.param]["viewport"]["width"]
    yield pg
    context.close()


def serious_axe_violations(pg) -> list[str]:
    """axe-core's serious and critical findings on the page as it is (axe-core comes bundled with the package)."""
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(pg)
    return [
        f"{v['id']} ({v['impact']}): {[(n['target'], n.get('failureSummary', '')[:160]) for n in v['nodes']][:5]}"
        for v in result.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def in_viewport(pg, selector: str) -> bool:
    """The element's first line is on the screen (its top inside the window, and inside every scrolled box)."""
    return pg.locator(selector).first.evaluate(
        """e => { const r = e.getBoundingClientRect(); const top = r.top + 4;
          if (top < 0 || top > window.innerHeight || r.left < 0 || r.left > window.innerWidth) return false;
          for (let p = e.parentElement; p; p = p.parentElement) {
            if (p.scrollHeight > p.clientHeight && getComputedStyle(p).overflowY !== 'visible') {
              const b = p.getBoundingClientRect(); if (top < b.top || top > b.bottom) return false; } }
          return true; }"""
    )


def open_first_source(pg) -> None:
    """Unfold the last answer's sources and click its first 查看原文; waits for the marked passage."""
    pg.locator("#kb-chat .kb-sources summary").last.click()
    pg.locator("#kb-chat .kb-sources").last.locator("a.kb-open").first.click()
    pg.wait_for_selector("#kb-viewer mark", timeout=20_000)
    time.sleep(0.5)  # the viewer's script scrolls once the document is drawn


def test_every_tab_fits_the_screen_with_no_serious_accessibility_finding(screen):
    for name in TABS:
        screen.get_by_role("tab", name=name).click()
        time.sleep(1.0)
        width = screen.evaluate("() => document.documentElement.scrollWidth")
        assert width <= screen.width, (name, width)
        for tab in TABS:  # every tab and the send button are on the screen, none cut off or in a menu
            box = screen.get_by_role("tab", name=tab).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= screen.width, (name, tab, box)
        assert serious_axe_violations(screen) == [], name
    screen.get_by_role("tab", name="咨询").click()
    send = screen.locator("#kb-send").bounding_box()
    assert send and send["x"] + send["width"] <= screen.width, send


def test_view_source_shows_the_cited_passage_and_goes_back_to_the_answer(screen):
    ask(screen, "示范项目可以获得哪些政策支持？")
    time.sleep(0.6)  # the chat scrolls to the answer just after it is drawn
    open_first_source(screen)
    assert in_viewport(screen, "#kb-viewer mark"), screen.evaluate("() => window.scrollY")
    assert screen.evaluate("() => document.documentElement.scrollWidth") <= screen.width
    assert serious_axe_violations(screen) == []
    screen.locator("#kb-viewer a.kb-back").click()
    time.sleep(0.3)
    assert in_viewport(screen, "#kb-chat .kb-sources a.kb-open")


def test_a_new_long_answer_is_shown_from_its_first_line(screen):
    ask(screen, "个人创业担保贷款最多能贷多少？")
    ask(screen, LONG_QUESTION)
    time.sleep(0.6)  # the chat scrolls to the answer just after it is drawn
    answer = screen.locator("#kb-chat .kb-answer").last
    # The chat holds more than it shows, so where it is scrolled to matters; and the answer does not start at its end.
    overflow = answer.evaluate(
        """e => { let box = e.parentElement;
          while (box && box.scrollHeight <= box.clientHeight) box = box.parentElement;
          return box && [box.scrollHeight - box.clientHeight, box.scrollHeight - box.scrollTop - box.clientHeight]; }"""
    )
    assert overflow and overflow[0] > 200, overflow
    assert in_viewport(screen, "#kb-chat .kb-answer >> nth=-1")
    assert screen.locator("#kb-chat .kb-sources").last.get_attribute("open") is None  # folded under the answer


def test_the_library_shows_numbers_status_and_readable_dates(screen):
    screen.get_by_role("tab", name="文件库").click()
    row = screen.locator("#kb-doc-table tr", has_text="国务院关于做好当前和今后一个时期促进就业工作的若干意见")
    row.wait_for(timeout=20_000)
    for cell, text in (("kb-lib-doc_no", "国发〔2018〕39号"), ("kb-lib-status", "现行")):
        located = row.locator(f"td.{cell}")
        assert text in located.inner_text()
        box = located.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= screen.width, (cell, box)
    ingested = row.locator("td.kb-lib-ingested_at").inner_text()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", ingested.replace("\n", " ").strip()), ingested
    assert screen.evaluate("() => document.documentElement.scrollWidth") <= screen.width
    row.locator("a.kb-open").click()  # the title opens the document
    screen.wait_for_function(
        "() => document.querySelector('#kb-viewer').innerText.includes('国发〔2018〕39号')", timeout=20_000
    )
    assert in_viewport(screen, "#kb-viewer h3")


def test_the_chat_works_from_the_keyboard(browser, app):  # noqa: F811 - the imported fixtures
    context = browser.new_context(**DESKTOP)
    pg = context.new_page()
    pg.goto(app)
    pg.wait_for_selector("#kb-question textarea", timeout=60_000)
    pg.locator("#kb-question textarea").focus()
    answers = pg.locator("#kb-chat .kb-answer").count()
    pg.keyboard.type("示范项目可以获得哪些政策支持？")
    pg.keyboard.press("Enter")
    pg.wait_for_function(
        "n => document.querySelectorAll('#kb-chat .kb-answer').length > n", arg=answers, timeout=60_000
    )
    pg.keyboard.press("Tab")  # from the question box to 发送
    assert pg.evaluate("() => !!document.activeElement.closest('#kb-send')")
    pg.locator("#kb-chat .kb-sources summary").last.focus()
    pg.keyboard.press("Enter")  # unfolds the sources
    assert pg.locator("#kb-chat .kb-sources").last.get_attribute("open") is not None
    pg.keyboard.press("Tab")
    assert pg.evaluate("() => document.activeElement.matches('a.kb-open')")
    pg.keyboard.press("Enter")  # 查看原文
    pg.wait_for_selector("#kb-viewer mark", timeout=20_000)
    time.sleep(0.5)
    assert pg.evaluate("() => document.activeElement.matches('#kb-viewer a.kb-back')")  # focus went with it
    pg.keyboard.press("Enter")  # 返回: focus is back on the link it came from
    assert pg.evaluate("() => document.activeElement.matches('#kb-chat a.kb-open')")
    context.close()
