"""HTML (and XHTML from DOCX, ODT, EPUB and Markdown) as blocks, from the DOM's block structure.

Inline elements (<a>, <code>, <em>, <span> …) stay inside the sentence they are part of; block
elements (headings, paragraphs, list items, table rows, <pre> lines, captions, <div>s with text
of their own) become one block each. A table row is read with its header row. Scripts, styles,
forms and <nav> menus are left out. Uses BeautifulSoup (html.parser).
Does not: run scripts or apply CSS (text hidden by a stylesheet is kept).
"""

from __future__ import annotations

import re
from typing import Any

from rag.ingest.readers.blocks import Block, join_lines, squash, table_rows

SKIP = {
    "script", "style", "noscript", "template", "head", "svg", "math", "nav", "button",
    "select", "textarea", "iframe", "object", "canvas", "map",
}  # fmt: skip
HEADINGS = {f"h{i}": i for i in range(1, 7)}
LISTS = {"ul", "ol", "dl", "menu"}
ITEMS = {"li", "dt", "dd"}
BLOCKS = {
    "p", "div", "section", "article", "main", "aside", "header", "footer", "blockquote",
    "address", "figure", "form", "fieldset", "details", "summary", "body", "html", "center",
    "hr", "legend", "dir", "hgroup", "search",
}  # fmt: skip
BLOCKS |= LISTS | ITEMS | set(HEADINGS) | {"table", "pre", "caption", "figcaption"}
BLOCKS |= {"tr", "td", "th"}


class _Walker:
    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.inline: list[str] = []  # text of the block being gathered
        self.kind = "paragraph"
        self.level = 0

    def flush(self) -> None:
        text = join_lines(["".join(self.inline)])
        self.inline = []
        if text:
            self.blocks.append(Block(self.kind, text, self.level))

    def walk(self, node: Any) -> None:
        from bs4 import Comment, NavigableString, Tag

        for child in node.children:
            if isinstance(child, Comment):
                continue
            if isinstance(child, NavigableString):
                self.inline.append(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            if child.name == "br":  # a line break inside a sentence: the lines are one sentence
                self.inline.append(" ")
                continue
            name = child.name.lower() if child.name else ""
            if name in SKIP or child.get("role") == "navigation" or child.get("hidden") is not None:
                continue
            if name not in BLOCKS:
                self.walk(child)  # inline: part of the current sentence
                continue
            self.block(child, name)

    def block(self, tag: Any, name: str) -> None:
        self.flush()
        kind, level = self.kind, self.level
        if name in HEADINGS:
            if text := _text(tag):
                self.blocks.append(Block("heading", text, HEADINGS[name]))
            return
        if name == "pre":
            for line in tag.get_text().split("\n"):
                if line.strip():
                    self.blocks.append(Block("code", line.rstrip().replace("\t", "    ")))
            return
        if name == "table":
            self.table(tag)
            return
        if name in LISTS:
            self.level = level + 1
        elif name in ITEMS:
            self.kind = "item"
        elif name in {"caption", "figcaption"}:
            self.kind = "caption"
        self.walk(tag)
        self.flush()
        self.kind, self.level = kind, level

    def table(self, table: Any) -> None:
        rows = [r for r in table.find_all("tr") if r.find_parent("table") is table]
        grid = [[_text(c) for c in r.find_all(["td", "th"], recursive=False)] for r in rows]
        caption = table.find("caption")
        if caption is not None and _text(caption):
            self.blocks.append(Block("caption", _text(caption)))
        header = None
        marked = rows and (rows[0].find("th") is not None or rows[0].find_parent("thead"))
        if grid and len(grid) > 1 and (marked or _looks_like_header(grid)):
            header, grid = grid[0], grid[1:]
        for text in table_rows(grid, header):
            self.blocks.append(Block("row", text))


def _looks_like_header(grid: list[list[str]]) -> bool:
    """An unmarked first row that names columns: 2+ short cells, none empty, none a number."""
    first = grid[0]
    return (
        len(first) >= 2
        and all(0 < len(c) <= 40 and not re.fullmatch(r"[\d.,%$€£ +-]+", c) for c in first)
        and all(len(r) == len(first) for r in grid[1:])
    )


def _text(tag: Any) -> str:
    """A tag's text on one line: inline parts joined as written, block parts by a space."""
    from bs4 import NavigableString, Tag

    out: list[str] = []
    for node in tag.descendants:
        if isinstance(node, Tag) and node.name and node.name.lower() in BLOCKS:
            out.append(" ")
        elif isinstance(node, NavigableString) and type(node).__name__ == "NavigableString":
            out.append(str(node))
    return squash("".join(out))


def html_blocks(html: str) -> tuple[str, list[Block]]:
    """(the <title>, the blocks of the body)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    title = squash(soup.title.get_text(" ")) if soup.title else ""
    walker = _Walker()
    walker.walk(soup.body or soup)
    walker.flush()
    return title, walker.blocks


def read(html: str) -> list[Block]:
    """The blocks of a page; its <title> leads as a heading when no heading repeats it."""
    title, blocks = html_blocks(html)
    if title and not any(b.kind == "heading" and b.text == title for b in blocks[:3]):
        blocks.insert(0, Block("heading", title, 1))
    return blocks
