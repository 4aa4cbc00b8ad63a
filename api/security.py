"""Browser-facing defences: plain ASGI middleware in front of every route (`BrowserGuard`).

- Host: a request whose `Host` header is not in RAG_ALLOWED_HOSTS (default: the loopback names)
  gets 400. A page on a rebinding domain (evil.example resolving to 127.0.0.1) sends its own
  name as Host, so it never reaches the API. The header is parsed strictly (`parse_host`): a
  value that is not `name[:port]` or `[IPv6][:port]` (userinfo, a bad port, text after the
  port or the `]`, spaces, nothing) gets 400 too, also with RAG_ALLOWED_HOSTS=*.
- Repeated headers: two `Host`, `Origin` or `Sec-Fetch-Site` headers get 400 (two copies could
  say different things to different readers; which one counts is not guessed).
- Cross-site writes: a POST/PUT/PATCH/DELETE that a browser sends from another origin (its
  `Origin` is not the server's own, nor one in RAG_CORS_ORIGINS; or `Sec-Fetch-Site` says
  cross-site / same-site) gets 403, also when no API key is set. Clients that are not browsers
  (curl, httpx, the openai client) send neither header and pass.
- Headers on every response: a Content-Security-Policy that allows only the page's own files
  (`script-src 'self'`, no inline script, `frame-ancestors 'none'`), X-Frame-Options DENY,
  X-Content-Type-Options nosniff, Referrer-Policy no-referrer.
Does not: authenticate (`api.deps.require_key` does), rate-limit, add CORS headers (Starlette's
CORSMiddleware does, only when RAG_CORS_ORIGINS is set), or terminate TLS.
"""

from __future__ import annotations

import ipaddress
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.limits import send_json
from rag.config import Settings

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SINGLE = {b"host": "Host", b"origin": "Origin", b"sec-fetch-site": "Sec-Fetch-Site"}
# RFC 3986's host [":" port], with reg-name cut to what browsers send (IDNs arrive as xn--)
HOST = re.compile(r"(?:\[(?P<ip6>[0-9a-f:.]+)\]|(?P<name>[a-z0-9._-]+))(?::(?P<port>[0-9]{1,5}))?")
HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


def host_name(host: str) -> str:
    """`127.0.0.1:8000` -> `127.0.0.1`, `[::1]:8000` -> `::1`, `Example.org.` -> `example.org`.

    Lenient, for names from settings and `--host` (a bare `::1` stays `::1`); a Host header
    goes through `parse_host`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def parse_host(value: str) -> str | None:
    """The name a Host header asks for, as `host_name` gives it, or None when the value is not
    exactly `name[:port]` or `[IPv6 address][:port]` with a port of 1-65535.

    >>> [parse_host(h) for h in ("127.0.0.1:8000", "[::1]", "LocalHost.", "a@b", "[::1]x")]
    ['127.0.0.1', '::1', 'localhost', None, None]

    Not `urllib.parse.urlsplit("//" + value)`: it reads `[::1]x` as `::1` and `a b` as a name.
    """
    m = HOST.fullmatch(value.lower())
    if m is None or (m["port"] is not None and not 0 < int(m["port"]) <= 65535):
        return None
    if m["ip6"] is not None:
        try:
            ipaddress.IPv6Address(m["ip6"])
        except ValueError:
            return None
        return m["ip6"]
    return m["name"].rstrip(".") or None


def repeated(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The first of `Host`, `Origin`, `Sec-Fetch-Site` that `headers` (ASGI: lower-case names)
    carry more than once, or None."""
    names = [k for k, _ in headers if k in SINGLE]
    return next((SINGLE[k] for k in names if names.count(k) > 1), None)


def is_loopback(host: str) -> bool:
    if host_name(host) == "localhost":
        return True
    try:
        return ipaddress.ip_address(host_name(host)).is_loopback
    except ValueError:
        return False


def serve_warnings(settings: Settings, host: str) -> list[str]:
    """What `rag serve --host <host>` should warn about before it starts."""
    notes = []
    if not is_loopback(host) and not settings.api_key:
        notes.append(
            f"listening on {host} without an API key: anyone who can reach this address can "
            "ask, upload and delete documents; set RAG_API_KEY"
        )
    if not is_loopback(host) and "*" not in settings.allowed_hosts:
        notes.append(
            f"only requests naming {', '.join(settings.allowed_hosts)} as their Host are "
            "answered; add the names clients use to RAG_ALLOWED_HOSTS (comma-separated)"
        )
    return notes


class BrowserGuard:
    def __init__(self, app: ASGIApp, allowed_hosts: list[str], cors_origins: list[str]) -> None:
        self.app = app
        self.any_host = "*" in allowed_hosts
        self.hosts = {host_name(h) for h in allowed_hosts}
        self.origins = {o.rstrip("/").lower() for o in cors_origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [*HEADERS, (b"content-security-policy", CSP.encode())]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        refusal = self._refusal(scope, headers)
        if refusal is not None:
            status, detail = refusal
            await send_json(with_headers, status, {"detail": detail})
            return
        await self.app(scope, receive, with_headers)

    def _refusal(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str] | None:
        twice = repeated(scope["headers"])
        if twice is not None:
            return 400, f"the request has more than one {twice} header; send it once"
        host = headers.get("host", "")
        name = parse_host(host)
        if name is None:
            return 400, (
                f"bad Host header {host!r}: send a name or address with an optional port, "
                f"like 127.0.0.1:8000 or [::1]:8000; the names this server answers are in "
                "RAG_ALLOWED_HOSTS"
            )
        if not self.any_host and name not in self.hosts:
            return 400, (
                f"unknown Host {host!r}: this server answers only "
                f"{', '.join(sorted(self.hosts))}; add the name to RAG_ALLOWED_HOSTS"
            )
        if scope["method"] not in WRITES:
            return None
        origin = headers.get("origin", "").rstrip("/").lower()
        own = f"{scope.get('scheme', 'http')}://{host}".lower()
        if origin and origin != own and origin not in self.origins:
            return 403, (
                f"cross-origin request from {origin} refused: only pages served by this server "
                "may change it; add that origin to RAG_CORS_ORIGINS to allow it"
            )
        site = headers.get("sec-fetch-site", "").lower()
        if site in ("cross-site", "same-site") and origin not in self.origins:
            return 403, (
                "cross-site request refused: only pages served by this server may change it; "
                "add the page's origin to RAG_CORS_ORIGINS to allow it"
            )
        return None
