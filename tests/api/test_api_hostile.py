"""Input an attacker would send: hostile files, NaN in JSON, prompts past the context window,
bad questions while the queue is full. Each gets a clear 4xx (or an answer), never a 500."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.api.server import BIDEN, Server, run_async
from tests.hostile import BAD_NAMES, hostile_files, text_pdf

CJK = ("阿富汗塔利班政权的领导人是谁以及伊斯兰国呼罗珊省" * 90)[:2000]  # RAG_MAX_QUESTION_CHARS


def _rss_mb(server: Server) -> float:
    for line in Path(f"/proc/{server.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _multipart(name: str, data: bytes) -> tuple[bytes, str]:
    """A multipart body whose file name goes out byte for byte (httpx would escape it)."""
    head = b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="'
    tail = b'"\r\nContent-Type: text/plain\r\n\r\n' + data + b"\r\n--b0undary--\r\n"
    return head + name.encode() + tail, "multipart/form-data; boundary=b0undary"


def _files(home: Path) -> set[Path]:
    """Every path under the server's folder, except inside the index and the model cache."""
    root = home.parent
    return {
        p.relative_to(root)
        for p in root.rglob("*")
        if not {"index", "cache"} & set(p.relative_to(root).parts)
    }


def test_hostile_files_are_refused_one_by_one_and_memory_stays_flat(server: Server):
    with server.client() as c:
        warm = c.post("/documents", files={"file": ("warm.pdf", text_pdf("Warm up."), "x/y")})
        assert warm.status_code == 201, warm.text
        assert c.delete("/documents/warm.pdf").status_code == 200
        before_docs = c.get("/documents").json()
        before_files = _files(server.home)
        baseline = _rss_mb(server)
        for label, name, data in hostile_files():
            r = c.post("/documents", files={"file": (name, data, "application/octet-stream")})
            assert 400 <= r.status_code < 500, (label, r.status_code, r.text)
            detail = r.json()["detail"]
            assert isinstance(detail, str) and name in detail, (label, detail)
        for name in BAD_NAMES:
            body, kind = _multipart(name, b"Some words.")
            r = c.post("/documents", content=body, headers={"content-type": kind})
            assert r.status_code in (400, 415, 422), (name, r.status_code, r.text)
            assert isinstance(r.json()["detail"], str)
        assert c.get("/documents").json() == before_docs  # nothing added, nothing lost
        assert c.get("/healthz").status_code == 200
    assert _files(server.home) == before_files  # nothing written outside the index
    grown = _rss_mb(server) - baseline
    assert grown < 100, f"the server grew by {grown:.0f} MB reading hostile files"


def test_hidden_characters_in_a_file_name_are_refused_by_name(server: Server):
    """Control (Cc, C1 and DEL too) and invisible format characters (Cf: bidi, zero-width,
    BOM): 400 naming the code point; `report\u202etxt.exe` would show as `reportexe.txt`."""
    names = {
        "report\u202etxt.exe.txt": "U+202E RIGHT-TO-LEFT OVERRIDE",
        "a\u2066b.txt": "U+2066 LEFT-TO-RIGHT ISOLATE",
        "zero\u200bwidth.txt": "U+200B ZERO WIDTH SPACE",
        "join\u200dme.txt": "U+200D ZERO WIDTH JOINER",
        "mark\u200f.txt": "U+200F RIGHT-TO-LEFT MARK",
        "\ufeffbom.txt": "U+FEFF ZERO WIDTH NO-BREAK SPACE",
        "arabic\u061cmark.txt": "U+061C ARABIC LETTER MARK",
        "del\x7f.txt": "U+007F",
        "next\x85line.txt": "U+0085",
        "csi\x9b.txt": "U+009B",
    }
    with server.client() as c:
        before = c.get("/documents").json()
        for name, named in names.items():
            body, kind = _multipart(name, b"Some words.")
            r = c.post("/documents", content=body, headers={"content-type": kind})
            assert r.status_code == 400, (name, r.status_code, r.text)
            assert named in r.json()["detail"], (name, r.json()["detail"])
        assert c.get("/documents").json() == before


def test_two_file_parts_in_one_upload_are_refused_not_the_last_one_kept(server: Server):
    """Issue 24, row 8: with two `file` parts the last one won silently."""
    with server.client() as c:
        before = c.get("/documents").json()
        r = c.post(
            "/documents",
            files=[("file", ("one.txt", b"First.", "x/y")), ("file", ("two.txt", b"Two.", "x/y"))],
        )
        assert r.status_code == 400 and "one `file` part" in r.json()["detail"], r.text
        assert c.get("/documents").json() == before


def test_the_zip_bomb_is_refused_without_a_clear_reason_missing(server: Server):
    from tests.hostile import docx_bomb

    with server.client() as c:
        r = c.post("/documents", files={"file": ("bomb.docx", docx_bomb(), "x/y")})
    assert r.status_code == 422 and "zip bomb" in r.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"question": "q", "k": NaN}',
        b'{"question": "q", "k": Infinity}',
        b'{"question": NaN}',
        b'{"messages": [{"role": "user", "content": "hi"}], "temperature": NaN}',
        b'{"messages": [{"role": "user", "content": "hi"}], "max_tokens": -Infinity}',
    ],
)
def test_nan_and_infinity_in_json_are_a_422(server: Server, body: bytes):
    path = "/ask" if b"question" in body else "/v1/chat/completions"
    with server.client() as c:
        r = c.post(path, content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert isinstance(r.json()["detail"], str) and r.json()["errors"]


def test_prompts_past_the_context_window_are_trimmed_or_refused_in_words(server: Server):
    cjk = "阿富汗塔利班政权的领导人是谁以及伊斯兰国呼罗珊省" * 46  # ~1,100 characters
    emoji = "🙂" * 1500
    long_turn = ("What did the report say about ISKP attacks in Iran and Russia? " * 30)[:1990]
    with httpx.Client(base_url=server.url, timeout=600) as c:
        for q in (cjk, emoji):
            r = c.post("/ask", json={"question": q})
            assert r.status_code in (200, 422), r.text
            if r.status_code == 422:
                assert "tokens" in r.json()["detail"] and "shorten" in r.json()["detail"]
        chat = c.post(
            "/v1/chat/completions",
            json={
                "messages": [
                    {"role": "user", "content": long_turn},
                    {"role": "assistant", "content": "ISKP attacked in Kerman and Moscow. " * 50},
                    {"role": "user", "content": long_turn},
                    {"role": "assistant", "content": "The documents don't say."},
                    {"role": "user", "content": BIDEN},
                ],
            },
        )
        assert chat.status_code == 200, chat.text
        assert chat.json()["usage"]["prompt_tokens"] <= 2048
        history = [{"role": "user", "content": "x" * 400}] * 99
        many = c.post(
            "/v1/chat/completions",
            json={"messages": [*history, {"role": "user", "content": BIDEN}], "max_tokens": 8},
        )
        assert many.status_code == 200, many.text


def test_bad_questions_are_refused_before_they_take_a_queue_slot(server: Server):
    """Empty, over RAG_MAX_QUESTION_CHARS, or too many tokens for the context window (2,000
    CJK characters): 422 at once, while the queue is full, and no job fails in it."""
    hold = {
        "messages": [{"role": "user", "content": "Describe ISKP and its attacks in detail."}],
        "stream": True,
        "max_tokens": 400,
    }

    async def scenario() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
            holders = [
                asyncio.ensure_future(client.post("/v1/chat/completions", json=hold))
                for _ in range(4)  # the server's RAG_MAX_QUEUE
            ]
            while (await client.get("/readyz")).json()["queue"]["active"] < 4:
                await asyncio.sleep(0.1)
            full = await client.post("/ask", json={"question": BIDEN})
            empty = await client.post("/ask", json={"question": "   "})
            chat_empty = await client.post(
                "/v1/chat/completions", json={"messages": [{"role": "user", "content": " "}]}
            )
            too_long = await client.post("/ask", json={"question": "why " * 600})
            t0 = time.monotonic()
            tokens = await client.post("/ask", json={"question": CJK})
            chat_tokens = await client.post(
                "/v1/chat/completions", json={"messages": [{"role": "user", "content": CJK}]}
            )
            waited.append(time.monotonic() - t0)
            for h in holders:
                h.cancel()
            await asyncio.gather(*holders, return_exceptions=True)
            return [full, empty, chat_empty, too_long, tokens, chat_tokens]

    failed = httpx.get(f"{server.url}/readyz").json()["queue"]["failed"]
    waited: list[float] = []
    full, empty, chat_empty, too_long, tokens, chat_tokens = run_async(scenario())
    assert full.status_code == 503  # the queue really was full
    assert empty.status_code == 422 and "empty" in empty.json()["detail"]
    assert chat_empty.status_code == 422 and "user" in chat_empty.json()["detail"]
    assert too_long.status_code == 422 and "limit" in too_long.json()["detail"]
    for r in (tokens, chat_tokens):  # check_question_fits's words, not a 503 from the queue
        assert r.status_code == 422, r.text
        assert "tokens" in r.json()["detail"] and "RAG_N_CTX" in r.json()["detail"]
    assert waited[0] < 5, f"the two token refusals took {waited[0]:.1f} s"
    deadline = time.monotonic() + 60
    while httpx.get(f"{server.url}/readyz").json()["queue"]["active"] and (
        time.monotonic() < deadline
    ):
        time.sleep(0.2)
    assert httpx.get(f"{server.url}/readyz").json()["queue"]["failed"] == failed


def test_openapi_documents_the_error_bodies_the_server_sends(server: Server):
    with server.client() as c:
        spec = c.get("/openapi.json").json()
        sent = c.post("/ask", json={"k": 2}).json()
    error = spec["components"]["schemas"]["ErrorOut"]
    assert error["properties"]["detail"]["type"] == "string" and isinstance(sent["detail"], str)
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for status, response in op["responses"].items():
                if status.startswith(("4", "5")):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (path, method)
            if method in ("post", "delete"):
                assert {"400", "403", "422"} <= set(op["responses"]), (path, method)


def _cpu_s(server: Server) -> float:
    """CPU seconds the server process (all its threads) has used so far."""
    fields = Path(f"/proc/{server.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_an_upload_whose_client_hangs_up_is_cancelled_and_nothing_is_stored(server: Server):
    """Issue 24, row 1: on 2afc696 the upload kept indexing after the client left."""
    from tests.hostile import docx_text, varied_paragraphs

    data = docx_text(varied_paragraphs(12_000))  # ~700k characters: minutes of embedding
    body, kind = _multipart("long.docx", data)
    host, port = server.url.removeprefix("http://").split(":")
    with server.client() as c:
        before = c.get("/documents").json()
        with socket.create_connection((host, int(port))) as s:
            head = (
                f"POST /documents HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: {kind}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            )
            s.sendall(head.encode() + body)
            time.sleep(4)  # read, and embedding
        # the reading thread stops at its next check (after chunking, or an embedding batch)
        idle_after = None
        for waited in range(1, 25):
            used = _cpu_s(server)
            time.sleep(1)
            if _cpu_s(server) - used < 0.3:
                idle_after = waited
                break
        assert idle_after is not None, "the server kept working for 24 s after the client left"
        assert c.get("/documents").json() == before
        ok = c.post("/documents", files={"file": ("after.txt", b"The pier is 40 m long.", "x/y")})
        assert ok.status_code == 201
        assert c.delete("/documents/after.txt").status_code == 200
