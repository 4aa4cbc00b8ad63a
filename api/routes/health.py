"""Liveness and readiness (no API key needed).

/readyz also asks the shared engines whether they can serve: the store (`SELECT 1` on the
database; files: nothing to ask) and the answer model (`GET /health` on its server; a model in
this process: nothing to ask). Their answer stands for PROBE_TTL seconds, so a load balancer's
checks cost one probe per second at most; a probe running holds the others back until it ends
(at most RAG_STORE_WAIT plus rag/generation/remote.PROBE_TIMEOUT seconds)."""

from __future__ import annotations

import threading
import time
import weakref

from fastapi import APIRouter

from api.deps import PipelineDep, StateDep
from api.errors import OUTAGE_RETRY_AFTER, UnavailableError
from api.schemas import Health, Readiness, error_responses
from rag.errors import ModelServerError, StoreUnavailableError
from rag.pipeline import Pipeline

router = APIRouter(tags=["health"])
PROBE_TTL = 1.0  # seconds a probe's answer stands


class EngineDownError(UnavailableError):
    """The store or the model server cannot serve: 503 with Retry-After."""

    headers = {"Retry-After": OUTAGE_RETRY_AFTER}


class _Probe:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.at = -PROBE_TTL
        self.down = ""  # what is down, "" when nothing

    def check(self, pipeline: Pipeline) -> str:
        with self.lock:
            if time.monotonic() - self.at >= PROBE_TTL:
                problems = []
                for probe in (pipeline.store.probe, pipeline.generator.probe):
                    try:
                        probe()
                    except (StoreUnavailableError, ModelServerError) as exc:
                        problems.append(str(exc))
                self.down = "; and ".join(problems)
                self.at = time.monotonic()
            return self.down


_probes: weakref.WeakKeyDictionary[Pipeline, _Probe] = weakref.WeakKeyDictionary()
_probes_lock = threading.Lock()


def engines_down(pipeline: Pipeline) -> str:
    """What of the store and the answer model cannot serve now, in words ("" when both can);
    at most PROBE_TTL seconds old."""
    with _probes_lock:
        probe = _probes.setdefault(pipeline, _Probe())
    return probe.check(pipeline)


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
    """The index and the model are loaded, and the database and the model server (when they
    are used) answer: questions can be answered. Else 503 with Retry-After and what is down."""
    down = engines_down(pipeline)
    if down:
        raise EngineDownError(f"not ready: {down}")
    documents, chunks = pipeline.store.counts()
    return Readiness(
        status="ready",
        model=state.model_name,
        documents=documents,
        chunks=chunks,
        queue=state.queue.snapshot(),
    )
