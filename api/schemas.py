"""Request and response bodies of the HTTP API (they are also what /docs shows)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ErrorOut(BaseModel):
    """Every 4xx/5xx body: `detail` says in words what went wrong and how to fix it."""

    detail: str
    errors: list[dict[str, object]] | None = Field(
        None, description="with 422 for a bad field: each error's `loc`, `msg` and `type`"
    )


def error_responses(*codes: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI `responses` entries for these statuses, all with the `ErrorOut` body."""
    what = {
        400: "the body is not JSON / not an object, a bad file name, or an unknown Host",
        401: "RAG_API_KEY is set and the request lacks `Authorization: Bearer <key>`",
        403: "a browser page from another origin tried to change something",
        404: "no such document",
        413: "the body, the upload or the question is over its limit",
        415: "unsupported file type",
        422: "a field is missing or invalid, the question is empty or too long, or the file "
        "cannot be read",
        503: "the model queue is full, the server is still loading, or the model server or the "
        "database (RAG_LLM_URL, RAG_STORE) is down; see Retry-After",
    }
    return {c: {"model": ErrorOut, "description": what[c]} for c in codes}


class CitationOut(BaseModel):
    n: int = Field(description="the number used in the answer text, as [n]")
    source: str
    chunk_id: str
    start: int = Field(description="character offset of the quote in the document's text")
    end: int
    quote: str = Field(description="the cited sentence, verbatim")
    page: int | None = Field(
        default=None, description="the page (PDF) or slide (PPTX) the quote is on; null if none"
    )
    section: str = Field(
        default="", description='the headings above the quote, "Chapter › Section" ("" if none)'
    )


class BandOut(BaseModel):
    """What the confidence means to a person (docs/calibration.md, "Bands")."""

    name: Literal["high", "medium", "low"]
    precision: float | None = Field(
        description="the share of answers in this band that were right on the report halves"
    )
    text: str = Field(description='what to show, e.g. "high confidence: 86% of such answers …"')


class Judgement(BaseModel):
    """How much to trust an answer, and why a decline declined: shared by /ask and chat."""

    declined: bool
    decline: Literal["not_stated", "not_sure"] | None = Field(
        None,
        description='why it declined: "not_stated" (the passages found do not state it) or '
        '"not_sure" (an answer was found, its confidence is below the operating point; see '
        "`passage`); null for an answer",
    )
    confidence: float | None = Field(
        description="calibrated probability that the answer is right (docs/calibration.md); "
        "null when no claim was grounded, or the model in use has no calibration"
    )
    band: BandOut | None = Field(
        None, description="the confidence's band, for an answer with a confidence"
    )
    passage: CitationOut | None = Field(
        None, description='a "not_sure" decline: the passage the withheld answer rested on'
    )
    searched: str | None = Field(
        None,
        description="a follow-up that needed the conversation, rewritten to stand alone: the "
        "question that was searched and answered; null when the question was used as typed",
    )


class TimingsOut(BaseModel):
    retrieval_s: float
    ttft_s: float
    total_s: float
    prompt_tokens: int
    completion_tokens: int
    check_s: float = 0.0  # the model reading its answer back after the reply (in total_s)
    rewrite_s: float = 0.0  # deciding whether a follow-up needs rewriting, and rewriting it


# ---- POST /ask ----------------------------------------------------------------------------
class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(description="a question about the indexed documents")
    k: int | None = Field(None, ge=1, le=50, description="chunks to retrieve")
    stream: bool = Field(
        False,
        description='send server-sent events: `{"token": text}` for each verified piece, then '
        '`{"answer": …}` with the same object as without streaming',
    )


class AskResponse(Judgement):
    """The same object `rag ask --json` prints."""

    answer: str
    citations: list[CitationOut]
    timings: TimingsOut


# ---- POST /v1/chat/completions (OpenAI-compatible) ---------------------------------------
class ContentPart(BaseModel):
    type: str = "text"
    text: str = ""


class ChatMessage(BaseModel):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(p.text for p in self.content if p.type == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str | None = Field(
        None,
        description="the one served model answers; a name ending in `+sources` puts the "
        "sources into `content` (as `rag_sources`)",
    )
    messages: list[ChatMessage] = Field(
        min_length=1,
        max_length=100,
        description="the conversation; the last one is the user's question, earlier turns "
        "resolve follow-ups (system messages are ignored: the server has its own prompt)",
    )
    stream: bool = Field(False, description="send `chat.completion.chunk` server-sent events")
    max_tokens: int | None = Field(None, ge=1, le=2048)
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    rag_rewrite: bool | None = Field(
        None,
        description="a follow-up that needs the conversation is rewritten to stand alone before "
        "the search (null: decided from its words); false searches the user's own words, true "
        "rewrites any question that has a conversation before it",
    )
    rag_sources: bool | None = Field(
        None,
        description="put the sources into `content` after the answer, as a Markdown list, for "
        "clients that show only `content` (null: the model name, then RAG_SOURCES_IN_CONTENT)",
    )


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(Judgement):
    """The standard shape, plus `citations`, `declined`, `decline`, `confidence`, `band` and
    `passage` at the top level.

    With `stream: true` the reply is instead `chat.completion.chunk` events: the verified text
    as `delta.content`, then a last chunk (finish_reason "stop") that carries the same fields,
    `usage` and `answer` (the verified text), then `data: [DONE]`."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    citations: list[CitationOut]


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "local"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


# ---- documents & health -------------------------------------------------------------------
class DocumentOut(BaseModel):
    doc_id: str
    source: str
    title: str
    sha256: str
    chars: int
    chunks: int
    added: str = Field("", description="when this text was indexed (UTC, ISO 8601)")


class DocumentText(BaseModel):
    """A span of a document with the text around it (headings between chunks are left out)."""

    doc_id: str
    source: str
    title: str
    chars: int
    start: int
    end: int
    before: str
    quote: str = Field(description="the document's text in [start, end)")
    after: str


class Overview(BaseModel):
    documents: int
    chunks: int
    titles: list[str] = Field(description="the documents' titles (the first 20)")
    examples: list[str] = Field(description="questions to start with, from section headings")
    max_upload_bytes: int = Field(
        description="the largest file POST /documents takes, in bytes (RAG_MAX_UPLOAD_MB)"
    )


class UploadResult(BaseModel):
    status: Literal["added", "updated", "unchanged"]
    document: DocumentOut


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: Literal["ready"]
    model: str
    documents: int
    chunks: int
    queue: dict[str, int]
