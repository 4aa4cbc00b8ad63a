"""`POST /ask`: one question, the same JSON object as `rag ask --json`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from api.deps import PipelineDep, QueueDep
from api.schemas import AskRequest, AskResponse, error_responses

router = APIRouter(tags=["ask"])


@router.post(
    "/ask",
    response_model=AskResponse,
    responses=error_responses(503),
)
async def ask(
    body: AskRequest, request: Request, pipeline: PipelineDep, queue: QueueDep
) -> dict[str, Any]:
    """Answer one question from the index; every sentence is cited and checked."""
    question = pipeline.check_question(body.question)  # a bad one never takes a queue slot
    job = queue.start(lambda on_token, _: pipeline.ask(question, k=body.k, on_token=on_token))
    answer = await job.result(request.is_disconnected)
    return answer.to_dict()
