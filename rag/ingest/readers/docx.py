"""Word (.docx) as blocks, through mammoth's HTML (body order: headings by style, lists,
tables, text boxes, footnotes and endnotes at the end), read by `rag.ingest.readers.html`.
The body's text is counted first, streaming (`w:t` elements), against the file's text budget:
mammoth builds the whole HTML before any block exists, so a text bomb is refused before that.
Does not: read page headers and footers, comments, or tracked deletions.
"""

from __future__ import annotations

import io
import zipfile
from xml.etree import ElementTree

from rag.ingest.readers import html
from rag.ingest.readers.blocks import Block, charge, uncharged

TEXT = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}t"

# paragraph styles that hold code or preformatted text (Word's, LibreOffice's, pandoc's)
CODE_STYLES = "\n".join(
    f"p[style-name='{name}'] => pre:separator('\\n')"
    for name in ("Source Code", "HTML Preformatted", "Code", "Preformatted Text", "Plain Text")
)


def read(data: bytes) -> list[Block]:
    import mammoth

    count_text(data)
    result = mammoth.convert_to_html(io.BytesIO(data), style_map=CODE_STYLES)
    with uncharged():  # counted above
        return html.html_blocks(result.value)[1]


def count_text(data: bytes) -> None:
    """Charge the text of word/document.xml to the budget as it streams by."""
    with zipfile.ZipFile(io.BytesIO(data)) as z, z.open("word/document.xml") as xml:
        for _event, element in ElementTree.iterparse(xml):
            if element.tag == TEXT:
                charge(len(element.text or "") + 1)
            element.clear()
