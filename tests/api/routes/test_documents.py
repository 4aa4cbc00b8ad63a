"""Upload, list and remove documents; bad uploads are 4xx and leave the index as it was."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from tests.api.server import Server, raw_request

NOTE = b"Harbour notes\nThe lighthouse at Port Ellen was built in 1832.\n"


def _sources(c) -> list[str]:
    return sorted(d["source"] for d in c.get("/documents").json())


def test_upload_list_and_remove(server: Server):
    with server.client() as c:
        before = _sources(c)
        up = c.post("/documents", files={"file": ("harbour.txt", NOTE, "text/plain")})
        assert up.status_code == 201, up.text
        doc = up.json()["document"]
        assert up.json()["status"] == "added" and doc["source"] == "harbour.txt"
        assert doc["chunks"] >= 1 and _sources(c) == sorted([*before, "harbour.txt"])
        again = c.post("/documents", files={"file": ("harbour.txt", NOTE, "text/plain")})
        assert again.status_code == 201 and again.json()["status"] == "unchanged"
        gone = c.delete(f"/documents/{doc['doc_id']}")
        assert gone.status_code == 200 and gone.json()["source"] == "harbour.txt"
        assert _sources(c) == before
        missing = c.delete(f"/documents/{doc['doc_id']}")
        assert missing.status_code == 404 and missing.json()["detail"]


def test_bad_uploads_are_rejected_and_the_index_is_untouched(server: Server, tmp_path: Path):
    with server.client() as c:
        before = c.get("/documents").json()
        cases = [
            (("../../x.txt", NOTE), 400, "plain name"),
            (("..\\..\\x.txt", NOTE), 400, "plain name"),
            (("notes.exe", b"MZ\x00\x01"), 415, "unsupported"),
            (("empty.txt", b""), 422, "no text"),
            (("broken.pdf", b"%PDF-1.4 not really"), 422, "broken.pdf"),
            (("big.txt", b"word " * 300_000), 413, "RAG_MAX_UPLOAD_MB"),  # 1.5 MB > 1 MB
        ]
        for (name, data), status, words in cases:
            r = c.post("/documents", files={"file": (name, data, "application/octet-stream")})
            assert r.status_code == status, (name, r.text)
            assert words in r.json()["detail"], (name, r.json())
        no_file = c.post("/documents", data={"x": "1"})
        assert no_file.status_code == 422 and "file" in no_file.json()["detail"]
        assert c.get("/documents").json() == before
    for folder in (server.home, server.home.parent, server.home.parent.parent):
        assert not (folder / "x.txt").exists()


def test_a_cited_span_with_its_neighbouring_text(server: Server, keyed_server: Server):
    from rag.config import DEFAULT_CORPUS

    text = DEFAULT_CORPUS.read_text()
    start = text.index("At a July 2023 press conference")
    end = text.index(".", start) + 1
    with server.client() as c:
        doc = c.get("/documents").json()[0]
        assert doc["added"].endswith("Z")  # when it was indexed, UTC
        for ref in (doc["doc_id"], DEFAULT_CORPUS.name):  # by id or by name
            r = c.get(f"/documents/{ref}/text", params={"start": start, "end": end})
            assert r.status_code == 200, r.text
            got = r.json()
            assert got["quote"] == text[start:end] and got["before"] == ""  # the very start
            assert 400 < len(got["after"]) <= 600 and text[end:].startswith(got["after"][:200])
        mid = text.index("Crocus")
        r = c.get(f"/documents/{doc['doc_id']}/text", params={"start": mid, "end": mid + 6})
        got = r.json()
        assert got["quote"] == "Crocus" and got["before"] and got["after"]
        assert " ".join(got["before"].split())[-80:] in " ".join(text[:mid].split())
        bad = c.get(f"/documents/{doc['doc_id']}/text", params={"start": 5, "end": 10**9})
        assert bad.status_code == 400 and "characters" in bad.json()["detail"]
        missing = c.get("/documents/nope.txt/text", params={"start": 0, "end": 5})
        assert missing.status_code == 404 and "GET /documents" in missing.json()["detail"]
        overview = c.get("/documents/overview").json()
        assert overview["documents"] == len(c.get("/documents").json())
        assert len(overview["examples"]) == 3 and all(q.endswith("?") for q in overview["examples"])
    with keyed_server.client() as c:  # the same key as every data route
        r = c.get(f"/documents/{DEFAULT_CORPUS.name}/text", params={"start": 0, "end": 5})
        assert r.status_code == 401


VELMORA = b"# The Velmora Lighthouse\n\nThe lighthouse stands on a rock off Velmora.\n"


def test_the_overview_has_readable_titles_and_the_upload_limit(server: Server):
    """Titles are headings without # marks, or file names in words (the essay's first line is
    a sentence); the page reads the upload limit (1 MB here) to refuse a bigger file itself."""
    with server.client() as c:
        overview = c.get("/documents/overview").json()
        assert overview["max_upload_bytes"] == 1_000_000
        assert "Afghanistan counterterrorism mei 2024" in overview["titles"]
        up = c.post(
            "/documents", files={"file": ("velmora-lighthouse.md", VELMORA, "text/markdown")}
        )
        assert up.status_code == 201, up.text
        assert up.json()["document"]["title"] == "The Velmora Lighthouse"
        try:
            titles = c.get("/documents/overview").json()["titles"]
            assert "The Velmora Lighthouse" in titles
            assert not [t for t in titles if t.startswith("#")], titles
        finally:
            c.delete(f"/documents/{up.json()['document']['doc_id']}")


def test_an_upload_over_the_limit_is_refused_before_its_body_is_read(server: Server):
    """A Content-Length over RAG_MAX_UPLOAD_MB (1 MB here) is answered 413 at once, in MB, and
    the connection closed without a reset: httpx sending 3 MB reads the 413, and so does a
    client that sent only 500 KB of its 3 MB and waits (before, the server waited for the rest).
    A chunked body (no Content-Length) is read up to the limit, with the same words."""
    with server.client() as c:
        before = c.get("/documents").json()
        r = c.post("/documents", files={"file": ("big.txt", b"x" * 3_000_000, "text/plain")})
        assert r.status_code == 413 and r.headers["connection"] == "close"
        detail = r.json()["detail"]
        assert "over this server's 1 MB limit (RAG_MAX_UPLOAD_MB)" in detail
        assert "split the file" in detail and "byte" not in detail
        head = (
            b"POST /documents HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 3000000\r\n\r\n"
        )
        status, headers, body = raw_request(server, head + b"x" * 500_000)
        assert status == 413 and headers["connection"] == "close"
        assert "RAG_MAX_UPLOAD_MB" in json.loads(body)["detail"]

        def chunks() -> Iterator[bytes]:
            for _ in range(30):
                yield b"x" * 100_000

        chunked = c.post(
            "/documents",
            content=chunks(),
            headers={"content-type": "multipart/form-data; boundary=b"},
        )
        assert chunked.status_code == 413
        assert "over this server's 1 MB limit (RAG_MAX_UPLOAD_MB)" in chunked.json()["detail"]
        assert c.get("/documents").json() == before  # and the server still answers
