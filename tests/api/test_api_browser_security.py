"""In headless Chromium: a page from a second loopback origin cannot upload to the server
(no API key set), while the server's own page can; the page runs under its strict CSP."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import httpx
import pytest

from tests.api.server import Server, _free_port

ATTACK = """<!doctype html><title>attack</title><script>
const fd = new FormData();
fd.append("file", new Blob(["Planted by another site."], {type: "text/plain"}), "%s");
fetch("%s/documents", {method: "POST", mode: "no-cors", body: fd})
  .then(() => { document.title = "sent"; }, (e) => { document.title = "failed " + e; });
</script>"""


@pytest.fixture
def browser_page(browser):
    """A plain page of the session's Chromium (tests/api/conftest.py): no CSP of its own, so the
    attacking page's script runs as it would on another site."""
    context = browser.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def other_origin(server: Server) -> Iterator[str]:
    """A second loopback origin (another port) serving a page that uploads to `server`."""
    body = (ATTACK % ("planted.txt", server.url)).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", _free_port()), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


def _sources(server: Server) -> list[str]:
    return [d["source"] for d in httpx.get(f"{server.url}/documents").json()]


def test_a_page_from_another_origin_cannot_upload(server: Server, browser_page, other_origin):
    refused: list[int] = []
    browser_page.on(
        "response", lambda r: refused.append(r.status) if "/documents" in r.url else None
    )
    browser_page.goto(other_origin)
    browser_page.wait_for_function("document.title !== 'attack'", timeout=60_000)
    assert browser_page.title() == "sent"  # the browser did send it (no-cors hides the reply)
    assert refused == [403]
    assert "planted.txt" not in _sources(server)


def test_the_servers_own_page_can_upload_under_its_csp(server: Server, browser_page):
    errors: list[str] = []
    browser_page.on("pageerror", lambda exc: errors.append(str(exc)))
    browser_page.on(
        "console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None
    )
    browser_page.goto(server.url)
    browser_page.locator("#server").filter(has_text="document").wait_for(timeout=60_000)
    status = browser_page.evaluate(
        """async () => {
          const fd = new FormData();
          fd.append("file", new Blob(["Owned notes. The pier is 40 m long."]), "own.txt");
          const r = await fetch("/documents", {method: "POST", body: fd});
          return r.status;
        }"""
    )
    assert status == 201
    assert "own.txt" in _sources(server)
    assert httpx.delete(f"{server.url}/documents/own.txt").status_code == 200
    assert not errors, errors  # the page's own script and style run under the CSP
