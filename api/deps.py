"""Typed dependencies for the routes: the app state, the ready pipeline, the API key check."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import UnavailableError
from api.queue import ModelQueue
from api.state import AppState
from rag.pipeline import Pipeline

bearer = HTTPBearer(auto_error=False, description="the server's RAG_API_KEY, when one is set")


class NotReadyError(UnavailableError):
    headers = {"Retry-After": "5"}


def get_state(request: Request) -> AppState:
    return request.app.state.rag


StateDep = Annotated[AppState, Depends(get_state)]


def get_pipeline(state: StateDep) -> Pipeline:
    if state.error:
        raise NotReadyError(f"the server could not start: {state.error}")
    if not state.ready or state.pipeline is None:
        raise NotReadyError("the index and the model are still loading; retry in a few seconds")
    return state.pipeline


def get_queue(state: StateDep) -> ModelQueue:
    return state.queue


PipelineDep = Annotated[Pipeline, Depends(get_pipeline)]
QueueDep = Annotated[ModelQueue, Depends(get_queue)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def require_key(state: StateDep, credentials: Credentials) -> None:
    """When RAG_API_KEY is set, the request must carry `Authorization: Bearer <key>`."""
    key = state.settings.api_key
    if not key:
        return
    given = credentials.credentials if credentials else ""
    if not secrets.compare_digest(given.encode(), key.encode()):
        raise HTTPException(
            status_code=401,
            detail="missing or wrong API key; send the header `Authorization: Bearer <key>`",
            headers={"WWW-Authenticate": "Bearer"},
        )
