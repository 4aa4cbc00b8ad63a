"""The defects of issue #13, each in real Chromium against a real server (the 135M model).

`long_server` lets answers run to 1024 tokens, and LONG is a question the 135M model answers
at length (greedy decoding, so the same every time): a test can act while it is being written.
"""

from __future__ import annotations

import json

import httpx
import pytest

from tests.api.browser import ask, queue, send, wait_idle, wait_writing
from tests.api.server import BIDEN, Server, start_server, stop_server

LONG = "Write a long essay about the Taliban, al-Qaeda and ISKP."
ISKP = "Who leads ISKP?"
CROCUS = "How many people did the March 2024 Crocus City Hall attack kill?"


def _wait_for(predicate, what: str, tries: int = 600) -> None:
    """Poll the server (not a timed assertion: it waits for a state, up to a generous bound)."""
    import time

    for _ in range(tries):
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"never happened: {what}")


@pytest.mark.parametrize("view", ["page", "phone"])
def test_the_newest_answer_is_not_hidden_behind_the_input(server: Server, view, request):
    """#13.1: after a few turns the newest answer sat under the fixed input bar."""
    page = request.getfixturevalue(view)
    page.goto(server.url)
    for q in (BIDEN, ISKP, CROCUS, BIDEN):
        ask(page, q)
    last = page.locator(".msg.assistant").last
    form = page.locator("#form").bounding_box()
    status = last.locator(".status").bounding_box()
    assert form and status
    assert status["y"] + status["height"] <= form["y"] + 1, (status, form)  # above the input bar
    assert status["y"] >= page.locator("#log").bounding_box()["y"]  # and not scrolled off the top


def test_new_chat_during_an_answer_forgets_it_and_the_server_stops(long_server: Server, page):
    """#13.2: the unfinished turn was sent as history with the next question."""
    page.goto(long_server.url)
    before = queue(long_server)
    send(page, LONG)
    wait_writing(page)
    page.click("#new")
    assert page.locator(".msg").count() == 0
    _wait_for(lambda: queue(long_server)["active"] == 0, "the server stopped generating")
    after = queue(long_server)
    assert after["cancelled"] == before["cancelled"] + 1
    assert after["completed"] == before["completed"]
    sent, _ = ask(page, BIDEN)
    assert sent == [{"role": "user", "content": BIDEN}]
    # the stopped chat is kept in the list, marked unfinished, and never sent as history
    assert page.locator("#chats li").count() == 2


def test_enter_while_an_answer_is_written_does_not_send_a_second_question(
    long_server: Server, page
):
    """#13.3: the Ask button was greyed but Enter still sent, and two generations raced."""
    page.goto(long_server.url)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/v1/chat" in r.url else None)
    send(page, LONG)
    wait_writing(page)
    page.fill("#question", ISKP)
    page.press("#question", "Enter")
    assert "still being written" in page.locator("#hint").inner_text()
    assert page.input_value("#question") == ISKP  # kept, to send when the answer is done
    assert len(requests) == 1
    page.keyboard.press("Escape")  # Stop
    wait_idle(page)
    sent = send(page, ISKP)
    assert sent == [{"role": "user", "content": ISKP}]  # the stopped turn is not history
    wait_idle(page)
    assert len(requests) == 2


def test_stop_button_and_escape_stop_the_generation_on_the_server(long_server: Server, page):
    """Stop frees the model: the server counts the job cancelled, and the next answer starts
    straight away (its first stage is the search, not a wait for the model)."""
    page.goto(long_server.url)
    start = queue(long_server)
    send(page, LONG)
    wait_writing(page)
    page.click("#stop")
    box = page.locator(".msg.assistant").last
    assert "stopped" in (box.get_attribute("class") or "")
    assert "Stopped" in box.inner_text() and box.locator("button.retry").count() == 1
    _wait_for(lambda: queue(long_server)["active"] == 0, "the server stopped generating")
    assert queue(long_server)["cancelled"] == start["cancelled"] + 1
    send(page, LONG)
    wait_writing(page)
    page.keyboard.press("Escape")
    _wait_for(lambda: queue(long_server)["active"] == 0, "the server stopped generating")
    now = queue(long_server)
    assert now["cancelled"] == start["cancelled"] + 2 and now["completed"] == start["completed"]
    _, answer = ask(page, BIDEN)
    assert (answer.get_attribute("data-stages") or "").split(",")[0] == "retrieving"
    assert queue(long_server)["completed"] == start["completed"] + 1


def test_a_server_that_goes_away_gets_words_and_a_retry(tmp_path, index_home, page):
    """#13.4: "Error: network error" / "Failed to fetch", the header still said all was well."""
    import shutil

    shutil.copytree(index_home, tmp_path / "home")
    srv = start_server(tmp_path / "home", tmp_path / "a.log", RAG_MAX_TOKENS="1024")
    port = int(srv.url.rsplit(":", 1)[1])
    try:
        page.goto(srv.url)
        page.locator("#server").filter(has_text="document(s)").wait_for()
        send(page, LONG)
        wait_writing(page)
        srv.proc.kill()  # mid-answer
        srv.proc.wait()
        wait_idle(page)
        box = page.locator(".msg.assistant").last
        text = box.locator(".answer").inner_text()
        assert "connection to the server was lost" in text and "network error" not in text
        assert box.locator("button.retry").count() == 1
        page.locator("#server.offline").wait_for()
        assert "not reachable" in page.locator("#server").inner_text()
        _, box = ask(page, BIDEN)  # while it is down
        text = box.locator(".answer").inner_text()
        assert "Cannot reach the server" in text and "Failed to fetch" not in text
        srv = start_server(tmp_path / "home", tmp_path / "b.log", port=port)
        box.locator("button.retry").click()
        wait_idle(page)
        assert box.locator("button.cite").count() >= 1  # the retry answered
        page.locator("#server:not(.offline)").wait_for()
    finally:
        stop_server(srv)


@pytest.mark.parametrize("view", ["page", "phone"])
def test_the_question_box_shows_all_of_its_text(server: Server, view, request):
    """#13.6: the placeholder was cut on a phone; a second line pushed the first out of view."""
    page = request.getfixturevalue(view)
    page.goto(server.url)
    box = page.locator("#question")
    fits = page.evaluate(
        """() => {
          const q = document.getElementById('question'), s = getComputedStyle(q);
          const ctx = document.createElement('canvas').getContext('2d');
          ctx.font = `${s.fontSize} ${s.fontFamily}`;
          const room = q.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
          return ctx.measureText(q.placeholder).width <= room;
        }"""
    )
    assert fits
    box.fill("")
    box.press_sequentially("first line")
    for line in ("second line", "third line"):
        box.press("Shift+Enter")
        box.press_sequentially(line)
    assert page.locator(".msg").count() == 0  # Shift+Enter did not send
    sizes = box.evaluate("q => [q.scrollHeight, q.clientHeight]")
    assert sizes[0] <= sizes[1] + 1, sizes  # nothing scrolled out of view
    assert box.evaluate("q => q.scrollTop") == 0


def test_the_api_docs_work_offline(server: Server, page):
    """#13.7: /docs loaded Swagger UI from a CDN (the `page` fixture fails on other hosts)."""
    page.goto(f"{server.url}/docs")
    page.locator(".swagger-ui .info .title").filter(has_text="rag").wait_for()
    assert page.locator(".opblock-summary-path").filter(has_text="/v1/chat/completions").count()
    assert httpx.get(f"{server.url}/redoc").status_code == 404  # the other CDN page is gone


def test_only_the_follow_up_is_condensed_and_the_user_may_keep_their_words(server: Server, page):
    """#13.9: "And when did it happen?" after ISKP and Crocus questions was rewritten about
    ISKP's leader. #23: every later question was rewritten, whether it needed it or not. The
    page sends only finished turns; the server rewrites only the follow-up, from its thread;
    what it searched for is shown with the answer, and a button searches the words as typed."""
    page.goto(server.url)
    ask(page, ISKP)
    _, crocus = ask(page, CROCUS)
    assert "condensing" not in (crocus.get_attribute("data-stages") or "")  # stands alone
    sent, box = ask(page, "And when did it happen?")
    assert [m["content"] for m in sent if m["role"] == "user"] == [
        ISKP,
        CROCUS,
        "And when did it happen?",
    ]
    stages = (box.get_attribute("data-stages") or "").split(",")
    assert stages[:2] == ["condensing", "retrieving"], stages
    assert box.locator(".searched").inner_text().startswith("searched for: ")
    with page.expect_request("**/v1/chat/completions") as again:
        box.locator("button.own-words").click()
    assert json.loads(again.value.post_data or "{}")["rag_rewrite"] is False
    wait_idle(page)
    box = page.locator(".msg.assistant").last
    assert "condensing" not in (box.get_attribute("data-stages") or "")
    assert box.locator(".searched").inner_text() == "searched for your own words, as typed"
    assert box.locator("button.own-words").count() == 0


def test_a_source_on_the_page_says_its_page_and_section(server: Server, page):
    """Citations carry `page` and `section` (issue 20): the sources list, the quoted passage and
    "copy with sources" name them after the file, as the CLI does."""
    page.goto(server.url)
    shown = page.evaluate("where({source: 'fhs.pdf', page: 20, section: '3.13. /opt › Purpose'})")
    assert shown == "fhs.pdf, p. 20, 3.13. /opt › Purpose"
    assert page.evaluate("where({source: 'essay.txt', page: null, section: ''})") == "essay.txt"
