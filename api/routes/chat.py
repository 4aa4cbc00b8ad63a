"""OpenAI-compatible chat: `POST /v1/chat/completions` (plain or streamed) and `GET /v1/models`.

The last message is the question; earlier user/assistant turns go to `Pipeline.ask` as
`history`, which rewrites a follow-up (and only a follow-up, rag/conversation.py) into a
standalone question before retrieval; `rag_rewrite: false` searches the user's own words.
`rag_sources: true`, a model name ending in `+sources` or RAG_SOURCES_IN_CONTENT put the
sources into `content` after the answer (api/footnotes.py), for clients that show nothing else.
A stream also carries progress: chunks with an empty `delta` and a top-level `rag_stage`
object (`{"stage": "waiting" | "condensing" | "retrieving" | "reading" | "writing" |
"checking", ...}`), which OpenAI clients read as empty chunks.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from api.deps import PipelineDep, QueueDep, StateDep
from api.footnotes import SUFFIX, footnotes, wanted
from api.queue import Event, Job
from api.schemas import (
    ChatCompletion,
    ChatMessage,
    ChatRequest,
    ModelCard,
    ModelList,
    error_responses,
)
from rag.errors import BadQuestionError
from rag.types import Answer

router = APIRouter(prefix="/v1", tags=["openai"])
STARTED = int(time.time())
STREAM_DOC = (
    "With `stream: true`: `text/event-stream` of `chat.completion.chunk` objects. `delta.content` "
    "carries only verified text: each reply sentence once it is grounded, with its [n] marks "
    "(joined, the deltas are the final answer; a decline arrives as the decline text; with "
    "`rag_sources` or a `+sources` model name, one more delta then carries the sources as a "
    "Markdown list). The last "
    "chunk carries `citations`, `declined`, `decline`, `confidence`, `band`, `passage`, `usage` "
    "and the verified `answer`, then "
    "`data: [DONE]`. Chunks with an empty `delta` and a top-level `rag_stage` object report "
    'progress (`{"stage": "waiting"|"condensing"|"retrieving"|"reading"|"writing"|'
    '"checking", ...}`).'
)


def split_messages(messages: list[ChatMessage]) -> tuple[str, list[dict[str, str]]]:
    """(question, history) from an OpenAI message list."""
    last = messages[-1]
    if last.role != "user" or not last.text().strip():
        raise BadQuestionError("the last message must be the user's question (role 'user')")
    history = [
        {"role": m.role, "content": m.text()}
        for m in messages[:-1]
        if m.role in ("user", "assistant") and m.text().strip()
    ]
    return last.text(), history


def _judged(answer: Answer) -> dict[str, Any]:
    """The top-level fields beside OpenAI's: citations, and how far to trust the answer."""
    d = answer.to_dict()
    keys = ("citations", "declined", "decline", "confidence", "band", "passage", "searched")
    return {k: d[k] for k in keys}


def _usage(answer: Answer) -> dict[str, int]:
    t = answer.timings
    return {
        "prompt_tokens": t.prompt_tokens,
        "completion_tokens": t.completion_tokens,
        "total_tokens": t.prompt_tokens + t.completion_tokens,
    }


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": STREAM_DOC},
        **error_responses(503),
    },
)
async def chat_completions(
    body: ChatRequest,
    request: Request,
    state: StateDep,
    pipeline: PipelineDep,
    queue: QueueDep,
) -> Any:
    """Answer the last user message from the indexed documents, with citations."""
    question, history = split_messages(body.messages)
    question = pipeline.check_question(question)  # a bad one never takes a queue slot
    await run_in_threadpool(pipeline.check_fits, question)  # nor one the model cannot read
    job = queue.start(
        lambda on_token, on_stage: pipeline.ask(
            question,
            history=history or None,
            on_token=on_token,
            max_tokens=body.max_tokens,
            temperature=body.temperature,
            on_stage=on_stage,
            rewrite=body.rag_rewrite,
        )
    )
    meta: dict[str, Any] = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "created": int(time.time()),
        "model": state.model_name,
    }
    sources = wanted(state.settings.sources_in_content, body.rag_sources, body.model)
    if not body.stream:
        answer = await job.result(request.is_disconnected)
        notes = footnotes(answer.to_dict()["citations"]) if sources else ""
        return ChatCompletion(
            **meta,
            choices=[{"message": {"content": answer.answer + notes}}],
            usage=_usage(answer),
            **_judged(answer),
        )
    first = await job.next(request.is_disconnected)
    if first[0] == "error":  # before any token: a proper HTTP status, not a broken stream
        raise first[1]
    return EventSourceResponse(_chunks(job, first, meta, sources), sep="\n", ping=10)


async def _chunks(
    job: Job, first: Event, meta: dict[str, Any], sources: bool = False
) -> AsyncIterator[str]:
    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        body = {**meta, "object": "chat.completion.chunk", "choices": [choice], **extra}
        return json.dumps(body, ensure_ascii=False)

    try:
        yield chunk({"role": "assistant", "content": ""})
        kind, value = first
        while True:
            if kind == "token":
                yield chunk({"content": value})
            elif kind == "stage":
                yield chunk({}, rag_stage=value)
            elif kind == "done":
                notes = footnotes(value.to_dict()["citations"]) if sources else ""
                if notes:  # the sources after the verified text, before the last chunk
                    yield chunk({"content": notes})
                yield chunk(
                    {},
                    "stop",
                    answer=value.answer,
                    **_judged(value),
                    usage=_usage(value),
                )
                yield "[DONE]"
                return
            elif kind == "error":
                yield json.dumps({"error": {"message": str(value), "type": "server_error"}})
                return
            else:  # cancelled
                return
            kind, value = await job.next()
    finally:
        job.cancel.set()  # the client went away (or we are done): stop generating


@router.get("/models", response_model=ModelList)
def models(state: StateDep) -> ModelList:
    """The one model this server answers with, and the same with its sources in `content`."""
    names = (state.model_name, state.model_name + SUFFIX)
    return ModelList(data=[ModelCard(id=name, created=STARTED) for name in names])
