"""`POST /ask`: one question, the same JSON object as `rag ask --json`; with `stream: true`,
server-sent events: `{"token": text}` per verified piece, then `{"answer": object}` (the same
object), or `{"error": {"message": …}}` when the answer fails after the stream began."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from api.deps import PipelineDep, QueueDep
from api.queue import Event, Job
from api.schemas import AskRequest, AskResponse, error_responses

router = APIRouter(tags=["ask"])


@router.post(
    "/ask",
    response_model=AskResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "with `stream: true`"},
        **error_responses(503),
    },
)
async def ask(body: AskRequest, request: Request, pipeline: PipelineDep, queue: QueueDep) -> Any:
    """Answer one question from the index; every sentence is cited and checked."""
    question = pipeline.check_question(body.question)  # a bad one never takes a queue slot
    await run_in_threadpool(pipeline.check_fits, question)  # nor one the model cannot read
    job = queue.start(lambda on_token, _: pipeline.ask(question, k=body.k, on_token=on_token))
    if not body.stream:
        answer = await job.result(request.is_disconnected)
        return answer.to_dict()
    first = await job.next(request.is_disconnected)
    if first[0] == "error":  # before any text: a proper HTTP status, not a broken stream
        raise first[1]
    return EventSourceResponse(_events(job, first), sep="\n", ping=10)


async def _events(job: Job, first: Event) -> AsyncIterator[str]:
    try:
        kind, value = first
        while True:
            if kind == "token":
                yield json.dumps({"token": value}, ensure_ascii=False)
            elif kind == "done":
                yield json.dumps({"answer": value.to_dict()}, ensure_ascii=False)
                return
            elif kind == "error":
                yield json.dumps({"error": {"message": str(value)}}, ensure_ascii=False)
                return
            elif kind == "cancelled":
                return
            kind, value = await job.next()
    finally:
        job.cancel.set()  # the client went away (or we are done): stop generating
