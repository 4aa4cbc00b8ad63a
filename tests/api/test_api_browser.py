"""The chat page in headless Debian Chromium, driven by playwright."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.server import API_KEY, BIDEN, Server

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail("no /usr/bin/chromium; `make test` installs it (apt-get install chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_ask_see_the_streamed_answer_and_open_a_citation(server: Server, page, tmp_path: Path):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url)
    page.fill("#question", BIDEN)
    page.click("#ask")
    answer = page.locator(".msg.assistant").last
    cite = answer.locator("button.cite").first
    cite.wait_for(timeout=120_000)  # the final chunk arrived and was rendered
    assert int(answer.get_attribute("data-tokens") or 0) > 3  # tokens streamed in first
    assert "July 2023" in answer.locator(".answer").inner_text()
    cite.click()
    passage = answer.locator(".passage")
    assert "July 2023" in passage.locator(".quote").inner_text()
    assert "afghanistan-counterterrorism-mei-2024.txt" in passage.locator(".where").inner_text()
    page.screenshot(path=str(tmp_path / "chat.png"), full_page=True)
    assert (tmp_path / "chat.png").stat().st_size > 1000
    assert not errors, errors


def _ask(page, question: str) -> tuple[list[dict], object]:
    """Ask through the page; the messages it sent, and the finished answer bubble."""
    import json

    with page.expect_request("**/v1/chat/completions") as sent:
        page.fill("#question", question)
        page.press("#question", "Enter")
    answer = page.locator(".msg.assistant").last
    page.wait_for_function(
        "() => !document.querySelector('#ask').disabled", timeout=120_000
    )  # the stream has ended
    return json.loads(sent.value.post_data or "{}")["messages"], answer


def test_follow_ups_keep_the_conversation_and_declines_look_like_declines(server: Server, page):
    page.goto(server.url)
    sent, first = _ask(page, BIDEN)
    assert len(sent) == 1 and first.locator("button.cite").count() >= 1
    sent, _ = _ask(page, "What is the boiling point of mercury?")
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[0]["content"] == BIDEN and "[1]" in sent[1]["content"]
    page.click("#new")
    assert page.locator(".msg").count() == 0
    sent, answer = _ask(page, "What is the boiling point of mercury?")
    assert len(sent) == 1
    assert "declined" in (answer.get_attribute("class") or "")
    assert answer.locator(".answer").inner_text() == "The documents don't say."
    assert answer.locator("button.cite").count() == 0


def test_errors_are_shown_and_the_page_asks_for_the_api_key(keyed_server: Server, page):
    page.goto(keyed_server.url)
    _, answer = _ask(page, BIDEN)
    assert "error" in (answer.get_attribute("class") or "")
    assert "API key" in answer.inner_text()
    assert page.locator("#key").is_visible()
    page.fill("#key", "not-the-key")
    page.press("#key", "Enter")
    _, answer = _ask(page, BIDEN)
    assert "error" in (answer.get_attribute("class") or "")
    page.fill("#key", API_KEY)
    page.dispatch_event("#key", "change")
    _, answer = _ask(page, "x" * 3000)  # too long: the server's 422 detail is shown
    assert "Error 422" in answer.inner_text() and "limit" in answer.inner_text()
