"""Helpers for the browser tests: open a page under a strict CSP, ask through it, wait."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx

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
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# the policy the app is meant to be served with: no inline script or style, nothing from afar
CSP = "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'"
LONG_WAIT = 600_000  # ms: an answer on a 2-core machine shared with other work


@contextmanager
def open_page(browser: Any, viewport: dict[str, int], **options: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=viewport, **options)
    problems: list[str] = []

    def guard(route: Any) -> None:
        url = urlparse(route.request.url)
        if url.hostname not in ("127.0.0.1", "localhost"):
            problems.append(f"asked another host: {route.request.url}")
            route.abort()
        elif route.request.resource_type == "document":
            try:
                response = route.fetch()
            except Exception:  # a reused keep-alive socket the server had just closed:
                response = route.fetch()  # a browser retries such a GET once, so do we
            route.fulfill(
                response=response, headers={**response.headers, "content-security-policy": CSP}
            )
        else:
            route.fallback()

    context.route("**/*", guard)
    page = context.new_page()
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on(
        "console",
        lambda m: (
            problems.append(f"console: {m.text}") if "Content Security Policy" in m.text else None
        ),
    )
    try:
        yield page
    finally:
        context.close()
    assert not problems, problems


def wait_idle(page: Any) -> None:
    """Until no answer is being written (the stream ended, failed or was stopped)."""
    page.wait_for_function("() => !document.body.hasAttribute('data-busy')", timeout=LONG_WAIT)


def wait_writing(page: Any) -> None:
    """Until the model is writing the last answer (the stage; its verified text may be held
    until the reply is checked)."""
    page.wait_for_function(
        "() => { const b = [...document.querySelectorAll('.msg.assistant')].pop();"
        " return b && (Number(b.dataset.tokens) > 0"
        " || (b.dataset.stages || '').split(',').includes('writing')); }",
        timeout=LONG_WAIT,
    )


def send(page: Any, question: str) -> list[dict[str, str]]:
    """Type `question`, press Enter; the messages the page sent."""
    with page.expect_request("**/v1/chat/completions") as sent:
        page.fill("#question", question)
        page.press("#question", "Enter")
    return json.loads(sent.value.post_data or "{}")["messages"]


def ask(page: Any, question: str) -> tuple[list[dict[str, str]], Any]:
    """Ask and wait for the end; (the messages sent, the answer's box)."""
    messages = send(page, question)
    wait_idle(page)
    return messages, page.locator(".msg.assistant").last


def queue(server: Any) -> dict[str, int]:
    return httpx.get(f"{server.url}/readyz", timeout=10).json()["queue"]
