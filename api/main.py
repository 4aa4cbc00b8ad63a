"""Build the FastAPI app: `create_app(settings, pipeline=None)`.

The index and the model load once, in a thread after startup: /healthz answers at once,
/readyz (and every route that needs the model) says 503 until loading is done.
Errors become `{"detail": "..."}` with a 4xx status (a `RagError` carries its own status);
the OpenAPI description says so for every route (`api.schemas.ErrorOut`).
Middleware, outermost first: `api.http11.HeadAsGet` (HEAD answered as GET, without the body),
`api.security.BrowserGuard` (Host, repeated headers, cross-origin writes, security headers),
CORS (only with RAG_CORS_ORIGINS), `api.limits.BodyLimit`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from importlib import metadata
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response

from api.deps import require_key
from api.errors import http_headers, http_status
from api.http11 import HeadAsGet
from api.limits import BodyLimit
from api.queue import ClientGoneError
from api.routes import ask, chat, documents, health, page
from api.schemas import error_responses
from api.security import BrowserGuard
from api.state import AppState
from rag.config import Settings, get_settings
from rag.errors import USER_ERRORS
from rag.pipeline import Pipeline

log = logging.getLogger("uvicorn.error")


def _version() -> str:
    try:
        return metadata.version("rag-grounded")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def create_app(settings: Settings | None = None, pipeline: Pipeline | None = None) -> FastAPI:
    settings = settings or get_settings()
    state = AppState(settings, pipeline)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loading = asyncio.create_task(asyncio.to_thread(state.load))
        yield
        state.queue.shutdown()
        loading.cancel()

    app = FastAPI(
        title="rag",
        version=_version(),
        summary="Grounded, cited answers from your own documents, offline.",
        description="Every route except /healthz, /readyz, the page and /docs needs "
        "`Authorization: Bearer <key>` when the server has RAG_API_KEY set.",
        lifespan=lifespan,
        docs_url=None,  # served by api.routes.page from local files (no CDN)
        redoc_url=None,
    )
    app.state.rag = state
    app.add_middleware(
        BodyLimit,
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=int(settings.max_upload_mb * 1_000_000),
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(
        BrowserGuard, allowed_hosts=settings.allowed_hosts, cors_origins=settings.cors_origins
    )
    app.add_middleware(HeadAsGet)
    _add_error_handlers(app)
    app.include_router(health.router, responses=error_responses(400))
    app.include_router(page.router)
    keyed = [Depends(require_key)]
    for module in (chat, ask, documents):
        app.include_router(
            module.router,
            dependencies=keyed,
            responses=error_responses(400, 401, 403, 413, 422, 503),
        )

    return app


def _add_error_handlers(app: FastAPI) -> None:
    async def user_error(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, http_status(exc), headers=http_headers(exc))

    for kind in USER_ERRORS:  # a RagError, or the embeddings package's configuration error
        app.add_exception_handler(kind, user_error)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            msg = errors[0].get("ctx", {}).get("error", "")
            detail = f"the request body is not valid JSON ({msg}); send an object like {{...}}"
            return JSONResponse({"detail": detail}, 400)
        if [e.get("loc") for e in errors] == [("body",)]:
            detail = "the request body must be a JSON object (Content-Type: application/json)"
            return JSONResponse({"detail": detail}, 400)
        parts = []
        for e in errors:
            where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
            parts.append(f"{where}: {e.get('msg', 'invalid')}")
        return JSONResponse({"detail": "; ".join(parts), "errors": _plain(errors)}, 422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        detail = f"internal error ({exc.__class__.__name__}); the server log has the details"
        return JSONResponse({"detail": detail}, 500)

    @app.exception_handler(ClientGoneError)
    async def client_gone(request: Request, exc: ClientGoneError) -> Response:
        return Response(status_code=499)  # nobody is listening; nginx's "client closed"


def _plain(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Each validation error's place, message and kind. Not its input: that may be NaN or
    Infinity (which JSON cannot carry), or a megabyte the client already has."""
    return [
        {
            "loc": [p if isinstance(p, int) else str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in errors
    ]


def app_from_env() -> FastAPI:
    """For `uvicorn --factory api.main:app_from_env`; add `--http api.http11:Http11` (and
    `--h11-max-incomplete-event-size`, RAG_MAX_HEADER_BYTES's default 16384) for what
    `rag serve` answers to oversized or unreadable requests."""
    return create_app(Settings())
