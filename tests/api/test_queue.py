"""One model, a bounded queue: overflow is 503 + Retry-After, a dropped client stops its
generation, and the server stays healthy."""

from __future__ import annotations

import asyncio
import json
import time

import httpx

from tests.api.server import BIDEN, Server, run_async


def _ready(server: Server) -> dict:
    return httpx.get(f"{server.url}/readyz", timeout=10).json()


def _wait_idle(server: Server, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while (state := _ready(server))["queue"]["active"] and time.monotonic() < deadline:
        time.sleep(0.2)
    return state


def test_twenty_concurrent_requests_with_a_queue_of_four(server: Server):
    body = {"messages": [{"role": "user", "content": BIDEN}], "max_tokens": 12}
    rejected_before = _ready(server)["queue"]["rejected"]

    async def one(client: httpx.AsyncClient) -> httpx.Response:
        return await client.post("/v1/chat/completions", json=body)

    async def all_of_them() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=server.url, timeout=180) as client:
            return await asyncio.gather(*(one(client) for _ in range(20)))

    replies = run_async(all_of_them())
    codes = sorted(r.status_code for r in replies)
    assert set(codes) <= {200, 503}, codes
    assert 1 <= codes.count(200) <= 20 - 1 and codes.count(503) >= 20 - 4 * 2, codes
    for r in replies:
        if r.status_code == 503:
            assert int(r.headers["Retry-After"]) > 0 and "RAG_MAX_QUEUE" in r.json()["detail"]
        else:
            assert r.json()["choices"][0]["message"]["content"]
    state = _wait_idle(server)
    assert state["queue"]["active"] == 0
    assert state["queue"]["rejected"] - rejected_before == codes.count(503)
    assert httpx.get(f"{server.url}/healthz").status_code == 200
    after = httpx.post(f"{server.url}/v1/chat/completions", json=body, timeout=120)
    assert after.status_code == 200


def test_a_client_that_disconnects_mid_stream_stops_its_generation(server: Server):
    body = {
        "messages": [{"role": "user", "content": "Describe ISKP and its attacks in detail."}],
        "stream": True,
        "max_tokens": 400,
    }
    cancelled_before = _ready(server)["queue"]["cancelled"]
    with (
        httpx.Client(base_url=server.url, timeout=120) as client,
        client.stream("POST", "/v1/chat/completions", json=body) as reply,
    ):
        assert reply.status_code == 200
        for line in reply.iter_lines():
            data = json.loads(line[6:]) if line.startswith("data: {") else {}
            # hang up once the model writes (leaving the block closes the connection); not on
            # verified words, which a reply whose first claim is withheld never sends early
            if (data.get("rag_stage") or {}).get("stage") == "writing":
                break
        else:
            raise AssertionError("the stream ended before the model started writing")
    state = _wait_idle(server, timeout=20)
    assert state["queue"]["active"] == 0
    assert state["queue"]["cancelled"] == cancelled_before + 1
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_a_client_that_leaves_while_queued_never_reaches_the_model(server: Server):
    import threading

    busy = {  # a follow-up: two generations (rewrite, then answer), a few seconds
        "messages": [
            {"role": "user", "content": "What happened at Crocus City Hall in March 2024?"},
            {"role": "assistant", "content": "An ISKP attack near Moscow."},
            {"role": "user", "content": "Who was involved in it?"},
        ]
    }
    cancelled_before = _ready(server)["queue"]["cancelled"]
    first = threading.Thread(
        target=httpx.post,
        args=(f"{server.url}/v1/chat/completions",),
        kwargs={"json": busy, "timeout": 300},  # httpx's 5 s default gives up on a busy CPU
    )
    first.start()
    time.sleep(0.3)  # the first request now holds the model
    try:
        httpx.post(f"{server.url}/ask", json={"question": BIDEN}, timeout=0.5)
        raise AssertionError("the queued request answered before the model was free")
    except httpx.ReadTimeout:
        pass  # the client gives up and closes the connection while queued
    first.join(timeout=120)
    state = _wait_idle(server)
    assert state["queue"]["cancelled"] == cancelled_before + 1
