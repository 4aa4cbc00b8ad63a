"""Markdown as blocks: rendered by markdown-it-py (CommonMark, with tables and strikethrough),
then read as HTML (`rag.ingest.readers.html`): headings, list items, table rows, fenced code lines.
Raw HTML in the file is kept as text, never run.
"""

from __future__ import annotations

from rag.ingest.readers import html
from rag.ingest.readers.blocks import Block


def read(text: str) -> list[Block]:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    return html.html_blocks(md.render(text))[1]
