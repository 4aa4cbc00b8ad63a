"""The chat page and the API docs, served from files in the package: nothing from a CDN.

`/` is api/static/index.html; its script and style are `/static/<name>` (separate files, so a
Content-Security-Policy of `script-src 'self'; style-src 'self'` holds). `/docs` is Swagger UI 5
from the `swagger-ui-bundle-v2` package (module `swagger_ui_bundle`), started by
/static/docs.js; `markdown-it.min.js` is vendored (api/static/VENDOR.md). Does not: serve any
other file (only the names listed here), or need the API key (the data routes do).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

STATIC = Path(__file__).parent.parent / "static"
PAGE_FILES = {
    "app.js": "text/javascript",
    "app.css": "text/css",
    "docs.js": "text/javascript",
    "favicon.svg": "image/svg+xml",
    "markdown-it.min.js": "text/javascript",
}
SWAGGER_FILES = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css"}

router = APIRouter(include_in_schema=False)


def _swagger_dir() -> Path:
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise HTTPException(
            503, "the API docs need Swagger UI's files: pip install swagger-ui-bundle-v2"
        ) from exc
    return Path(swagger_ui_path)


@router.get("/")
def page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get("/static/{name}")
def static(name: str) -> FileResponse:
    if name not in PAGE_FILES:
        raise HTTPException(404, f"no static file {name!r}")
    return FileResponse(STATIC / name, media_type=PAGE_FILES[name])


@router.get("/docs")
def docs() -> FileResponse:
    return FileResponse(STATIC / "docs.html", media_type="text/html")


@router.get("/docs/assets/{name}")
def docs_asset(name: str) -> FileResponse:
    if name not in SWAGGER_FILES:
        raise HTTPException(404, f"no docs file {name!r}")
    return FileResponse(_swagger_dir() / name, media_type=SWAGGER_FILES[name])
