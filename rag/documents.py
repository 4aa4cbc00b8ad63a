"""Read documents from disk into plain text, one reader per file type.

Supported: .txt, .md (as text), .html/.htm (BeautifulSoup), .pdf (pypdf), .docx (python-docx).
Every failure is a `DocumentError` naming the file and the fix; callers keep going with the
rest of a batch. Does not: OCR scanned PDFs, or read legacy .doc files.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.errors import DocumentError

SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"}


@dataclass(frozen=True)
class LoadedDocument:
    doc_id: str  # stable: derived from the source name
    source: str  # the name shown in citations
    title: str
    text: str
    sha256: str  # of the extracted text


def doc_id_for(source: str) -> str:
    """A stable id from the source name, readable and safe in URLs: `essay-1a2b3c4d`."""
    stem = re.sub(r"[^a-z0-9]+", "-", Path(source).stem.lower()).strip("-")[:40] or "doc"
    return f"{stem}-{hashlib.sha256(source.encode()).hexdigest()[:8]}"


def iter_files(paths: list[Path]) -> Iterator[Path]:
    """Expand folders (recursively, supported suffixes only); keep files as given."""
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
            )
        else:
            yield path


def _decode(data: bytes, name: str) -> str:
    if b"\x00" in data[:8192]:
        raise DocumentError(
            f"{name}: looks binary (NUL bytes); give a text, HTML, PDF or DOCX file"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            f"{name}: not valid UTF-8 (byte {exc.start}); re-save the file as UTF-8"
        ) from None


def _html(data: bytes, name: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(data, name), "html.parser")
    for tag in soup(["script", "style", "noscript", "head"]):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else ""
    text = soup.get_text("\n")
    return (title + "\n" if title else "") + text


def _pdf(data: bytes, name: str) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise DocumentError(
            f"{name}: broken PDF ({exc}); re-export it or give a text copy"
        ) from None


def _docx(data: bytes, name: str) -> str:
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several unrelated types on bad zips
        raise DocumentError(f"{name}: not a readable .docx ({exc.__class__.__name__})") from None
    return "\n".join(p.text for p in document.paragraphs)


def clean(text: str) -> str:
    """Normalise line ends and runs of blank space; keep one paragraph per line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{2,}", "\n", "\n".join(lines)).strip()


def load_bytes(data: bytes, source: str, max_bytes: int) -> LoadedDocument:
    """Extract one document's text from its bytes; `source` names it (and picks the reader)."""
    suffix = Path(source).suffix.lower()
    if suffix not in SUFFIXES:
        raise DocumentError(
            f"{source}: unsupported type {suffix or '(none)'}; "
            f"use one of {', '.join(sorted(SUFFIXES))}"
        )
    if len(data) > max_bytes:
        raise DocumentError(
            f"{source}: {len(data) / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit; "
            "split it or raise RAG_MAX_FILE_MB"
        )
    if suffix == ".pdf":
        raw = _pdf(data, source)
    elif suffix == ".docx":
        raw = _docx(data, source)
    elif suffix in {".html", ".htm"}:
        raw = _html(data, source)
    else:
        raw = _decode(data, source)
    text = clean(raw)
    if not text:
        raise DocumentError(
            f"{source}: no text in it (empty, or a scanned PDF without a text layer)"
        )
    title = text.split("\n", 1)[0][:120]
    return LoadedDocument(
        doc_id=doc_id_for(source),
        source=source,
        title=title,
        text=text,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
    )


def load_file(path: Path, max_bytes: int) -> LoadedDocument:
    if not path.exists():
        raise DocumentError(f"{path}: no such file or folder")
    if not path.is_file():
        raise DocumentError(f"{path}: not a regular file")
    if path.stat().st_size > max_bytes:
        raise DocumentError(
            f"{path.name}: {path.stat().st_size / 1e6:.1f} MB is over the "
            f"{max_bytes / 1e6:.0f} MB limit; split it or raise RAG_MAX_FILE_MB"
        )
    return load_bytes(path.read_bytes(), path.name, max_bytes)
