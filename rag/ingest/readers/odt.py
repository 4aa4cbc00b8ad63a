"""OpenDocument text (.odt) as blocks: the body of `content.xml`, its elements renamed to their
HTML counterparts (text:h -> h1-h6, text:list-item -> li, table:table-row -> tr …) and read by
`rag.ingest.readers.html`. Standard library XML; footnotes stay where they are cited.
Does not: read page headers and footers (styles.xml), or tracked changes.
"""

from __future__ import annotations

import html as html_lib
import io
import zipfile
from xml.etree import ElementTree

from rag.errors import DocumentError
from rag.ingest.readers import html
from rag.ingest.readers.blocks import Block

TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
TAGS = {
    f"{{{TEXT}}}p": "p",
    f"{{{TEXT}}}list": "ul",
    f"{{{TEXT}}}list-item": "li",
    f"{{{TEXT}}}list-header": "li",
    f"{{{TABLE}}}table": "table",
    f"{{{TABLE}}}table-header-rows": "thead",
    f"{{{TABLE}}}table-row": "tr",
    f"{{{TABLE}}}table-cell": "td",
    f"{{{TEXT}}}note-body": "div",
    f"{{{TEXT}}}section": "div",
}
SPACES = {f"{{{TEXT}}}s", f"{{{TEXT}}}tab", f"{{{TEXT}}}line-break"}
STYLE = "urn:oasis:names:tc:opendocument:xmlns:style:1.0"
CODE_STYLES = {"Preformatted_20_Text", "Source_20_Code", "Source_20_Text", "Code"}
SKIP = {f"{{{OFFICE}}}annotation", f"{{{TEXT}}}tracked-changes", f"{{{TEXT}}}table-of-content"}


def _parents(root: ElementTree.Element) -> dict[str, str]:
    """Automatic style -> the style it is based on (P4 -> Preformatted_20_Text)."""
    return {
        st.get(f"{{{STYLE}}}name", ""): st.get(f"{{{STYLE}}}parent-style-name", "")
        for st in root.iter(f"{{{STYLE}}}style")
    }


def _is_code(style: str, parents: dict[str, str]) -> bool:
    for _ in range(5):
        if style in CODE_STYLES:
            return True
        style = parents.get(style, "")
    return False


def _html(node: ElementTree.Element, out: list[str], parents: dict[str, str]) -> None:
    tag = TAGS.get(node.tag, "")
    if tag == "p" and _is_code(node.get(f"{{{TEXT}}}style-name", ""), parents):
        tag = "pre"  # one line of a code block
    if node.tag == f"{{{TEXT}}}h":
        tag = f"h{min(max(int(node.get(f'{{{TEXT}}}outline-level', '1') or 1), 1), 6)}"
    if tag:
        out.append(f"<{tag}>")
    if node.tag in SPACES:
        out.append(" " * max(int(node.get(f"{{{TEXT}}}c", "1") or 1), 1))
    out.append(html_lib.escape(node.text or ""))
    for child in node:
        if child.tag not in SKIP:
            _html(child, out, parents)
        out.append(html_lib.escape(child.tail or ""))
    if tag:
        out.append(f"</{tag}>")


def read(data: bytes, name: str) -> list[Block]:
    try:
        root = ElementTree.fromstring(zipfile.ZipFile(io.BytesIO(data)).read("content.xml"))
    except (KeyError, ElementTree.ParseError) as exc:
        raise DocumentError(f"{name}: not a readable .odt ({exc}); re-save it") from None
    body = root.find(f"{{{OFFICE}}}body/{{{OFFICE}}}text")
    out: list[str] = ["<body>"]
    if body is not None:
        _html(body, out, _parents(root))
    return html.html_blocks("".join(out) + "</body>")[1]
