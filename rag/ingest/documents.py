"""Load documents from disk or bytes: the text of a file and its structure (`Part`s), read by
the format's reader (`rag.ingest.readers`).

    doc = load_file(Path("report.pdf"), max_bytes=50_000_000)
    doc.text            # the blocks' texts joined by newlines: what citations point into
    doc.parts           # (kind, start, end, level, page) of every block, in order

Formats parsed for structure are read in a child process with limits (`cage.py`). Every failure
is a `DocumentError` naming the file and the fix; callers keep going with the rest of a batch.
Does not: OCR scanned PDFs, or read legacy .doc/.xls/.ppt files.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import DocumentError
from rag.ingest.cage import Limits, read_caged
from rag.ingest.readers import CAGED, SUFFIXES, read
from rag.ingest.readers.blocks import Block, Part


@dataclass(frozen=True)
class LoadedDocument:
    doc_id: str  # stable: derived from the source name
    source: str  # the name shown in citations
    title: str
    text: str
    sha256: str  # of the extracted text
    parts: tuple[Part, ...] = field(default=(), compare=False)  # its blocks, placed in `text`


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


def assemble(blocks: list[Block]) -> tuple[str, tuple[Part, ...]]:
    """The document's text (each block on a line of its own) and where each block is in it."""
    parts: list[Part] = []
    pieces: list[str] = []
    pos = 0
    for b in blocks:
        text = b.text.strip()
        if not text:
            continue
        if "\n" in text:  # readers give one line per block; a stray newline would split it
            text = re.sub(r"\s*\n\s*", " ", text)
        parts.append(Part(b.kind, pos, pos + len(text), b.level, b.page))
        pieces.append(text)
        pos += len(text) + 1
    return "\n".join(pieces), tuple(parts)


MARKS = re.compile(r"^#{1,6}\s+|\s+#+$")  # a Markdown heading's marks: `# Title`, `## Title ##`


def _title(text: str, parts: tuple[Part, ...], source: str) -> str:
    """The first heading of a structured document (in its first few blocks); else its first line
    if that reads like a title (short, no closing . , ; : and more text after it); else the file
    name: `afghanistan-counterterrorism_2024.txt` is "Afghanistan counterterrorism 2024".
    A Markdown heading's # marks are never kept."""
    if Path(source).suffix.lower() != ".txt":
        for p in parts[:5]:
            if p.kind == "heading" and (heading := MARKS.sub("", text[p.start : p.end])):
                return heading[:120]
    first, _, rest = text.partition("\n")
    first = MARKS.sub("", first).strip()
    if first and len(first) <= 100 and not re.search(r"[.,;:…]$", first) and rest.strip():
        return first
    name = " ".join(re.sub(r"[-_]+", " ", Path(source).stem).split()) or source
    return (name[:1].upper() + name[1:])[:120]


def load_bytes(
    data: bytes,
    source: str,
    max_bytes: int,
    limits: Limits | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> LoadedDocument:
    """Read one document from its bytes; `source` names it (and picks the reader). Formats
    parsed for structure are read in a child process under `limits` (default `Limits()`),
    killed when `cancelled()` turns true."""
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
        blocks = read_caged(data, source, limits, cancelled)
    else:
        blocks = read(data, source, limits.extract_bytes, limits.max_chars)
    text, parts = assemble(blocks)
    if not text:
        if suffix == ".pdf":
            raise DocumentError(
                f"{source}: this PDF has no text layer (a scan or images of pages); run OCR on "
                "it first (e.g. ocrmypdf) or give a text copy"
            )
        raise DocumentError(f"{source}: no text in it (the file is empty)")
    return LoadedDocument(
        doc_id=doc_id_for(source),
        source=source,
        title=_title(text, parts, source),
        text=text,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        parts=parts,
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
