"""What the chat page offers beyond asking (issue #13), in real Chromium against a real server:
documents, history, copy and regenerate, the start screen, light and dark, screenshots."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rag.config import DEFAULT_CORPUS
from tests.api.browser import ask, wait_idle
from tests.api.server import BIDEN, Server

SCREENSHOTS = os.environ.get("RAG_SCREENSHOTS")  # a folder: `make screenshots` sets docs/


def _rows(page) -> list[str]:
    return page.locator("#doc-table tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.source).filter(Boolean)"
    )


def test_documents_upload_by_picker_and_drop_list_and_delete(own_server: Server, page, tmp_path):
    page.goto(own_server.url)
    page.click("#docs-open")
    dialog = page.locator("dialog#docs")
    dialog.locator("#doc-table tbody tr").first.wait_for()
    row = dialog.locator("#doc-table tbody tr").first
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == DEFAULT_CORPUS.name and "k chars" in cells[1] and int(cells[2]) > 5
    assert "UTC" in cells[3]  # when it was indexed
    # several files by the picker: one good, two refused with the server's words
    good = tmp_path / "bees.md"
    good.write_text("# Bees\nA honey bee colony has one queen and thousands of workers.\n")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    (tmp_path / "tool.exe").write_bytes(b"MZ\x00\x00")
    page.set_input_files("#files", [str(good), str(empty), str(tmp_path / "tool.exe")])
    uploads = dialog.locator("#uploads li")
    for name in ("bees.md", "empty.txt", "tool.exe"):
        dialog.locator(f'#uploads li[data-name="{name}"] .state').filter(
            has_not_text="…"
        ).wait_for()
    states = dict(
        zip(
            uploads.locator(".name").all_inner_texts(),
            uploads.locator(".state").all_inner_texts(),
            strict=True,
        )
    )
    assert states["bees.md"].startswith("added")
    assert states["tool.exe"].startswith("not added") and "unsupported type" in states["tool.exe"]
    assert states["empty.txt"].startswith("not added") and "empty" in states["empty.txt"]
    page.wait_for_function("() => document.querySelectorAll('#doc-table tbody tr').length == 2")
    # drag and drop
    page.evaluate(
        """() => {
          const dt = new DataTransfer();
          dt.items.add(new File(['Mount Etna is on the island of Sicily.\\n'], 'etna.txt',
                                {type: 'text/plain'}));
          document.getElementById('drop').dispatchEvent(
            new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
        }"""
    )
    dialog.locator('#uploads li[data-name="etna.txt"].done').wait_for()
    page.wait_for_function("() => document.querySelectorAll('#doc-table tbody tr').length == 3")
    assert _rows(page) == ["afghanistan-counterterrorism-mei-2024.txt", "bees.md", "etna.txt"]
    # delete asks first: dismissed keeps it, accepted removes it
    page.once("dialog", lambda d: d.dismiss())
    dialog.get_by_role("button", name="delete bees.md").click()
    assert "bees.md" in _rows(page)
    page.once("dialog", lambda d: d.accept())
    dialog.get_by_role("button", name="delete bees.md").click()
    page.wait_for_function("() => document.querySelectorAll('#doc-table tbody tr').length == 2")
    assert _rows(page) == ["afghanistan-counterterrorism-mei-2024.txt", "etna.txt"]
    page.locator("#server").filter(has_text="2 document(s)").wait_for()


def test_chats_survive_a_reload_and_can_be_listed_opened_and_deleted(server: Server, page):
    page.goto(server.url)
    ask(page, BIDEN)
    page.reload()
    page.locator(".msg.assistant button.cite").first.wait_for()
    assert page.locator(".msg.user .answer").inner_text() == BIDEN
    page.click("#new")
    assert page.locator("#start").is_visible() and page.locator(".msg").count() == 0
    sent, _ = ask(page, "What is the boiling point of mercury?")
    assert len(sent) == 1
    chats = page.locator("#chats li")
    assert chats.count() == 2
    page.locator("#chats .open", has_text="When did Joe Biden").click()
    assert page.locator(".msg.user").count() == 1
    assert BIDEN in page.locator(".msg.user").inner_text()
    sent, _ = ask(page, "And where?")  # the opened chat is the history again
    assert [m["content"] for m in sent][0] == BIDEN and len(sent) == 3
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="delete the chat “What is the boiling point").click()
    assert chats.count() == 1
    page.reload()
    assert page.locator("#chats li").count() == 1


def test_copy_an_answer_with_its_sources_and_regenerate_it(server: Server, browser):
    from tests.api.browser import DESKTOP, open_page

    with open_page(browser, DESKTOP, permissions=["clipboard-read", "clipboard-write"]) as page:
        page.goto(server.url)
        sent, box = ask(page, BIDEN)
        box.locator("button.copy").click()
        box.locator("button.copy", has_text="Copied").wait_for()
        copied = page.evaluate("navigator.clipboard.readText()")
        answer = box.locator(".answer").inner_text()
        assert copied.startswith(answer.strip())
        assert f"Sources:\n[1] {DEFAULT_CORPUS.name}, characters " in copied
        text = DEFAULT_CORPUS.read_text()
        quote = copied.split("Sources:\n[1] ")[1].split(": “", 1)[1].split("”")[0]
        assert quote in text
        with page.expect_request("**/v1/chat/completions") as again:
            box.locator("button.regenerate").click()
        assert again.value.post_data_json["messages"] == sent
        wait_idle(page)
        assert page.locator(".msg.assistant").count() == 1  # replaced, not added
        assert box.locator("button.cite").count() >= 1


def test_the_start_screen_says_what_the_documents_are_with_example_questions(server: Server, page):
    page.goto(server.url)
    start = page.locator("#start")
    start.locator("#examples button").first.wait_for()
    assert "1 document(s) are indexed" in start.inner_text()
    examples = start.locator("#examples button")
    assert examples.count() == 3
    first = examples.first.inner_text()
    with page.expect_request("**/v1/chat/completions") as sent:
        examples.first.click()
    assert sent.value.post_data_json["messages"] == [{"role": "user", "content": first}]
    wait_idle(page)
    assert not start.is_visible()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_light_and_dark_follow_the_system(server: Server, page, scheme):
    page.emulate_media(color_scheme=scheme)
    page.goto(server.url)
    rgb = page.evaluate(
        "() => getComputedStyle(document.body).backgroundColor.match(/\\d+/g).map(Number)"
    )
    assert (sum(rgb[:3]) / 3 > 128) == (scheme == "light"), rgb


def test_keyboard_focus_order_and_labels(server: Server, page):
    page.goto(server.url)
    assert page.evaluate("document.activeElement.id") == "question"  # ready to type
    assert page.get_by_label("Your question").count() == 1
    page.locator("#examples button").first.wait_for()
    page.focus("#skip")  # the first stop
    seen = []
    for _ in range(9):
        seen.append(page.evaluate("document.activeElement.id || document.activeElement.className"))
        page.keyboard.press("Tab")
    order = [x for x in seen if x in ("skip", "docs-open", "new", "example", "question", "ask")]
    assert order[:2] == ["skip", "docs-open"] and "new" in order, seen
    assert order.index("new") < order.index("example") < order.index("question"), seen
    assert order.index("question") + 1 == order.index("ask"), seen


def test_screenshots_of_the_desktop_and_phone_views(server: Server, page, phone, tmp_path: Path):
    out = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    for name, view in (("desktop", page), ("phone", phone)):
        view.goto(server.url)
        _, box = ask(view, BIDEN)
        box.locator("button.cite").first.click()
        view.screenshot(path=str(out / f"chat-{name}.png"))
        assert (out / f"chat-{name}.png").stat().st_size > 10_000
