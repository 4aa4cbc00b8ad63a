"""Health, readiness, the API description, the page, input limits and the API key."""

from __future__ import annotations

import re

from tests.api.server import API_KEY, ROUTES, Server


def test_health_readiness_and_models(server: Server):
    with server.client() as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        ready = c.get("/readyz").json()
        assert ready["status"] == "ready" and ready["model"] == "smollm2"
        assert ready["documents"] == 1 and ready["chunks"] > 10
        assert ready["queue"]["limit"] == 4
        models = c.get("/v1/models").json()
        assert models["object"] == "list"
        assert [m["id"] for m in models["data"]] == ["smollm2", "smollm2+sources"]


def test_openapi_describes_every_route(server: Server):
    with server.client() as c:
        spec = c.get("/openapi.json").json()
        assert c.get("/docs").status_code == 200
    routes = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert routes == ROUTES
    chat = spec["paths"]["/v1/chat/completions"]["post"]
    assert "citations" in spec["components"]["schemas"]["ChatCompletion"]["properties"]
    assert "text/event-stream" in chat["responses"]["200"]["content"]


def test_page_is_self_contained(server: Server):
    with server.client() as c:
        page = c.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        files = re.findall(r"""(?:src|href)=["'](/static/[^"']+)""", page.text)
        assert set(files) == {
            "/static/app.js",
            "/static/app.css",
            "/static/favicon.svg",
            "/static/markdown-it.min.js",  # vendored: api/static/VENDOR.md
        }
        bodies = {f: c.get(f) for f in files}
        assert all(r.status_code == 200 for r in bodies.values())
        assert "/v1/chat/completions" in bodies["/static/app.js"].text
        assert c.get("/static/docs.html").status_code == 404  # only the listed files
    for text in (page.text, *(r.text for r in bodies.values())):
        assert not re.search(r"""(src|href|url)[=(]["']?(https?:)?//""", text)  # no CDN
        assert not re.search(r"<script>|<style>| style=| on[a-z]+=", text)  # nothing inline


def test_head_is_answered_wherever_get_is(server: Server):
    """Same status and headers as GET (Content-Length too), no body; 405 where GET is."""
    same = ("content-type", "content-length", "etag", "allow", "content-security-policy")
    with server.client() as c:
        for path in ("/", "/healthz", "/documents", "/static/app.js", "/docs", "/ask"):
            get, head = c.get(path), c.head(path)
            assert head.status_code == get.status_code, (path, head.status_code)
            assert head.content == b"", path
            for name in same:
                assert head.headers.get(name) == get.headers.get(name), (path, name)
        assert c.head("/ask").status_code == 405 and c.head("/healthz").status_code == 200


def test_bad_json_and_bad_fields_are_4xx_with_a_clear_detail(server: Server):
    with server.client() as c:
        bad = c.post("/ask", content=b'{"question": ', headers={"content-type": "application/json"})
        assert bad.status_code == 400 and "not valid JSON" in bad.json()["detail"]
        not_json = c.post("/v1/chat/completions", content=b"hello")
        assert not_json.status_code == 400 and "JSON object" in not_json.json()["detail"]
        missing = c.post("/ask", json={"k": 2})
        assert missing.status_code == 422 and "question" in missing.json()["detail"]
        bad_k = c.post("/ask", json={"question": "Who leads ISKP?", "k": 0})
        assert bad_k.status_code == 422 and "k:" in bad_k.json()["detail"]
        no_user = c.post("/v1/chat/completions", json={"messages": [{"role": "assistant"}]})
        assert no_user.status_code == 422 and "user" in no_user.json()["detail"]
        bad_role = c.post("/v1/chat/completions", json={"messages": [{"role": "x"}]})
        assert bad_role.status_code == 422 and "role" in bad_role.json()["detail"]
        long_q = c.post("/ask", json={"question": "why " * 600})
        assert long_q.status_code == 422 and "limit" in long_q.json()["detail"]
        empty = c.post("/ask", json={"question": "   "})
        assert empty.status_code == 422 and "empty" in empty.json()["detail"]
        huge = c.post("/ask", json={"question": "x" * 2_000_000})
        assert huge.status_code == 413 and "RAG_MAX_BODY_BYTES" in huge.json()["detail"]
        assert "limit of 1,000,000 bytes" in huge.json()["detail"]  # the setting is in bytes
        assert c.get("/healthz").status_code == 200


def test_api_key_guards_everything_but_health(keyed_server: Server):
    with keyed_server.client() as c:
        assert c.get("/healthz").status_code == 200
        assert c.get("/readyz").status_code == 200
        for method, path in [("GET", "/v1/models"), ("GET", "/documents"), ("POST", "/ask")]:
            r = c.request(method, path, json={"question": "Who leads ISKP?"})
            assert r.status_code == 401, path
            assert "Bearer" in r.json()["detail"] and r.headers["www-authenticate"] == "Bearer"
        wrong = c.get("/v1/models", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
    from openai import AuthenticationError, OpenAI

    good = OpenAI(base_url=f"{keyed_server.url}/v1", api_key=API_KEY)
    assert [m.id for m in good.models.list()] == ["smollm2", "smollm2+sources"]
    bad = OpenAI(base_url=f"{keyed_server.url}/v1", api_key="nope", max_retries=0)
    try:
        bad.models.list()
        raise AssertionError("a wrong key was accepted")
    except AuthenticationError:
        pass


def test_without_a_key_setting_no_header_is_needed(server: Server):
    with server.client() as c:
        assert c.get("/documents").status_code == 200
