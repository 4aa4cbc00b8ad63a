"""Browser-facing defences: plain ASGI middleware in front of every route (`BrowserGuard`).

- Host: a request whose `Host` header is not in RAG_ALLOWED_HOSTS (default: the loopback names)
  gets 400. A page on a rebinding domain (evil.example resolving to 127.0.0.1) sends its own
  name as Host, so it never reaches the API.
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

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.limits import send_json
from rag.config import Settings

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


def host_name(host: str) -> str:
    """`127.0.0.1:8000` -> `127.0.0.1`, `[::1]:8000` -> `::1`, `Example.org.` -> `example.org`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


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
        host = headers.get("host", "")
        if not self.any_host and host_name(host) not in self.hosts:
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
