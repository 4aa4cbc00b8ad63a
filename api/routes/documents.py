"""Documents in the index: upload (multipart), list, remove; an overview for the start
screen; a cited span with its neighbouring text (`GET /documents/{doc_id}/text`).

An uploaded file's name only labels the document: it must be a plain name (no folders, no
`..`) and is never used as a path. The bytes go straight to `Pipeline.ingest_bytes`; a file that
cannot be read is rejected with 4xx and the index is left as it was. An upload whose client hangs
up is cancelled (the reader is killed, nothing is committed); one `file` part per request.
"""

from __future__ import annotations

import asyncio
import threading
import unicodedata
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, UploadFile, status
from starlette.concurrency import run_in_threadpool

from api.deps import PipelineDep, StateDep
from api.schemas import DocumentOut, DocumentText, Overview, UploadResult, error_responses
from rag.errors import NotFoundError
from rag.grounding.excerpt import excerpt
from rag.ingest.documents import SUFFIXES, doc_id_for
from rag.types import DocumentInfo

router = APIRouter(prefix="/documents", tags=["documents"])


def plain_name(name: str | None) -> str:
    """The upload's file name if it is a plain one (`report.pdf`), else 400 (415 for a type that
    cannot be read). Refused: folders, `..`, over 255 characters, and any control character
    (Unicode category Cc: C0, DEL, C1) or invisible format character (Cf: bidi overrides and
    isolates, zero-width spaces and joiners, BOM, ...), which can make `txt.exe` show as
    `exe.txt`; the refusal names the character."""
    if not name or not name.strip():
        raise HTTPException(400, "the upload has no file name; send it like report.pdf")
    hidden = hidden_character(name)
    if hidden:
        raise HTTPException(
            400,
            f"bad file name {name!r}: it contains {hidden}, an invisible control or formatting "
            "character; rename the file without it",
        )
    bad = "/" in name or "\\" in name or name in {".", ".."} or len(name) > 255
    if bad:
        raise HTTPException(
            400, f"bad file name {name!r}: use a plain name like report.pdf, without folders"
        )
    if Path(name).suffix.lower() not in SUFFIXES:
        raise HTTPException(
            415,
            f"{name}: unsupported type; upload one of {', '.join(sorted(SUFFIXES))}",
        )
    return name


def hidden_character(name: str) -> str | None:
    """The first control or format character in `name` as "U+202E RIGHT-TO-LEFT OVERRIDE"
    (controls have no Unicode name: "U+0007 (a control character)"), or None.

    >>> hidden_character("report\\u202etxt.exe"), hidden_character("r\\x07.txt")
    ('U+202E RIGHT-TO-LEFT OVERRIDE', 'U+0007 (a control character)')
    """
    for ch in name:
        if unicodedata.category(ch) in ("Cc", "Cf"):
            return f"U+{ord(ch):04X} {unicodedata.name(ch, '(a control character)')}"
    return None


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=UploadResult,
    responses=error_responses(400, 413, 415, 422),
)
async def upload(
    file: UploadFile, request: Request, state: StateDep, pipeline: PipelineDep
) -> UploadResult:
    """Add (or update) one document: .pdf .docx .odt .epub .pptx .xlsx .csv .html .md .txt."""
    parts = (await request.form()).getlist("file")  # parsed once already, for `file`
    if len(parts) > 1:
        raise HTTPException(
            400, f"{len(parts)} files in one upload; send one `file` part per request"
        )
    name = plain_name(file.filename)
    limit = int(state.settings.max_upload_mb * 1_000_000)
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(
            413,
            f"{name} is over the {state.settings.max_upload_mb:g} MB upload limit "
            "(RAG_MAX_UPLOAD_MB); split it or raise the limit",
        )
    gone = threading.Event()
    work = asyncio.ensure_future(run_in_threadpool(pipeline.ingest_bytes, data, name, gone.is_set))
    while not (await asyncio.wait({work}, timeout=0.5))[0]:
        if await request.is_disconnected():
            gone.set()  # the reader is killed, nothing is committed; the task ends soon
    report = await work
    kind = "added" if report.added else "updated" if report.updated else "unchanged"
    info = pipeline.store.find(doc_id_for(name))
    if info is None:  # removed by another process meanwhile
        raise NotFoundError(f"{name} was removed while it was added; upload it again")
    return UploadResult(status=kind, document=DocumentOut(**info.__dict__))


@router.get("", response_model=list[DocumentOut])
def list_documents(pipeline: PipelineDep) -> list[DocumentOut]:
    """Every indexed document, by source name."""
    return [DocumentOut(**d.__dict__) for d in pipeline.documents()]


@router.delete(
    "/{doc_id}",
    response_model=DocumentOut,
    responses=error_responses(404),
)
async def remove(doc_id: str, pipeline: PipelineDep) -> DocumentOut:
    """Remove one document, by its id or its source name."""
    info = await run_in_threadpool(pipeline.remove, doc_id)
    return DocumentOut(**info.__dict__)


@router.get("/overview", response_model=Overview)
def overview(pipeline: PipelineDep, state: StateDep) -> Overview:
    """What the index holds, for a start screen: the documents' titles and three example
    questions made from its most-covered section headings (or the titles); and the largest
    upload, so a page can refuse a bigger file before sending it."""
    store = pipeline.store
    sections: dict[str, int] = {}
    for title, n in store.titles().items():
        title = title.strip()
        if title and not title.lower().startswith(("photo", "image", "figure")):
            sections[title] = sections.get(title, 0) + n
    topics = sorted(sections, key=lambda t: -sections[t])[:3]
    examples = [f"What does it say about {t[0].lower() + t[1:]}?" for t in topics]
    docs = store.documents()
    for d in sorted(docs, key=lambda d: -d.chunks):
        if len(examples) >= 3:
            break
        examples.append(f"What is {d.title or d.source} about?")
    return Overview(
        documents=len(docs),
        chunks=sum(d.chunks for d in docs),
        titles=[d.title or d.source for d in docs][:20],
        examples=examples,
        max_upload_bytes=int(state.settings.max_upload_mb * 1_000_000),
    )


def _find(pipeline: PipelineDep, doc_id: str) -> DocumentInfo:
    info = pipeline.store.find(doc_id)
    if info is None:
        raise NotFoundError(f"no document {doc_id!r} in the index; GET /documents lists them")
    return info


@router.get(
    "/{doc_id}/text",
    response_model=DocumentText,
    responses=error_responses(400, 404),
)
def text(
    doc_id: str,
    pipeline: PipelineDep,
    start: Annotated[int, Query(ge=0, description="span start (a citation's `start`)")],
    end: Annotated[int, Query(ge=1, description="span end (a citation's `end`)")],
    around: Annotated[int, Query(ge=0, le=5000, description="characters on each side")] = 600,
) -> DocumentText:
    """A span of one document (by id or source name) with its neighbouring text, as indexed."""
    info = _find(pipeline, doc_id)
    if not start < end <= info.chars:
        raise HTTPException(
            400,
            f"bad span {start}-{end}: {info.source} has {info.chars} characters; "
            "send 0 <= start < end <= that",
        )
    ex = excerpt(pipeline.store.chunks_of(info.doc_id), info.doc_id, start, end, around)
    return DocumentText(
        doc_id=info.doc_id,
        source=info.source,
        title=info.title,
        chars=info.chars,
        start=start,
        end=end,
        before=ex.before,
        quote=ex.quote,
        after=ex.after,
    )
