"""Property-based fuzzing of every route in the server's own OpenAPI description (hypothesis):
bodies drawn from the request schemas, bodies that break them, raw bytes, hostile uploads and
ids. The real server, the 135M model: no response may be 5xx.

Bounded: a fixed seed; 12 drawn examples per model route (plus the fixed ones, each a reply of
at most 8 tokens), 25 per other route; so the run is repeatable and short.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.api.server import ROUTES, Server, start_server, stop_server
from tests.hostile import BAD_NAMES

RUN = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,  # the same examples every run
    database=None,
    suppress_health_check=list(HealthCheck),
)
WORDS = st.sampled_from(["Who leads ISKP?", "When?", "", " ", "\x00", "\ud800", "🙂" * 9, "阿富汗"])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | WORDS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
SPECIAL = [  # what JSON parsers disagree on
    b'{"question": "q", "k": NaN}',
    b'{"question": "q", "k": 1e999}',
    b'{"question": "\\ud800"}',
    b'{"messages": [{"role": "user", "content": [{"type": "text", "text": 1}]}]}',
    b'{"messages": [{"role": "user", "content": "q"}], "temperature": -Infinity}',
    b"[]",
    b"null",
    b'"q"',
    b"{" * 500,
    b"\xff\xfe{",
]


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory, index_home) -> Iterator[tuple[Server, dict[str, Any]]]:
    """A server of its own (fuzzed uploads change its index) and its OpenAPI description."""
    root = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(index_home, root / "home")
    srv = start_server(  # short replies: the fuzz is about input, not answers
        root / "home", root / "server.log", RAG_MAX_UPLOAD_MB="1", RAG_MAX_TOKENS="8"
    )
    spec = httpx.get(f"{srv.url}/openapi.json").json()
    yield srv, spec
    stop_server(srv)


def _inline(node: Any, spec: dict[str, Any]) -> Any:
    """The schema with every `$ref` replaced by what it names (no cycles in this API)."""
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            return _inline(spec["components"]["schemas"][name], spec)
        return {k: _inline(v, spec) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, spec) for v in node]
    return node


def _body_schema(spec: dict[str, Any], path: str) -> dict[str, Any]:
    content = spec["paths"][path]["post"]["requestBody"]["content"]
    schema = _inline(content["application/json"]["schema"], spec)
    props = schema.get("properties", {})
    if "max_tokens" in props:  # bounded generations keep the run short
        props["max_tokens"] = {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 12}]}
    if "messages" in props:
        props["messages"]["maxItems"] = 6
    return schema


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values of the JSON Schema subset FastAPI writes (objects, arrays, scalars, anyOf,
    enum/const, bounds); optional properties are sometimes left out."""
    if "anyOf" in schema:
        return st.one_of([from_schema(s) for s in schema["anyOf"]])
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        fields = {k: from_schema(v) for k, v in props.items() if k in required}
        optional = {k: from_schema(v) for k, v in props.items() if k not in required}
        return st.fixed_dictionaries(fields, optional=optional)
    if kind == "array":
        return st.lists(
            from_schema(schema.get("items", {})),
            min_size=schema.get("minItems", 0),
            max_size=min(schema.get("maxItems", 6), 6),
        )
    if kind == "string":
        return st.text(max_size=300) | WORDS
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "number":
        return st.floats(schema.get("minimum"), schema.get("maximum"), allow_nan=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return JSON


TEXT = st.text(max_size=300) | WORDS
TURN = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "assistant", "system"]), "content": TEXT}
)
ASKED = {  # requests a client means to be answered: they reach the model
    "/ask": st.fixed_dictionaries({"question": TEXT}, optional={"k": st.integers(1, 50)}),
    "/v1/chat/completions": st.fixed_dictionaries(
        {
            "messages": st.tuples(st.lists(TURN, max_size=4), TEXT).map(
                lambda t: [*t[0], {"role": "user", "content": t[1]}]
            )
        },
        optional={"stream": st.booleans(), "max_tokens": st.integers(1, 8)},
    ),
}


def _bodies(spec: dict[str, Any], path: str) -> st.SearchStrategy[bytes]:
    valid = from_schema(_body_schema(spec, path)).map(lambda v: json.dumps(v).encode())
    asked = ASKED[path].map(lambda v: json.dumps(v).encode())
    anything = JSON.map(lambda v: json.dumps(v).encode())
    return st.one_of(asked, asked, valid, anything, st.binary(max_size=64))


def _check(r: httpx.Response) -> None:
    assert r.status_code < 500, (r.request.method, r.request.url, r.status_code, r.text[:300])
    if r.status_code >= 400:
        assert isinstance(r.json()["detail"], str)


def test_the_fuzzed_spec_covers_every_route(fuzzed):
    _, spec = fuzzed
    ops = {(p, m) for p, o in spec["paths"].items() for m in o}
    assert ops == ROUTES
    with httpx.Client(base_url=fuzzed[0].url, timeout=60) as c:
        for path in ("/healthz", "/readyz", "/v1/models", "/documents", "/", "/openapi.json"):
            _check(c.get(path))


@pytest.mark.parametrize("path", ["/ask", "/v1/chat/completions"])
def test_json_routes_never_answer_5xx(fuzzed, path: str):
    server, spec = fuzzed

    answered: list[int] = []

    @settings(RUN, max_examples=12)  # each answered one is a generation
    @given(body=_bodies(spec, path))
    def run(body: bytes) -> None:
        with httpx.Client(base_url=server.url, timeout=600) as c:
            r = c.post(path, content=body, headers={"content-type": "application/json"})
        _check(r)
        answered.append(r.status_code)

    for special in SPECIAL:  # always tried, before the drawn ones
        run = example(body=special)(run)
    run()
    assert 200 in answered, answered  # the fuzz reached the model, not only 4xx


NAMES = st.one_of(
    st.sampled_from(["a.txt", "b.md", "c.html", "d.pdf", "e.docx", *BAD_NAMES]),
    st.text(min_size=1, max_size=12).map(lambda s: s + ".txt"),
)
DATA = st.one_of(
    st.binary(max_size=2048),
    st.text(max_size=400).map(str.encode),
    st.sampled_from([b"%PDF-1.4\n%%EOF", b"PK\x03\x04", b"<html>", b"\xef\xbb\xbf"]),
)


def test_uploads_and_removals_never_answer_5xx(fuzzed):
    server, _ = fuzzed

    @RUN
    @given(name=NAMES, data=DATA)
    def upload(name: str, data: bytes) -> None:
        with httpx.Client(base_url=server.url, timeout=120) as c:
            _check(c.post("/documents", files={"file": (name, data, "application/octet-stream")}))

    @RUN
    @given(doc_id=st.text(min_size=1, max_size=40))
    def remove(doc_id: str) -> None:
        with httpx.Client(base_url=server.url, timeout=60) as c:
            _check(c.delete(f"/documents/{quote(doc_id, safe='')}"))

    upload()
    remove()
    with httpx.Client(base_url=server.url, timeout=60) as c:
        assert c.get("/readyz").status_code == 200


def test_schemathesis_finds_no_5xx_on_any_route(fuzzed, tmp_path):
    """Issue 24: a schemathesis run of the whole API (its coverage, fuzzing and stateful
    phases, a fixed derandomised set of cases) against the real server: no 5xx."""
    import subprocess
    import sys
    from pathlib import Path

    server, _spec = fuzzed
    cli = Path(sys.executable).with_name("schemathesis")
    run = subprocess.run(
        [str(cli), "run", f"{server.url}/openapi.json", "--checks", "not_a_server_error"]
        + ["--max-examples", "5", "--generation-deterministic", "--workers", "1"],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,  # its cache folder goes there, not into the checkout
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-1000:]
    assert "API Operations" in run.stdout and " passed" in run.stdout
