"""HTTP statuses of the errors a user sees, decided at the API edge (`rag/errors.py` knows no HTTP).

http_status(NotFoundError("…")) == 404;  anything else a user can fix: 400
"""

from __future__ import annotations

from rag.errors import (
    BadQuestionError,
    DocumentError,
    IndexMismatchError,
    IndexMissingError,
    LlamaBuildError,
    ModelMissingError,
    ModelServerError,
    NotFoundError,
    RagError,
    StoreUnavailableError,
)


class UnavailableError(RagError):
    """The server cannot take the request now (not ready, queue full): 503 with Retry-After."""

    headers: dict[str, str] = {}


STATUS: dict[type[Exception], int] = {
    NotFoundError: 404,
    IndexMissingError: 404,
    IndexMismatchError: 409,
    DocumentError: 422,
    BadQuestionError: 422,
    ModelMissingError: 503,
    ModelServerError: 503,
    LlamaBuildError: 503,
    StoreUnavailableError: 503,
    UnavailableError: 503,
}


# an outage of a shared engine (the model server, the database): back when it is, no restart
OUTAGE_RETRY_AFTER = "5"


def http_headers(exc: Exception) -> dict[str, str] | None:
    """The headers of a user error's response: its own (`UnavailableError`), or Retry-After for
    an outage of the model server or the store (their 503 passes once the engine is back)."""
    headers = getattr(exc, "headers", None)
    if headers is None and isinstance(exc, ModelServerError | StoreUnavailableError):
        headers = {"Retry-After": OUTAGE_RETRY_AFTER}
    return headers


def http_status(exc: Exception) -> int:
    """The status of a user error: the first kind in `STATUS` it is, else 400 (bad input or
    configuration)."""
    return next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
