"""Readers: one module per file format, each turning a file's bytes into `Block`s (headings,
paragraphs, list items, table rows, code lines, captions) in reading order.

    blocks = read(data, "report.pdf", max_size=100_000_000, max_chars=5_000_000)

| format | module | library |
| --- | --- | --- |
| .txt | text | (lines) |
| .md .markdown | markdown | markdown-it-py |
| .html .htm .xhtml | html | BeautifulSoup |
| .pdf | pdf | pdfminer.six |
| .docx | docx | mammoth |
| .odt | odt | (zip + XML) |
| .epub | epub | (zip + OPF) |
| .pptx | pptx | python-pptx |
| .xlsx .csv | sheet | openpyxl, csv |

Formats parsed for structure run in a child process with limits (`rag.ingest.cage`); zip-based ones
are checked for decompression bombs first. The text a file may yield is bounded while it is read
(`text_limit`: RAG_MAX_DOC_CHARS, and at most CHARS_PER_BYTE characters per byte of the file).
Every failure is a `DocumentError` that names the
file and the fix. Must not import the pipeline, the store or the models.
"""

from __future__ import annotations

import io
from pathlib import Path

from rag.errors import DocumentError
from rag.ingest.readers.blocks import Block, text_budget

TEXT = {".txt"}
MARKDOWN = {".md", ".markdown"}
HTML = {".html", ".htm", ".xhtml"}
ZIPPED = {".docx", ".odt", ".epub", ".pptx", ".xlsx"}
SUFFIXES = TEXT | MARKDOWN | HTML | ZIPPED | {".pdf", ".csv"}
CAGED = HTML | ZIPPED | {".pdf"}  # parsers of structure: run in rag.ingest.cage
# the real files of eval/realdocs yield at most 2.2 characters per byte of file (a CSV); a .docx
# of 4.6 MB that yields 87 million characters (19 per byte) is a text bomb
CHARS_PER_BYTE = 10
MIN_CHARS = 1_000_000  # a small file may always yield this much
BOMB_RATIO = 200  # a zip part this many times its compressed size (and over 1 MB) is refused
_IMPORTS = {
    ".pdf": ("pdfminer.high_level", "pdfminer.layout"),
    ".docx": ("mammoth", "bs4"),
    ".odt": ("bs4",),
    ".epub": ("bs4",),
    ".pptx": ("pptx",),
    ".xlsx": ("openpyxl",),
    ".html": ("bs4",),
    ".htm": ("bs4",),
    ".xhtml": ("bs4",),
}


def decode(data: bytes, name: str) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise DocumentError(f"{name}: is UTF-16; re-save the file as UTF-8")
    if b"\x00" in data[:8192]:
        raise DocumentError(
            f"{name}: looks binary (NUL bytes); give a text, HTML, PDF or office file"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            f"{name}: not valid UTF-8 (byte {exc.start}); re-save the file as UTF-8"
        ) from None


def too_big(name: str, what: str, limit: int) -> str:
    return (
        f"{name}: {what} would be over {limit / 1e6:g} MB decompressed (RAG_MAX_EXTRACT_MB); "
        "split the document or raise the limit"
    )


def check_zip(data: bytes, name: str, max_size: int) -> None:
    """Refuse a zip whose parts decompress past `max_size`, or one part at a bomb's ratio."""
    import zipfile

    kind = Path(name).suffix.lower() or "zip"
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise DocumentError(f"{name}: not a readable {kind} (not a zip: {exc})") from None
    if sum(i.file_size for i in infos) > max_size:
        raise DocumentError(too_big(name, "its parts", max_size))
    for i in infos:
        if i.file_size > 1_000_000 and i.file_size > BOMB_RATIO * max(i.compress_size, 1):
            raise DocumentError(
                f"{name}: {i.filename} decompresses to {i.file_size / 1e6:.0f} MB from "
                f"{i.compress_size / 1e3:.0f} kB, a zip bomb's ratio; re-save the document"
            )


def preload(name: str) -> None:
    """Import the reader's libraries for `name` (the cage does this before it caps memory)."""
    import importlib

    for module in _IMPORTS.get(Path(name).suffix.lower(), ()):
        importlib.import_module(module)


def text_limit(size: int, max_chars: int) -> tuple[int, str]:
    """The characters a file of `size` bytes may yield, and the rule that sets it."""
    relative = max(MIN_CHARS, CHARS_PER_BYTE * size)
    if max_chars <= relative:
        return max_chars, "RAG_MAX_DOC_CHARS"
    return relative, f"{CHARS_PER_BYTE} characters per byte of this {size:,}-byte file"


def read(data: bytes, name: str, max_size: int, max_chars: int = 5_000_000) -> list[Block]:
    """The blocks of one file, read in this process (`rag.ingest.cage` calls it in a child).
    Reading stops with a `DocumentError` once the file has yielded more than its
    `text_limit`."""
    suffix = Path(name).suffix.lower()
    if suffix in ZIPPED:
        check_zip(data, name, max_size)
    limit, why = text_limit(len(data), max_chars)
    try:
        with text_budget(limit, name, why):
            blocks = _read(data, name, suffix)
    except DocumentError:
        raise
    except (KeyError, ValueError, TypeError, AttributeError, IndexError, OSError) as exc:
        raise DocumentError(
            f"{name}: not a readable {suffix} file ({exc.__class__.__name__}: {exc}); "
            "re-save or re-export it"
        ) from None
    if sum(len(b.text) + 1 for b in blocks) > max_size:
        raise DocumentError(too_big(name, "its text", max_size))
    return blocks


def _read(data: bytes, name: str, suffix: str) -> list[Block]:
    from rag.ingest.readers import docx, epub, html, markdown, odt, pdf, pptx, sheet, text

    if suffix == ".pdf":
        return pdf.read(data, name)
    if suffix == ".docx":
        return docx.read(data)
    if suffix == ".odt":
        return odt.read(data, name)
    if suffix == ".epub":
        return epub.read(data, name)
    if suffix == ".pptx":
        return pptx.read(data)
    if suffix == ".xlsx":
        return sheet.read_xlsx(data)
    decoded = decode(data, name)
    if suffix in HTML:
        return html.read(decoded)
    if suffix in MARKDOWN:
        return markdown.read(decoded)
    if suffix == ".csv":
        return sheet.read_csv(decoded, name)
    return text.read(decoded)


__all__ = ["Block", "CAGED", "SUFFIXES", "check_zip", "decode", "preload", "read", "text_limit"]
