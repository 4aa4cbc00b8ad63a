"""Request body size limit, as plain ASGI middleware (before any parsing).

Uploads to /documents may be up to RAG_MAX_UPLOAD_MB (plus multipart overhead); every other body
up to RAG_MAX_BODY_BYTES. A larger body gets 413 with a `detail` saying which setting to raise.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

UPLOAD_SLACK = 64 * 1024  # multipart headers and boundaries


class BodyLimit:
    def __init__(self, app: ASGIApp, max_body_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_body = max_body_bytes
        self.max_upload = max_upload_bytes + UPLOAD_SLACK

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        upload = scope["path"].rstrip("/") == "/documents"
        limit, setting = (
            (self.max_upload, "RAG_MAX_UPLOAD_MB")
            if upload
            else (self.max_body, "RAG_MAX_BODY_BYTES")
        )
        chunks: list[bytes] = []
        size, more = 0, True
        while more:  # read the whole body (bounded), so the client is never cut off mid-send
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            size += len(message.get("body", b""))
            if size <= limit:
                chunks.append(message.get("body", b""))
            elif size > 4 * limit:
                break  # do not drain without end; answer now
            more = message.get("more_body", False)
        if size > limit:
            detail = f"the request body is over the {limit:,} byte limit ({setting})"
            await send_json(send, 413, {"detail": detail})
            return
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # later: http.disconnect, for streaming responses

        await self.app(scope, replay, send)


async def send_json(send: Send, status: int, obj: Any) -> None:
    payload = json.dumps(obj).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
