"""PDF as blocks, from pdfminer.six's layout analysis: text boxes in reading order (columns
read one after the other), split into paragraphs and list items, with their page.

A box in a font clearly larger than the body text is a heading (levels by size); lines in a
monospaced font are code; a line that starts with a bullet or a number is a list item; lines
are joined into sentences with hyphenation undone; a paragraph cut by a page or column break is
joined again (`blocks.join_continued`). Running headers, footers and page numbers (the same
text at the top or bottom of many pages) are kept as "margin" blocks that never cut a sentence.
Does not: OCR scanned pages (a PDF without a text layer yields no text, and a clear error),
or rebuild tables (each cell box is a paragraph of its own).
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from rag.errors import DocumentError
from rag.ingest.readers.blocks import (
    END,
    Block,
    charge,
    join_continued,
    join_lines,
    squash,
    uncharged,
)

BULLET = re.compile(r"^(?:[•◦▪▫●○■□‣⁃∙·*–—-]|\(?\d{1,2}[.)]|\(?[a-z][.)]|\([ivx]+\))\s+")
LONE_BULLET = re.compile(r"[•◦▪▫●○■□‣⁃∙·*–—-]")
LIGATURES = re.compile("[\ufb00-\ufb06]")
MONO = re.compile(r"courier|mono|consol|typewriter|cmtt|inconsolata|menlo|lmtt|sfmono", re.I)


@dataclass
class _Line:
    text: str
    x0: float
    x1: float
    size: float
    mono: bool


@dataclass
class _Box:
    page: int
    lines: list[_Line]
    x0: float
    x1: float
    top: float  # distance from the page's top, as a share of its height
    bottom: float

    @property
    def text(self) -> str:
        return squash(" ".join(ln.text for ln in self.lines))


def _clean(text: str) -> str:
    """Ligatures (ﬁ, ﬂ …) as letters; a glyph without a Unicode name ("(cid:73)") at the start
    of a line is a bullet, elsewhere nothing."""
    text = LIGATURES.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
    text = re.sub(r"^\s*\(cid:\d+\)\s*", "• ", text)
    return re.sub(r"\(cid:\d+\)", "", text)


def _line(obj: object) -> _Line | None:
    from pdfminer.layout import LTChar

    chars = [c for c in obj if isinstance(c, LTChar)]  # type: ignore[attr-defined]
    text = _clean(obj.get_text().rstrip("\n"))  # type: ignore[attr-defined]
    if not text.strip() or LONE_BULLET.fullmatch(text.strip()):
        return None  # a bullet glyph in a box of its own carries no words
    sizes = sorted(round(c.size, 1) for c in chars) or [0.0]
    mono = bool(chars) and sum(bool(MONO.search(c.fontname)) for c in chars) > len(chars) / 2
    return _Line(text, obj.x0, obj.x1, sizes[len(sizes) // 2], mono)  # type: ignore[attr-defined]


def _text_boxes(container: Any) -> Iterator[Any]:
    from pdfminer.layout import LTFigure, LTTextBox

    for element in container:
        if isinstance(element, LTTextBox):
            yield element
        elif isinstance(element, LTFigure):
            yield from _text_boxes(element)


def _boxes(data: bytes) -> list[_Box]:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams

    boxes: list[_Box] = []
    params = LAParams(all_texts=True)  # text inside figures (an embedded page, a diagram) too
    for number, page in enumerate(extract_pages(io.BytesIO(data), laparams=params), 1):
        height = max(page.height, 1.0)
        for element in _text_boxes(page):
            lines = [ln for ln in map(_line, element) if ln is not None]
            if not lines:
                continue
            top, bottom = 1 - element.y1 / height, 1 - element.y0 / height
            boxes.append(_Box(number, lines, element.x0, element.x1, top, bottom))
            charge(sum(len(ln.text) + 1 for ln in lines))  # stops a text bomb page by page
    return boxes


def _margins(boxes: list[_Box]) -> set[int]:
    """Boxes that are running headers, footers, page numbers or a menu repeated on every page:
    at a page's top or bottom and on 3+ pages (or a bare number there), or anywhere on at least
    half of the pages (and 3+)."""
    pages = len({b.page for b in boxes})
    key = [re.sub(r"\d+", "#", b.text.lower()) for b in boxes]
    edge = [b.top < 0.08 or b.bottom > 0.92 for b in boxes]
    on_edge = Counter(k for k, e in zip(key, edge, strict=True) if e)
    anywhere = Counter(k for k in {(b.page, k) for b, k in zip(boxes, key, strict=True)})
    per_page = Counter(k for _, k in anywhere)
    return {
        i
        for i, (k, e) in enumerate(zip(key, edge, strict=True))
        if (e and (re.fullmatch(r"[#\W]*(page)?[#\W]*", k) or (pages >= 3 and on_edge[k] >= 3)))
        or (pages >= 3 and per_page[k] >= max(3, pages / 2))
    }


def _body_size(boxes: list[_Box]) -> float:
    sizes: Counter[float] = Counter()
    for b in boxes:
        for ln in b.lines:
            sizes[ln.size] += len(ln.text)
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _split(box: _Box) -> list[Block]:
    """A text box as paragraphs, list items and code lines."""
    out: list[Block] = []
    width = max(box.x1 - box.x0, 1.0)
    current: list[str] = []
    kind = "paragraph"

    def flush() -> None:
        nonlocal current
        if current:
            out.append(Block(kind, join_lines(current), 0, box.page))
        current = []

    code = sum(ln.mono for ln in box.lines) >= max(2, 0.6 * len(box.lines)) or (
        len(box.lines) == 1 and box.lines[0].mono
    )  # a code block; a monospaced word wrapped inside prose is prose
    prev: _Line | None = None
    for ln in box.lines:
        if code and ln.mono:
            flush()
            out.append(Block("code", ln.text.rstrip(), 0, box.page))
            prev = None
            continue
        starts_item = bool(BULLET.match(ln.text.strip()))
        ended = (
            prev is not None
            and bool(END.search(prev.text.strip()))
            and prev.x1 - box.x0 < 0.85 * width
        )
        if current and (starts_item or ended):
            flush()
        if not current:
            kind = "item" if starts_item else "paragraph"
        current.append(ln.text)
        prev = ln
    flush()
    return out


STREAM = re.compile(rb"stream\r?\n")
MAX_STREAM = 75_000_000  # one decompressed stream (pypdf's limit, which this reader replaced)


def check_streams(data: bytes, name: str) -> None:
    """Refuse a PDF with a deflated stream that inflates past MAX_STREAM (a decompression bomb),
    before the parser inflates it; a stream deflated twice is checked again once inflated."""
    for match in STREAM.finditer(data):
        _check(data, match.end(), name, depth=0)


def _check(data: bytes, start: int, name: str, depth: int) -> None:
    import zlib

    inflater = zlib.decompressobj()
    out: list[bytes] = []
    size, pos = 0, start
    try:
        chunk = data[pos : pos + 1_000_000]
        pos += len(chunk)
        while chunk:
            piece = inflater.decompress(chunk, MAX_STREAM + 1 - size)
            size += len(piece)
            if depth < 3 and sum(map(len, out)) < 2_000_000:
                out.append(piece)
            if size > MAX_STREAM:
                raise DocumentError(
                    f"{name}: a stream in this PDF decompresses to over "
                    f"{MAX_STREAM / 1e6:.0f} MB (a decompression bomb); re-export it"
                )
            if inflater.eof:
                break
            chunk = inflater.unconsumed_tail or data[pos : pos + 1_000_000]
            if not inflater.unconsumed_tail:
                pos += len(chunk)
    except zlib.error:
        return  # not deflated (or not a stream at all): the parser decides
    inner = b"".join(out)
    if inner[:1] == b"\x78" and depth < 3:  # a zlib header: deflated again
        _check(inner, 0, name, depth + 1)


def read(data: bytes, name: str) -> list[Block]:
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.psexceptions import PSException

    check_streams(data, name)
    try:
        boxes = _boxes(data)
    except (PDFSyntaxError, PSException, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DocumentError(
            f"{name}: broken PDF ({exc.__class__.__name__}: {exc}); re-export it or give a "
            "text copy"
        ) from None
    margins = _margins(boxes)
    body = _body_size(boxes)
    big = sorted(
        {
            ln.size
            for i, b in enumerate(boxes)
            if i not in margins and len(b.lines) <= 3
            for ln in b.lines
            if ln.size >= body * 1.15
        },
        reverse=True,
    )
    with uncharged():  # the boxes' text was charged as it was read
        return _blocks(boxes, margins, body, big)


def _blocks(boxes: list[_Box], margins: set[int], body: float, big: list[float]) -> list[Block]:
    blocks: list[Block] = []
    for i, box in enumerate(boxes):
        text = box.text
        if i in margins:
            blocks.append(Block("margin", text, 0, box.page))
        elif (
            len(box.lines) <= 3
            and len(text) <= 150
            and body
            and min(ln.size for ln in box.lines) >= body * 1.15
        ):
            level = min(big.index(max(ln.size for ln in box.lines)) + 1, 6)
            blocks.append(
                Block("heading", join_lines([ln.text for ln in box.lines]), level, box.page)
            )
        else:
            blocks.extend(_split(box))
    return join_continued(blocks)
