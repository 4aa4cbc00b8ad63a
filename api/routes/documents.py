"""Documents in the index: upload (multipart), list, remove.

An uploaded file's name only labels the document: it must be a plain name (no folders, no
`..`) and is never used as a path. The bytes go straight to `Pipeline.ingest_bytes`; a file that
cannot be read is rejected with 4xx and the index is left as it was.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, UploadFile, status
from starlette.concurrency import run_in_threadpool

from api.deps import PipelineDep, StateDep
from api.schemas import DocumentOut, UploadResult, error_responses
from rag.documents import SUFFIXES, doc_id_for

router = APIRouter(prefix="/documents", tags=["documents"])


def plain_name(name: str | None) -> str:
    """The upload's file name if it is a plain one (`report.pdf`), else 400."""
    if not name or not name.strip():
        raise HTTPException(400, "the upload has no file name; send it like report.pdf")
    bad = (
        "/" in name
        or "\\" in name
        or name in {".", ".."}
        or any(ord(ch) < 32 for ch in name)
        or len(name) > 255
    )
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


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=UploadResult,
    responses=error_responses(400, 413, 415, 422),
)
async def upload(file: UploadFile, state: StateDep, pipeline: PipelineDep) -> UploadResult:
    """Add (or update) one document: .txt .md .html .pdf .docx."""
    name = plain_name(file.filename)
    limit = int(state.settings.max_upload_mb * 1_000_000)
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(
            413,
            f"{name} is over the {state.settings.max_upload_mb:g} MB upload limit "
            "(RAG_MAX_UPLOAD_MB); split it or raise the limit",
        )
    report = await run_in_threadpool(pipeline.ingest_bytes, data, name)
    kind = "added" if report.added else "updated" if report.updated else "unchanged"
    info = pipeline.store.docs[doc_id_for(name)]
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
