"""Plain text as blocks: one paragraph per line, as the default corpus is written.

A short line without closing punctuation is a heading (level 1), unless it starts like a list
item ("- ", "* ", "1. "), which is an item. A file hard-wrapped at a fixed width (most of its
lines end mid-sentence and a blank line separates paragraphs) has its lines joined instead.
"""

from __future__ import annotations

import re

from rag.ingest.readers.blocks import END, Block, join_lines

ITEM = re.compile(r"^(?:[-*•+]|\d{1,3}[.)])\s+\S")


def is_heading(line: str) -> bool:
    return 0 < len(line) <= 80 and not re.search(r"[.!?:;,\"”']$", line) and len(line.split()) <= 12


def kind_of(line: str) -> str:
    """A stripped line's kind in a file with one paragraph per line."""
    if ITEM.match(line):
        return "item"
    return "heading" if is_heading(line) else "paragraph"


def _wrapped(lines: list[str]) -> bool:
    """Hard-wrapped prose: blank lines between paragraphs, and most lines end mid-sentence."""
    full = [ln for ln in lines if len(ln) > 40]
    if len(full) < 5 or "" not in lines:
        return False
    return sum(not END.search(ln) for ln in full) > 0.6 * len(full)


def read(text: str) -> list[Block]:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", ln).strip() for ln in text.split("\n")]
    if _wrapped(lines):
        return _paragraphs(lines)
    blocks = []
    for line in filter(None, lines):
        kind = kind_of(line)
        blocks.append(Block(kind, line, 0 if kind == "paragraph" else 1))
    return blocks


def _paragraphs(lines: list[str]) -> list[Block]:
    """Blank-line separated paragraphs, their lines joined; list items and headings alone."""
    blocks: list[Block] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            blocks.append(Block("paragraph", join_lines(current)))
            current.clear()

    for line in lines + [""]:
        if not line:
            flush()
        elif ITEM.match(line):
            flush()
            blocks.append(Block("item", line, 1))
        elif not current and is_heading(line):
            blocks.append(Block("heading", line, 1))
        else:
            current.append(line)
    return blocks
