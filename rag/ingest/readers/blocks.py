"""The unit every reader returns: a `Block` of one kind with its text on one line.

    Block("heading", "Installation", level=2)    Block("item", "Run make.", level=1)
    Block("row", "Team: Platform · Budget: $120,000")    Block("paragraph", "…", page=12)

Kinds: heading (level 1-6), paragraph, item (a list item; level = nesting), row (a table row
read with its header), code (one line of preformatted text), caption, margin (a PDF's running
header, footer or page number). `page` is 1-based where
the format has pages (PDF pages, PPTX slides), else 0. Readers collapse blank space inside a
block, so a document's text is its blocks joined by newlines (`rag.ingest.documents.assemble`).
Every block is charged to the text budget of the file being read (`text_budget`), so a reader
stops as soon as a file yields more text than it may, not after it has made all of it.
Does not: keep fonts, positions or links.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from rag.errors import DocumentError

KINDS = ("heading", "paragraph", "item", "row", "code", "caption", "margin")
PROSE = frozenset({"paragraph", "item", "caption"})  # split into sentences; others stay whole
END = re.compile(r"[.!?:;…)\]\"'”’]$")  # text that may end a sentence
ROW_SEP = " · "


@dataclass(frozen=True)
class Block:
    kind: str
    text: str
    level: int = 0
    page: int = 0

    def __post_init__(self) -> None:
        budget = _BUDGET.get()
        if budget is not None:
            budget.take(len(self.text) + 1)


class TextBudget:
    """The characters one file may still yield; `take` raises `DocumentError` past them."""

    def __init__(self, limit: int, name: str, why: str) -> None:
        self.limit, self.name, self.why, self.used = limit, name, why, 0

    def take(self, chars: int) -> None:
        self.used += chars
        if self.used > self.limit:
            raise DocumentError(
                f"{self.name}: its text is over {self.limit:,} characters ({self.why}); "
                "a text bomb, or split the document or raise the limit"
            )


_BUDGET: ContextVar[TextBudget | None] = ContextVar("text_budget", default=None)


@contextmanager
def text_budget(limit: int, name: str, why: str) -> Iterator[TextBudget]:
    """Charge every `Block` made inside to one budget of `limit` characters."""
    budget = TextBudget(limit, name, why)
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)


def charge(chars: int) -> None:
    """Charge text that is not a `Block` yet (a PDF's text boxes) to the current budget."""
    budget = _BUDGET.get()
    if budget is not None:
        budget.take(chars)


@contextmanager
def uncharged() -> Iterator[None]:
    """Blocks remade from blocks already charged (a joined paragraph) are not charged again."""
    token = _BUDGET.set(None)
    try:
        yield
    finally:
        _BUDGET.reset(token)


def squash(text: str) -> str:
    """One line: every run of blank space (newlines, tabs, NBSP, zero-width) as one space."""
    text = text.replace("\xad", "").replace("\u200b", "").replace("\ufeff", "")
    return re.sub(r"\s+", " ", text).strip()


def join_lines(lines: list[str]) -> str:
    """Hard-wrapped lines as one line: "iden-" + "tifier" -> "identifier", else one space."""
    out = ""
    for line in (ln.strip() for ln in lines):
        if not line:
            continue
        if re.search(r"[a-z]-$", out) and line[:1].islower():
            out = out[:-1] + line
        else:
            out = f"{out} {line}" if out else line
    return squash(out)


def table_rows(rows: list[list[str]], header: list[str] | None) -> list[str]:
    """Each row as one line read with its header: "Team: Platform · Budget: $120,000".

    A cell without a header name (or an empty header) is given alone; empty cells are left out."""
    out = []
    for cells in rows:
        parts = []
        for i, cell in enumerate(cells):
            cell = squash(cell)
            if not cell:
                continue
            name = squash(header[i]) if header and i < len(header) else ""
            parts.append(f"{name}: {cell}" if name and name != cell else cell)
        if parts:
            out.append(ROW_SEP.join(parts))
    return out


def join_continued(blocks: list[Block]) -> list[Block]:
    """Join a paragraph (or list item) cut by a page, column or box break: one that does not end
    a sentence, followed by a paragraph that starts in lower case, is one block (on the first
    one's page). Page margins (running headers, page numbers) in between stay after it."""
    out: list[Block] = []
    for b in blocks:
        i = len(out) - 1
        while i >= 0 and out[i].kind == "margin":
            i -= 1
        last = out[i] if i >= 0 else None
        if (
            last is not None
            and last.kind in ("paragraph", "item")
            and b.kind == "paragraph"
            and not END.search(last.text)
            and b.text[:1].islower()
        ):
            with uncharged():
                out[i] = Block(last.kind, join_lines([last.text, b.text]), last.level, last.page)
            continue
        out.append(b)
    return out


@dataclass(frozen=True)
class Part:
    """A block placed in its document's text: `text[start:end]` is the block's text."""

    kind: str
    start: int
    end: int
    level: int = 0
    page: int = 0
