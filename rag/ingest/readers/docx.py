"""Word (.docx) as blocks, through mammoth's HTML (body order: headings by style, lists,
tables, text boxes, footnotes and endnotes at the end), read by `rag.ingest.readers.html`.
Does not: read page headers and footers, comments, or tracked deletions.
"""

from __future__ import annotations

import io

from rag.ingest.readers import html
from rag.ingest.readers.blocks import Block

# paragraph styles that hold code or preformatted text (Word's, LibreOffice's, pandoc's)
CODE_STYLES = "\n".join(
    f"p[style-name='{name}'] => pre:separator('\\n')"
    for name in ("Source Code", "HTML Preformatted", "Code", "Preformatted Text", "Plain Text")
)


def read(data: bytes) -> list[Block]:
    import mammoth

    result = mammoth.convert_to_html(io.BytesIO(data), style_map=CODE_STYLES)
    return html.html_blocks(result.value)[1]
