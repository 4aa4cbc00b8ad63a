"""Request body size limit, as plain ASGI middleware (before any parsing).

Uploads to /documents may be up to RAG_MAX_UPLOAD_MB (plus multipart overhead); every other body
up to RAG_MAX_BODY_BYTES. A larger body gets 413 with a `detail` giving the limit and the setting
to raise. A Content-Length over the limit is answered at once, the body unread, with
`Connection: close` (`api.http11.Http11` then closes the lingering way, so the client reads the
413 rather than a reset); a chunked body is read up to the limit first.
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
        self.upload_mb = max_upload_bytes / 1_000_000

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        upload = scope["path"].rstrip("/") == "/documents"
        limit = self.max_upload if upload else self.max_body
        declared = _content_length(scope)
        if declared is not None and declared > limit:  # answer now; the body is never read
            await send_json(send, 413, {"detail": self._too_big(upload)}, close=True)
            return
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
            await send_json(send, 413, {"detail": self._too_big(upload)})
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

    def _too_big(self, upload: bool) -> str:
        if upload:
            return (
                f"the upload is over this server's {self.upload_mb:g} MB limit "
                "(RAG_MAX_UPLOAD_MB); split the file or raise the limit"
            )
        return (
            f"the request body is over this server's limit of {self.max_body:,} bytes "
            "(RAG_MAX_BODY_BYTES, set in bytes); send less or raise the limit"
        )


def _content_length(scope: Scope) -> int | None:
    """The request's Content-Length, if it has one (h11 has refused a malformed or repeated one)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


async def send_json(send: Send, status: int, obj: Any, close: bool = False) -> None:
    payload = json.dumps(obj).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    if close:  # the request's body is left unread: the connection cannot be used again
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
