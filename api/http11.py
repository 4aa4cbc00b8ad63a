"""The HTTP/1.1 edge, before any route: uvicorn's h11 protocol with answers a client can read
(`Http11`, used by `rag serve`), and HEAD answered as GET (`HeadAsGet`, ASGI middleware).

- A request line plus headers over RAG_MAX_HEADER_BYTES (also given to h11 as uvicorn's
  `h11_max_incomplete_event_size`: h11 stops buffering there) gets
  `431 Request Header Fields Too Large`, any other request h11 cannot read (two Host headers,
  a bad request line) gets 400; both with `{"detail": ...}` saying what was wrong. uvicorn's
  own answer is 400 "Invalid HTTP request received." for both.
- After such an answer the connection closes the way nginx's lingering close does: the
  answer is sent, the writing side shut down, and what the client still sends is read and
  dropped until it closes (at most LINGER_S seconds, LINGER_BYTES bytes). Closing a socket with
  unread bytes makes the kernel send a reset, and a client still sending a 200 KB header saw
  "connection reset by peer" instead of any answer.
- The same lingering close when an answer that closes the connection (`Connection: close`)
  comes before the request's body was read: api/limits.py's 413 for a Content-Length over the
  limit. uvicorn would close the socket at once, with the body still arriving.
- `HeadAsGet`: a HEAD request runs as GET, its body dropped: the same status and headers
  (Content-Length too) wherever GET is answered, and 405 where GET is.
Does not: change httptools (`rag serve` names this class, so h11 is used even when httptools is
installed), HTTP/2 or WebSockets; or limit the body (api/limits.py does).
"""

from __future__ import annotations

import asyncio
import http
import json
from typing import Any, cast

import h11
from h11._connection import DEFAULT_MAX_INCOMPLETE_EVENT_SIZE
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

LINGER_S = 5.0  # nginx's lingering_timeout
LINGER_BYTES = 1_000_000  # a client that keeps sending after its answer is cut off


class _Connection(h11.Connection):
    """h11's connection, keeping the last error it raised (uvicorn catches it and drops it),
    and refusing a request head over `max_head` bytes also when it came whole: h11's own
    limit holds only while a head is incomplete, so a 50 KB header that arrives in one read
    would pass it."""

    error: h11.RemoteProtocolError | None = None

    def __init__(self, max_head: int) -> None:
        super().__init__(h11.SERVER, max_head)
        self.max_head = max_head

    def next_event(self) -> Any:
        try:
            event = super().next_event()
            if isinstance(event, h11.Request) and head_bytes(event) > self.max_head:
                self._process_error(self.their_role)
                raise h11.RemoteProtocolError("request head too large", error_status_hint=431)
        except h11.RemoteProtocolError as exc:
            self.error = exc
            raise
        return event


def head_bytes(request: h11.Request) -> int:
    """The size of a request line and its headers as sent (less optional spaces)."""
    line = len(request.method) + len(request.target) + len(b" HTTP/1.1\r\n") + 1
    return line + sum(len(k) + len(v) + 4 for k, v in request.headers.raw_items()) + 2


class _Transport:
    """The connection's transport as uvicorn's code sees it: its `close()` after an answer sent
    while the request's body is still arriving is `Http11.linger()` instead."""

    def __init__(self, transport: asyncio.Transport, protocol: Http11) -> None:
        self._transport = transport
        self._protocol = protocol

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)

    def close(self) -> None:
        if self._protocol.answered_early():
            self._protocol.linger()
        else:
            self._transport.close()

    def is_closing(self) -> bool:
        return self._protocol.dropped is not None or self._transport.is_closing()


class Http11(H11Protocol):
    """uvicorn's h11 protocol, answering a request it cannot read with 431 or 400 in words."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        limit = config.h11_max_incomplete_event_size
        self.max_head = DEFAULT_MAX_INCOMPLETE_EVENT_SIZE if limit is None else limit
        self.conn = self.reader = _Connection(self.max_head)
        self.dropped: int | None = None  # bytes read and dropped after an answer that closes
        self._linger: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.raw = transport
        super().connection_made(cast(asyncio.Transport, _Transport(transport, self)))

    def answered_early(self) -> bool:
        """The answer is complete, the connection open, and the request's body still arriving."""
        return (
            self.dropped is None
            and not self.raw.is_closing()
            and self.cycle is not None
            and self.cycle.response_complete
            and self.conn.their_state is h11.SEND_BODY
        )

    def linger(self) -> None:
        """Close after the answer is out without a reset: shut the writing side, read and drop
        what the client still sends until it closes (at most LINGER_S s, LINGER_BYTES bytes)."""
        self.dropped = 0
        self.raw.resume_reading()  # uvicorn pauses reading while a body waits unread
        if self.raw.can_write_eof():
            self.raw.write_eof()  # sent once the answer is out
        self._linger = self.loop.call_later(LINGER_S, self.raw.close)

    def send_400_response(self, msg: str) -> None:
        """Answer (431 or 400, `detail`), then close without a reset. uvicorn calls this on any
        `h11.RemoteProtocolError`; `msg` is its own "Invalid HTTP request received."."""
        error = self.reader.error
        status = error.error_status_hint if error is not None else 400
        if status == 431:
            detail = (
                f"the request line and headers are over {self.max_head:,} bytes "
                "(RAG_MAX_HEADER_BYTES); send fewer or shorter headers (cookies for this host?)"
            )
        else:
            why = str(error)[:200] if error is not None else msg
            detail = f"the request is not valid HTTP/1.1 ({why}); fix what sends it"
        body = json.dumps({"detail": detail}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        reason = http.HTTPStatus(status).phrase.encode()
        self.dropped = 0
        try:
            for event in (
                h11.Response(status_code=status, headers=headers, reason=reason),
                h11.Data(data=body),
                h11.EndOfMessage(),
            ):
                self.transport.write(self.conn.send(event))
        except h11.LocalProtocolError:  # an answer had begun (a broken body): nothing to add
            self.raw.close()
            return
        self.linger()

    def data_received(self, data: bytes) -> None:
        if self.dropped is None:
            super().data_received(data)
            return
        self.dropped += len(data)  # the rest of a request already answered
        if self.dropped > LINGER_BYTES:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._linger is not None:
            self._linger.cancel()
        super().connection_lost(exc)

    def shutdown(self) -> None:
        if self.dropped is not None:  # answered and closing; h11 has nothing more to send
            self.transport.close()
            return
        super().shutdown()


class HeadAsGet:
    """Run HEAD as GET and drop the body: what Starlette's own routes do, FastAPI's do not."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headless(message: Message) -> None:
            if message["type"] in ("http.response.body", "http.response.pathsend"):
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headless)
