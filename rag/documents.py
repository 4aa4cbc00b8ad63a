"""Read documents from disk into plain text, one reader per file type.

Supported: .txt, .md (as text), .html/.htm (BeautifulSoup), .pdf (pypdf), .docx (python-docx).
HTML, PDF and DOCX are parsed in a child process with limits (`rag.cage`); the readers also
refuse a zip whose parts decompress past RAG_MAX_EXTRACT_MB or at a bomb's ratio, and text past
that size. Every failure is a `DocumentError` naming the file and the fix; callers keep going
with the rest of a batch. Does not: OCR scanned PDFs, or read legacy .doc files.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.cage import Limits, read_caged
from rag.errors import DocumentError

SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"}
CAGED = {".html", ".htm", ".pdf", ".docx"}  # parsers of structure: run in rag.cage
BOMB_RATIO = 200  # a zip part this many times its compressed size (and over 1 MB) is refused


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
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise DocumentError(f"{name}: is UTF-16; re-save the file as UTF-8")
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


def _pdf(data: bytes, name: str, max_text: int) -> str:
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages: list[str] = []
        size = 0
        for page in reader.pages:
            pages.append(page.extract_text() or "")
            size += len(pages[-1])
            if size > max_text:
                raise DocumentError(_too_big(name, "its text", max_text))
        return "\n".join(pages)
    except LimitReachedError as exc:
        raise DocumentError(
            f"{name}: a part of this PDF decompresses past pypdf's limit ({exc}); "
            "a decompression bomb, or re-export it"
        ) from None
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DocumentError(
            f"{name}: broken PDF ({exc}); re-export it or give a text copy"
        ) from None


def _check_zip(data: bytes, name: str, max_size: int) -> None:
    """Refuse a zip whose parts decompress past `max_size`, or one part at a bomb's ratio."""
    import zipfile

    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise DocumentError(f"{name}: not a readable .docx (not a zip: {exc})") from None
    if sum(i.file_size for i in infos) > max_size:
        raise DocumentError(_too_big(name, "its parts", max_size))
    for i in infos:
        if i.file_size > 1_000_000 and i.file_size > BOMB_RATIO * max(i.compress_size, 1):
            raise DocumentError(
                f"{name}: {i.filename} decompresses to {i.file_size / 1e6:.0f} MB from "
                f"{i.compress_size / 1e3:.0f} kB, a zip bomb's ratio; re-save the document"
            )


def _docx(data: bytes, name: str, max_size: int) -> str:
    import docx

    _check_zip(data, name, max_size)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several unrelated types on bad zips
        raise DocumentError(f"{name}: not a readable .docx ({exc.__class__.__name__})") from None
    return "\n".join(p.text for p in document.paragraphs)


def _too_big(name: str, what: str, limit: int) -> str:
    return (
        f"{name}: {what} would be over {limit / 1e6:g} MB decompressed (RAG_MAX_EXTRACT_MB); "
        "split the document or raise the limit"
    )


def preload(name: str) -> None:
    """Import the reader for `name` (the cage does this before it caps memory)."""
    suffix = Path(name).suffix.lower()
    if suffix == ".pdf":
        import pypdf  # noqa: F401
    elif suffix == ".docx":
        import docx  # noqa: F401
    elif suffix in {".html", ".htm"}:
        import bs4  # noqa: F401


def extract(data: bytes, name: str, max_size: int) -> str:
    """The raw text of one file, read in this process (`rag.cage` calls it in a child)."""
    suffix = Path(name).suffix.lower()
    if suffix == ".pdf":
        raw = _pdf(data, name, max_size)
    elif suffix == ".docx":
        raw = _docx(data, name, max_size)
    elif suffix in {".html", ".htm"}:
        raw = _html(data, name)
    else:
        raw = _decode(data, name)
    if len(raw) > max_size:
        raise DocumentError(_too_big(name, "its text", max_size))
    return raw


def clean(text: str) -> str:
    """Normalise line ends and runs of blank space; keep one paragraph per line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{2,}", "\n", "\n".join(lines)).strip()


def load_bytes(
    data: bytes, source: str, max_bytes: int, limits: Limits | None = None
) -> LoadedDocument:
    """Extract one document's text from its bytes; `source` names it (and picks the reader).
    HTML, PDF and DOCX are read in a child process under `limits` (default `Limits()`)."""
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
    limits = limits or Limits()
    if suffix in CAGED:
        raw = read_caged(data, source, limits)
    else:
        raw = extract(data, source, limits.extract_bytes)
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


def load_file(path: Path, max_bytes: int, limits: Limits | None = None) -> LoadedDocument:
    if not path.exists():
        raise DocumentError(f"{path}: no such file or folder")
    if not path.is_file():
        raise DocumentError(f"{path}: not a regular file")
    if path.stat().st_size > max_bytes:
        raise DocumentError(
            f"{path.name}: {path.stat().st_size / 1e6:.1f} MB is over the "
            f"{max_bytes / 1e6:.0f} MB limit; split it or raise RAG_MAX_FILE_MB"
        )
    return load_bytes(path.read_bytes(), path.name, max_bytes, limits)
