"""Liveness and readiness (no API key needed)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import PipelineDep, StateDep
from api.schemas import Health, Readiness, error_responses

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process is up (it may still be loading)."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    responses=error_responses(503),
)
def readyz(state: StateDep, pipeline: PipelineDep) -> Readiness:
    """The index and the model are loaded; questions can be answered."""
    documents, chunks = pipeline.store.counts()
    return Readiness(
        status="ready",
        model=state.model_name,
        documents=documents,
        chunks=chunks,
        queue=state.queue.snapshot(),
    )
