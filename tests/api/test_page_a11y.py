"""Accessibility checked, not guessed (issue #25): axe-core, run inside real Chromium on the chat
page's main states under the app's CSP, finds nothing serious or critical.

The states: the start screen (desktop and phone, light and dark, the phone's chat list open),
an answer shown, a citation opened, the passage in its document and the Documents dialog (light
and dark). Moderate and minor findings do not fail a test; they are printed (`pytest -s`)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.browser import DESKTOP, PHONE, ask, open_page, wait_idle
from tests.api.server import BIDEN, Server

FAILING = ("serious", "critical")


def axe(page: Any) -> dict[str, Any]:
    """axe-core's report on the page as it is now; fails if axe did not run."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"resultTypes": ["violations", "incomplete"]}  # every node of these two
    response = Axe().run(page, options=options).response
    # a report from axe itself, not an error or an empty answer: its engine, the rules it applied
    assert response.get("testEngine", {}).get("name") == "axe-core", response
    assert len(response["passes"]) + len(response["violations"]) > 10, response
    return response


def readable(violations: list[dict[str, Any]], impacts: tuple[str, ...] = FAILING) -> list[str]:
    """Those of `impacts`, one string each: rule, impact, help, and every failing node's target
    with axe's summary of why it fails."""
    out = []
    for v in violations:
        if v["impact"] not in impacts:
            continue
        nodes = "".join(
            f"\n    {' '.join(map(str, n['target']))}: "
            + " / ".join((n.get("failureSummary") or "").splitlines())
            for n in v["nodes"]
        )
        out.append(f"{v['id']} ({v['impact']}, {len(v['nodes'])} node(s)): {v['help']}{nodes}")
    return out


def check(page: Any, state: str, found: dict[str, list[str]]) -> None:
    """Run axe in `state`; its serious and critical findings go to `found[state]`; the lesser
    ones, and what axe could not decide (needs review), are printed."""
    report = axe(page)
    found[state] = readable(report["violations"])
    for line in readable(report["violations"], ("moderate", "minor")):
        print(f"[{state}] {line}")
    for line in readable(report["incomplete"], (*FAILING, "moderate", "minor")):
        print(f"[{state}] needs review: {line}")


def verdict(found: dict[str, list[str]]) -> str:
    """The serious and critical findings of every state, for the assertion's message."""
    return "\n".join(f"{state}:\n  " + "\n  ".join(v) for state, v in found.items() if v)


def test_axe_runs_under_the_csp_and_finds_what_is_broken(server: Server, page):
    """So that no test below passes because axe silently did nothing: on the real page (its
    strict CSP in force), an image without alt text and faint grey text are reported."""
    page.goto(server.url)
    page.locator("#examples button").first.wait_for()
    page.evaluate(
        """() => {
          const img = document.createElement('img');
          img.id = 'no-alt';
          img.width = 20; img.height = 20;
          const faint = document.createElement('p');
          faint.id = 'faint';
          faint.textContent = 'Barely legible';
          faint.style.color = '#c8c8c8';  // CSSOM, allowed by style-src 'self'
          faint.style.background = '#ffffff';
          document.getElementById('start').append(img, faint);
        }"""
    )
    found = {v["id"]: v for v in axe(page)["violations"] if v["impact"] in FAILING}
    assert "image-alt" in found, readable(list(found.values()))
    assert ["#no-alt"] in [n["target"] for n in found["image-alt"]["nodes"]]
    assert "color-contrast" in found, readable(list(found.values()))
    assert ["#faint"] in [n["target"] for n in found["color-contrast"]["nodes"]]


@pytest.mark.parametrize(
    "view, scheme, chats",
    [
        ("desktop", "light", False),
        ("desktop", "dark", False),
        ("phone", "light", False),
        ("phone", "dark", False),
        ("phone", "light", True),
        ("phone", "dark", True),
    ],
)
def test_the_start_screen(server: Server, browser, view, scheme, chats):
    options = {"is_mobile": True, "has_touch": True} if view == "phone" else {}
    viewport = PHONE if view == "phone" else DESKTOP
    found: dict[str, list[str]] = {}
    with open_page(browser, viewport, color_scheme=scheme, **options) as page:
        page.goto(server.url)
        page.locator("#examples button").first.wait_for()
        page.locator("#server").filter(has_text="document").wait_for()
        state = f"start, {view}, {scheme}"
        if chats:  # the phone's chat list, opened by the Chats button
            page.click("#menu")
            page.locator("nav#side").wait_for(state="visible")
            state += ", chat list open"
        check(page, state, found)
    problems = verdict(found)
    assert not problems, f"axe: serious or critical findings\n{problems}"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_an_answer_its_citation_the_document_and_the_documents_dialog(
    server: Server, browser, scheme
):
    found: dict[str, list[str]] = {}
    with open_page(browser, DESKTOP, color_scheme=scheme) as page:
        page.goto(server.url)
        _, box = ask(page, BIDEN)
        cite = box.locator("button.cite").first
        cite.wait_for()
        check(page, f"answer, {scheme}", found)

        cite.click()
        box.locator(".passage blockquote").wait_for()
        check(page, f"citation open, {scheme}", found)

        box.locator(".passage button.in-context").click()
        page.locator("dialog#context mark").wait_for()
        check(page, f"passage in its document, {scheme}", found)
        page.locator("dialog#context button.close").click()

        page.click("#docs-open")
        page.locator("dialog#docs #doc-table tbody tr").first.wait_for()
        check(page, f"documents dialog, {scheme}", found)
        page.locator("dialog#docs button.close").click()

        box.locator("button.regenerate").click()
        wait_idle(page)
        box.locator(".version-nav").wait_for()
        check(page, f"two versions of the answer, {scheme}", found)

        page.locator(".msg.user button.edit").click()
        page.locator(".edit-box").wait_for()
        check(page, f"editing a question, {scheme}", found)
        page.keyboard.press("Escape")

        page.click("#rename")
        check(page, f"renaming the chat, {scheme}", found)
        page.keyboard.press("Escape")
        page.fill("#chat-search", "no-such-word")
        check(page, f"a search that finds no chat, {scheme}", found)
    problems = verdict(found)
    assert not problems, f"axe: serious or critical findings\n{problems}"


def test_a_server_that_needs_a_key(keyed_server: Server, page):
    """The start screen and the Documents dialog asking for the key."""
    found: dict[str, list[str]] = {}
    page.goto(keyed_server.url)
    page.wait_for_function("() => document.activeElement.id === 'key'")
    page.fill("#key", "not-the-key")
    page.press("#key", "Enter")
    page.locator("#key-status", has_text="not accepted").wait_for()
    check(page, "a wrong key", found)
    page.click("#docs-open")
    page.locator("#docs-key-input").wait_for()
    check(page, "the Documents dialog asking for the key", found)
    problems = verdict(found)
    assert not problems, f"axe: serious or critical findings\n{problems}"
