"""The chat page a person keeps open all day (issue 25), in real Chromium against a real server
(the 135M model): defects 1-9 of the issue, Markdown rendered safely, edit and resend, versions
of an answer, rename, search and export of chats.

Chats the page saved are planted in localStorage where a test needs answers the 135M model
would not write (Markdown, hostile HTML): the page renders saved and live answers alike.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.api.browser import ask, send, wait_idle
from tests.api.server import API_KEY, BIDEN, Server

ISKP = "Who leads ISKP?"
CROCUS = "How many people did the March 2024 Crocus City Hall attack kill?"
STORE = "rag-chats-v1"


def _plant(page, url: str, chats: list[dict]) -> None:
    page.goto(url)
    page.evaluate(
        "([k, v, c]) => { localStorage.setItem(k, v); localStorage.setItem(k + '-current', c); }",
        [STORE, json.dumps(chats), chats[0]["id"]],
    )
    page.reload()


def _final(answer: str, quote: str = "a quoted passage", n: int = 1) -> dict:
    cites = [
        {"n": i, "source": "notes.md", "start": 10 * i, "end": 10 * i + 9, "quote": quote}
        for i in range(1, n + 1)
    ]
    return {"answer": answer, "citations": cites, "declined": False, "confidence": 0.9}


def _lines(page, selector: str) -> float:
    """How many lines the element's text takes (its height over its line height)."""
    return page.locator(selector).evaluate(
        "e => { const s = getComputedStyle(e); const r = document.createRange();"
        " r.selectNodeContents(e); const h = r.getBoundingClientRect().height;"
        " return h / parseFloat(s.lineHeight); }"
    )


# ---- defect 1: the API key -----------------------------------------------------------------
def test_a_server_with_a_key_asks_for_it_at_once_and_says_when_it_is_wrong(
    keyed_server: Server, page
):
    page.goto(keyed_server.url)
    page.wait_for_function("() => document.activeElement.id === 'key'")  # before any question
    assert page.locator("#key").is_visible()
    assert "needs an API key" in page.locator("#start-what").inner_text()
    page.fill("#key", "not-the-key")
    page.press("#key", "Enter")
    page.locator("#key-status", has_text="not accepted").wait_for()
    assert page.evaluate("document.activeElement.id") == "key"
    # the Documents dialog asks for the key inside itself (the header's box is behind it)
    page.fill("#key", "")
    page.click("#docs-open")
    box = page.locator("dialog#docs #docs-key-input")
    box.wait_for()
    assert box.is_visible()
    page.wait_for_function("() => document.activeElement.id === 'docs-key-input'")
    box.fill(API_KEY)
    page.locator("#docs-key button").click()
    page.locator("#doc-table tbody tr[data-source]").first.wait_for()
    assert not box.is_visible()
    page.click("[data-close=docs]")
    page.locator("#start-what", has_text="document(s) are indexed").wait_for()


# ---- defect 2: the chat list on a phone ------------------------------------------------------
def test_on_a_phone_the_chat_list_leaves_its_button_and_closes_on_escape_or_outside(
    server: Server, phone
):
    phone.goto(server.url)
    phone.click("#menu")
    side = phone.locator("#side")
    assert side.is_visible()
    menu = phone.locator("#menu").bounding_box()
    assert menu
    on_top = phone.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).id",
        [menu["x"] + menu["width"] / 2, menu["y"] + menu["height"] / 2],
    )
    assert on_top == "menu"  # not covered by the list
    phone.keyboard.press("Escape")
    assert not side.is_visible()
    assert phone.evaluate("document.activeElement.id") == "menu"
    phone.click("#menu")
    assert side.is_visible()
    phone.mouse.click(370, 600)  # outside the list
    assert not side.is_visible()
    phone.click("#menu")
    phone.click("#menu")  # the button closes it too
    assert not side.is_visible()


# ---- defects 3, 4 and 6 (an upload): the table, titles, the upload line ---------------------
def test_documents_table_titles_and_upload_lines(own_server: Server, page, phone, tmp_path):
    page.goto(own_server.url)
    start = page.locator("#start-what")
    start.filter(has_text="indexed").wait_for()
    assert "Afghanistan counterterrorism mei 2024" in start.inner_text()  # not its first sentence
    assert "At a July 2023 press conference" not in start.inner_text()
    name = "velmora-lighthouse-annual-maintenance-report-2024.md"
    doc = tmp_path / name
    doc.write_text("# The Velmora Lighthouse\n\nThe Velmora lighthouse was first lit in 1872.\n")
    page.click("#docs-open")
    page.set_input_files("#files", [str(doc)])
    page.locator(f'#uploads li[data-name="{name}"].done').wait_for()
    row = page.locator(f'#doc-table tr[data-source="{name}"]')
    row.wait_for()
    for i in range(1, 6):  # headers and buttons on one line each: no "Chunk/s", "Delet/e"
        assert _lines(page, f"#doc-table th:nth-child({i})") < 1.5
    assert row.locator("button.delete").bounding_box()["height"] < 40
    start.filter(has_text="The Velmora Lighthouse").wait_for()
    assert "# The Velmora" not in start.inner_text()
    # on a phone the name keeps to two lines and Delete to one
    phone.goto(own_server.url)
    phone.click("#docs-open")
    cell = f'#doc-table tr[data-source="{name}"] td.name'
    phone.locator(cell).wait_for()
    assert _lines(phone, cell) <= 2.5
    assert _lines(phone, f'#doc-table tr[data-source="{name}"] button.delete') < 1.5
    # deleting the document takes its "added" line with it
    page.once("dialog", lambda d: d.accept())
    row.locator("button.delete").click()
    row.wait_for(state="detached")
    assert page.locator(f'#uploads li[data-name="{name}"]').count() == 0


# ---- defect 5: a file over the limit is refused before it is sent ---------------------------
def test_a_file_over_the_upload_limit_is_refused_before_it_is_sent(server: Server, page, tmp_path):
    big = tmp_path / "big-notes.txt"  # the `server` fixture allows 1 MB
    big.write_text("The lighthouse keeper wrote the log every night.\n" * 32_000)  # 1.6 MB
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.goto(server.url)
    page.locator("#examples button").first.wait_for()  # the overview (and its limit) is in
    page.click("#docs-open")
    page.set_input_files("#files", [str(big)])
    state = page.locator('#uploads li[data-name="big-notes.txt"].failed .state')
    state.wait_for()
    assert "1.6 MB is over this server's 1 MB upload limit" in state.inner_text()
    assert posts == []


# ---- defects 6 and 8: stale hints, the list during a first answer, the status line ----------
def test_a_first_question_lists_its_chat_at_once_and_hints_go_when_done(server: Server, page):
    page.goto(server.url)
    send(page, BIDEN)
    chats = page.locator("#chats li .open")
    assert chats.count() == 1 and chats.get_attribute("aria-current") == "true"
    page.fill("#question", ISKP)
    page.press("#question", "Enter")
    assert "still being written" in page.locator("#hint").inner_text()
    wait_idle(page)
    assert page.locator("#hint").inner_text() == ""
    status = page.locator(".msg.assistant .status").inner_text()
    assert "token" not in status and "answered in" in status, status


# ---- defect 9 and search ---------------------------------------------------------------------
def test_chat_names_are_told_apart_and_chats_are_searched_by_their_words(server: Server, page):
    a = "What does it say about the Taliban's relations with al-Qaeda after 2021?"
    b = "What does it say about the Taliban's relations with Pakistan after 2021?"
    chats = [
        {
            "id": "c1",
            "title": a,
            "updated": 2,
            "turns": [{"q": a, "final": _final("They kept close ties with the haqqanis [1].")}],
        },
        {
            "id": "c2",
            "title": b,
            "updated": 1,
            "turns": [{"q": b, "final": _final("Relations with Islamabad soured [1].")}],
        },
    ]
    _plant(page, server.url, chats)
    names = page.locator("#chats .open")
    assert names.count() == 2
    for i in range(2):  # the whole name shows, not "What does it say a…" twice
        size = names.nth(i).evaluate(
            "e => [e.scrollWidth, e.clientWidth, e.scrollHeight, e.clientHeight]"
        )
        assert size[0] <= size[1] + 1 and size[2] <= size[3] + 1, size
    page.fill("#chat-search", "haqqanis")  # a word of an answer
    assert names.all_inner_texts() == [a]
    page.fill("#chat-search", "pakistan islamabad")  # words of a question and of an answer
    assert names.all_inner_texts() == [b]
    page.fill("#chat-search", "zanzibar")
    assert names.count() == 0 and "No chat has these words" in page.locator("#chats").inner_text()


# ---- Markdown, safely --------------------------------------------------------------------------
HOSTILE = (
    "**Haibatullah** leads the Taliban [1].\n\n"
    "- first point <img src=x onerror=window.pwned=1>\n"
    "- second point `code`\n\n"
    "<script>window.pwned=2</script>\n\n"
    "[click me](javascript:window.pwned=3) ![tracker](http://evil.example/t.png)"
)


def test_answers_and_quotes_are_markdown_and_no_html_from_them_reaches_the_page(
    server: Server, page
):
    chat = {
        "id": "m1",
        "title": "markdown",
        "updated": 1,
        "turns": [{"q": "Who leads?", "final": _final(HOSTILE, quote="the *emir* <b>rules</b>")}],
    }
    _plant(page, server.url, [chat])
    answer = page.locator(".msg.assistant .answer")
    assert answer.locator("strong").inner_text() == "Haibatullah"
    assert answer.locator("li").count() == 2 and answer.locator("code").inner_text() == "code"
    assert answer.locator("p button.cite").count() == 1  # the citation inside the paragraph
    assert answer.locator("img, script, [onerror]").count() == 0
    assert answer.locator("a").count() == 0  # a javascript: link stays text
    text = answer.inner_text()
    assert "<img src=x onerror=window.pwned=1>" in text and "<script>" in text
    assert "[image: tracker]" in text
    answer.locator("button.cite").click()
    quote = page.locator(".passage .quote")
    assert quote.locator("em").inner_text() == "emir" and quote.locator("b").count() == 0
    assert "<b>rules</b>" in quote.inner_text()
    assert page.evaluate("window.pwned") is None


def test_a_live_answer_is_rendered_as_markdown_with_its_citations(server: Server, page):
    page.goto(server.url)
    _, box = ask(page, BIDEN)
    answer = box.locator(".answer")
    assert "md" in (answer.get_attribute("class") or "")
    assert answer.locator("p").count() >= 1
    assert answer.locator("p button.cite").count() >= 1


# ---- edit, versions, rename, export ------------------------------------------------------------
def test_edit_a_sent_question_replaces_it_and_the_later_turns(server: Server, page):
    page.goto(server.url)
    ask(page, ISKP)
    ask(page, BIDEN)
    first = page.locator(".msg.user").first
    first.locator("button.edit").click()
    box = first.locator("textarea.edit-box")
    assert box.input_value() == ISKP
    box.fill(CROCUS)
    with page.expect_request("**/v1/chat/completions") as sent:
        box.press("Enter")
    assert sent.value.post_data_json["messages"] == [{"role": "user", "content": CROCUS}]
    wait_idle(page)
    assert page.locator(".msg.user").count() == 1
    assert CROCUS in page.locator(".msg.user").inner_text()
    assert page.locator("#chats .open").all_inner_texts() == [CROCUS]  # a first question names it


def test_regenerate_keeps_the_versions(server: Server, page):
    page.goto(server.url)
    _, box = ask(page, BIDEN)
    first = box.locator(".answer").inner_text()
    box.locator("button.regenerate").click()
    wait_idle(page)
    assert box.locator(".version-nav .count").inner_text() == "2/2"
    box.locator("button.prev").click()
    assert box.locator(".version-nav .count").inner_text() == "1/2"
    assert box.locator(".answer").inner_text() == first
    assert box.locator("button.cite").count() >= 1
    page.reload()  # kept, on the version last shown
    box = page.locator(".msg.assistant").last
    assert box.locator(".version-nav .count").inner_text() == "1/2"
    box.locator("button.next").click()
    assert box.locator(".version-nav .count").inner_text() == "2/2"


def test_rename_and_export_a_chat_as_markdown_and_json(server: Server, page, tmp_path: Path):
    page.goto(server.url)
    _, box = ask(page, BIDEN)
    page.click("#rename")
    page.fill(".rename-box", "Biden press conference")
    page.press(".rename-box", "Enter")
    assert page.locator("#chat-title").inner_text() == "Biden press conference"
    assert page.locator("#chats .open").all_inner_texts() == ["Biden press conference"]
    final = page.evaluate(f"JSON.parse(localStorage.getItem('{STORE}'))[0].turns[0].final")
    with page.expect_download() as got:
        page.click("#export-md")
    assert got.value.suggested_filename == "biden-press-conference.md"
    text = Path(got.value.path()).read_text()
    assert text.startswith("# Biden press conference\n")
    assert BIDEN in text and final["answer"] in text and "**Sources**" in text
    for c in final["citations"]:
        assert (
            " ".join(c["quote"].split()) in text and f"characters {c['start']}–{c['end']}" in text
        )
    with page.expect_download() as got:
        page.click("#export-json")
    data = json.loads(Path(got.value.path()).read_text())
    assert data["format"] == "rag-chat/1" and data["chat"]["title"] == "Biden press conference"
    assert data["chat"]["turns"][0]["final"]["citations"] == final["citations"]
    page.reload()
    assert page.locator("#chats .open").all_inner_texts() == ["Biden press conference"]


def test_the_vendored_renderer_is_the_published_file():
    """api/static/VENDOR.md names the sha256 of markdown-it.min.js as npm publishes it."""
    import hashlib
    import re

    static = Path(__file__).resolve().parents[2] / "api" / "static"
    listed = re.search(
        r"`markdown-it\.min\.js`.*`([0-9a-f]{64})` \|", (static / "VENDOR.md").read_text()
    )
    assert listed, "VENDOR.md lists no sha256 for markdown-it.min.js"
    assert hashlib.sha256((static / "markdown-it.min.js").read_bytes()).hexdigest() == listed[1]
