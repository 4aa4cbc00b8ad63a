"""Browser-facing defences: security headers, Host check, cross-origin writes, CORS off by
default (on when configured), and the warning for a server reachable beyond loopback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from api.main import create_app
from api.security import serve_warnings
from rag.config import Settings
from tests.api.server import Server, _free_port, raw_request

NOTE = b"Harbour notes\nThe lighthouse at Port Ellen was built in 1832.\n"


def test_every_response_carries_the_security_headers(server: Server):
    with server.client() as c:
        for r in (c.get("/"), c.get("/static/app.js"), c.get("/healthz"), c.post("/ask", json={})):
            csp = r.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
            assert "'unsafe-inline'" not in csp
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["x-frame-options"] == "DENY"


def test_the_page_has_no_inline_script_or_style(server: Server):
    with server.client() as c:
        page = c.get("/").text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
        assert "<style" not in page and " on" + "click=" not in page
        for src in re.findall(r"""(?:src|href)=["'](/static/[^"']+)""", page):
            assert c.get(src).status_code == 200, src


def test_an_unknown_host_header_is_refused(server: Server):
    port = server.url.rsplit(":", 1)[1]
    with server.client() as c:
        rebound = c.get("/documents", headers={"host": f"evil.example:{port}"})
        assert rebound.status_code == 400 and "RAG_ALLOWED_HOSTS" in rebound.json()["detail"]
        assert c.get("/healthz", headers={"host": f"localhost:{port}"}).status_code == 200


def _get(server: Server, *headers: bytes) -> tuple[int, dict[str, str], bytes]:
    """GET /healthz with exactly these header lines (and Connection: close)."""
    return raw_request(
        server, b"\r\n".join([b"GET /healthz HTTP/1.1", *headers, b"Connection: close", b"", b""])
    )


def test_a_malformed_host_header_is_refused(server: Server):
    port = server.url.rsplit(":", 1)[1].encode()
    for host in (
        b"127.0.0.1:" + port + b"@evil.example",  # read as evil.example by some parsers
        b"user:pw@127.0.0.1:" + port,
        b"127.0.0.1:8x",
        b"127.0.0.1:99999",
        b"127.0.0.1:0",
        b"[::1]x",
        b"[::1]:80x",
        b"[evil.example]",
        b"127.0.0.1 :" + port,
        b"local host",
        b"",
    ):
        status, headers, body = _get(server, b"Host: " + host)
        assert status == 400, (host, status, body)
        detail = json.loads(body)["detail"]
        assert "bad Host header" in detail and "RAG_ALLOWED_HOSTS" in detail, (host, detail)
        assert headers["x-content-type-options"] == "nosniff"
    for host in (b"127.0.0.1", b"127.0.0.1:" + port, b"localhost", b"[::1]:" + port, b"[::1]"):
        assert _get(server, b"Host: " + host)[0] == 200, host


def test_a_repeated_host_origin_or_sec_fetch_site_header_is_refused(server: Server):
    host = b"Host: 127.0.0.1"
    for name, first, second in (
        (b"Host", b"127.0.0.1", b"evil.example"),
        (b"Origin", b"http://evil.example", server.url.encode()),  # the last one used to win
        (b"Sec-Fetch-Site", b"cross-site", b"same-origin"),
    ):
        lines = [host] if name != b"Host" else []
        status, _, body = _get(server, *lines, name + b": " + first, name + b": " + second)
        assert status == 400, (name, status, body)
        detail = json.loads(body)["detail"]
        assert name.decode() in detail and ("more than one" in detail or "multiple" in detail)
    with server.client() as c:  # a write with two Origin headers changes nothing either
        two = [("origin", "http://evil.example"), ("origin", server.url)]
        r = c.delete("/documents/nothing-here", headers=two)
        assert r.status_code == 400 and "Origin" in r.json()["detail"]


def test_an_oversized_request_head_gets_431_not_a_reset(server: Server):
    """The limit is RAG_MAX_HEADER_BYTES (16 KiB here): over it, 431 with the setting's name,
    whether the head comes in one piece or is still arriving; under it, an answer."""
    for size in (17_000, 200_000):
        status, headers, body = _get(server, b"Host: 127.0.0.1", b"X-Big: " + b"a" * size)
        assert status == 431, (size, status, body)
        assert headers["connection"] == "close"
        assert "RAG_MAX_HEADER_BYTES" in json.loads(body)["detail"]
    assert _get(server, b"Host: 127.0.0.1", b"X-Big: " + b"a" * 15_000)[0] == 200
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_cross_origin_writes_are_refused_and_same_origin_ones_pass(server: Server):
    files = {"file": ("harbour-x.txt", NOTE, "text/plain")}
    with server.client() as c:
        before = c.get("/documents").json()
        for headers in (
            {"origin": "http://127.0.0.1:1"},  # another port is another origin
            {"origin": "null"},
            {"sec-fetch-site": "cross-site"},
            {"origin": "http://localhost:1", "sec-fetch-site": "same-site"},
        ):
            r = c.post("/documents", files=files, headers=headers)
            assert r.status_code == 403 and "RAG_CORS_ORIGINS" in r.json()["detail"], headers
            assert c.delete("/documents/harbour-x.txt", headers=headers).status_code == 403
        assert c.get("/documents").json() == before
        same = {"origin": server.url, "sec-fetch-site": "same-origin"}
        ok = c.post("/documents", files=files, headers=same)
        assert ok.status_code == 201, ok.text
        assert c.delete("/documents/harbour-x.txt", headers=same).status_code == 200
        preflight = c.options(
            "/ask",
            headers={"origin": "http://127.0.0.1:1", "access-control-request-method": "POST"},
        )
        assert "access-control-allow-origin" not in preflight.headers  # CORS is off


def test_configured_origins_and_hosts_are_let_in(tmp_path: Path):
    settings = Settings(
        home=tmp_path / "home",
        allowed_hosts=["rag.lan"],
        cors_origins=["http://tools.lan:3000"],
    )
    c = TestClient(create_app(settings), base_url="http://rag.lan")  # no lifespan: not loaded
    allowed = c.post("/ask", json={"question": "q"}, headers={"origin": "http://tools.lan:3000"})
    assert allowed.status_code == 503  # past the guard, to a server still loading
    assert allowed.headers["access-control-allow-origin"] == "http://tools.lan:3000"
    other = c.post("/ask", json={"question": "q"}, headers={"origin": "http://evil.lan"})
    assert other.status_code == 403
    assert c.get("/healthz", headers={"host": "127.0.0.1"}).status_code == 400
    assert (
        TestClient(
            create_app(settings.model_copy(update={"allowed_hosts": ["*"]})),
            base_url="http://any.where",
        )
        .get("/healthz")
        .status_code
        == 200
    )


def test_serving_beyond_loopback_without_a_key_warns(tmp_path: Path):
    assert serve_warnings(Settings(), "127.0.0.1") == []
    assert serve_warnings(Settings(api_key="k", allowed_hosts=["*"]), "0.0.0.0") == []
    env = {**os.environ, "RAG_HOME": str(tmp_path / "home"), "RAG_MODEL": "smollm2"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "api.cli",
            "serve",
            "--host",
            "0.0.0.0",
            "--port",
            str(_free_port()),
        ],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        assert "warning" in first and "without an API key" in first and "RAG_API_KEY" in first
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_http_statuses_are_decided_at_the_api_edge():
    """The core's errors carry no HTTP status; api/errors.py maps them (unknown ones: 400)."""
    import rag.errors as core
    from api.errors import STATUS, http_status

    assert not any(hasattr(getattr(core, n), "http_status") for n in dir(core))
    assert http_status(core.NotFoundError("x")) == 404
    assert http_status(core.DocumentError("x")) == 422
    assert http_status(core.ConfigError("x")) == 400
    assert set(STATUS) >= {core.ModelServerError, core.StoreUnavailableError}
