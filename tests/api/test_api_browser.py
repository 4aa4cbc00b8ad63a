"""The chat page in headless Debian Chromium: ask, stream, cite, follow up, the API key.

Fixtures `page`/`phone` (tests/api/conftest.py) serve every document under the app's CSP and
fail a test on a page error, a CSP violation or a request to another host.
"""

from __future__ import annotations

import re
import shutil

from rag.config import DEFAULT_CORPUS
from tests.api.browser import ask, send, wait_idle
from tests.api.server import API_KEY, BIDEN, Server, start_server, stop_server


def test_ask_see_progress_and_the_answer_then_the_passage_in_its_document(server: Server, page):
    page.goto(server.url)
    _, answer = ask(page, BIDEN)
    # progress came from the server, in order (issue #13.8)
    stages = (answer.get_attribute("data-stages") or "").split(",")
    assert [s for s in stages if s in ("retrieving", "reading", "writing")] == [
        "retrieving",
        "reading",
        "writing",
    ], stages
    assert "July 2023" in answer.locator(".answer").inner_text()
    assert answer.get_attribute("aria-label") == "answer"
    assert answer.locator(".answer").get_attribute("aria-live") == "polite"
    cite = answer.locator("button.cite").first
    cite.click()
    passage = answer.locator(".passage")
    quote = passage.locator(".quote").inner_text()[1:-1]  # shown in “…”
    assert "July 2023" in quote
    assert DEFAULT_CORPUS.name in passage.locator(".where").inner_text()
    # the passage in context: the document's text around it, the quote marked
    passage.locator("button.in-context").click()
    dialog = page.locator("dialog#context")
    dialog.locator("mark").wait_for()
    assert dialog.locator("mark").inner_text() == quote
    text = DEFAULT_CORPUS.read_text()
    shown = dialog.locator("#context-text").inner_text()
    at = shown.index(quote)
    before, after = shown[:at].strip("…"), shown[at + len(quote) :].strip("…")
    assert len(before) + len(after) > 400  # neighbouring text
    flat = " ".join(text.split())
    assert " ".join(before.split())[-80:] in flat and " ".join(after.split())[:80] in flat
    page.keyboard.press("Escape")
    assert not dialog.is_visible()


def test_follow_ups_keep_the_conversation_and_declines_look_like_declines(server: Server, page):
    page.goto(server.url)
    sent, first = ask(page, BIDEN)
    assert len(sent) == 1 and first.locator("button.cite").count() >= 1
    # the number in the band's words: "medium confidence: 55% of such answers were right …"
    status = first.locator(".status").inner_text()
    assert re.search(
        r"(high|medium|low) confidence: \d+% of such answers were right in tests \(\d+%\)", status
    ), status
    sent, _ = ask(page, "What is the boiling point of mercury?")
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[0]["content"] == BIDEN and "[1]" in sent[1]["content"]
    page.click("#new")
    assert page.locator(".msg").count() == 0
    sent, answer = ask(page, "What is the boiling point of mercury?")
    assert len(sent) == 1
    assert "declined" in (answer.get_attribute("class") or "")
    assert answer.locator(".answer").inner_text() == "The documents don't say."
    assert answer.locator("button.cite").count() == 0
    assert (
        answer.locator(".status").inner_text() == "declined: the passages found do not state this"
    )


def test_a_missing_and_a_wrong_api_key_are_told_apart_and_focus_the_key_box(
    keyed_server: Server, page
):
    """Issue #13.5: both said the same, and focus went back to the question box."""
    page.goto(keyed_server.url)
    _, answer = ask(page, BIDEN)
    assert "error" in (answer.get_attribute("class") or "")
    assert "needs an API key" in answer.inner_text()
    assert page.locator("#key").is_visible()
    assert page.evaluate("document.activeElement.id") == "key"
    page.fill("#key", "not-the-key")
    page.press("#key", "Enter")
    _, answer = ask(page, BIDEN)
    assert "not accepted" in answer.inner_text()
    assert page.evaluate("document.activeElement.id") == "key"
    page.fill("#key", API_KEY)
    page.press("#key", "Enter")  # the key is checked with the server, then the question box
    page.wait_for_function("() => document.activeElement.id === 'question'")
    _, answer = ask(page, "x" * 3000)  # too long: the server's 422 detail, in words
    assert "refused the question (422)" in answer.inner_text() and "limit" in answer.inner_text()
    send(page, BIDEN)
    wait_idle(page)
    assert page.locator(".msg.assistant").last.locator("button.cite").count() >= 1


def test_a_not_sure_decline_shows_the_closest_passage_to_judge(tmp_path, index_home, page):
    """Above every confidence the answer found is withheld: the page says it was not sure (not
    that the documents are silent) and shows the passage it rested on, openable in context."""
    shutil.copytree(index_home, tmp_path / "home")
    server = start_server(tmp_path / "home", tmp_path / "server.log", RAG_MIN_CONFIDENCE="0.999")
    try:
        page.goto(server.url)
        _, answer = ask(page, BIDEN)
        assert "declined" in (answer.get_attribute("class") or "")
        assert answer.locator(".answer").inner_text() == (
            "I'm not sure enough to answer from the documents."
        )
        assert answer.locator("button.cite").count() == 0  # no claim is made
        status = answer.locator(".status").inner_text()
        assert re.match(r"not sure enough to answer \(\d+% sure\)", status), status
        near = answer.locator(".passage.closest")
        assert "July 2023" in near.locator(".quote").inner_text()
        assert near.locator(".where").inner_text().startswith("Closest passage found: ")
        near.locator("button.in-context").click()
        page.locator("dialog#context mark").wait_for()
    finally:
        stop_server(server)
