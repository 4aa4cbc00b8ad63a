"""PowerPoint (.pptx) as blocks, with python-pptx: each slide is a page; its title is a heading,
its text frames give paragraphs (indented ones are list items), its tables give rows read with
their header, its notes follow as paragraphs.
Does not: read text inside grouped shapes' pictures, charts or SmartArt.
"""

from __future__ import annotations

import io
from typing import Any

from rag.ingest.readers.blocks import Block, squash, table_rows


def _shapes(shapes: Any) -> list[Any]:
    out = []
    for shape in shapes:
        if getattr(shape, "shape_type", None) == 6:  # MSO_SHAPE_TYPE.GROUP
            out.extend(_shapes(shape.shapes))
        else:
            out.append(shape)
    return out


def read(data: bytes) -> list[Block]:
    from pptx import Presentation

    blocks: list[Block] = []
    for page, slide in enumerate(Presentation(io.BytesIO(data)).slides, 1):
        title_shape = slide.shapes.title
        title = squash(title_shape.text_frame.text) if title_shape is not None else ""
        blocks.append(Block("heading", title or f"Slide {page}", 1, page))
        for shape in _shapes(slide.shapes):
            if title_shape is not None and shape.shape_id == title_shape.shape_id:
                continue
            if getattr(shape, "has_table", False):
                grid = [[c.text for c in row.cells] for row in shape.table.rows]
                for text in table_rows(grid[1:] or grid, grid[0] if len(grid) > 1 else None):
                    blocks.append(Block("row", text, 0, page))
            elif getattr(shape, "has_text_frame", False):
                for para in shape.text_frame.paragraphs:
                    text = squash("".join(r.text for r in para.runs) or para.text)
                    if text:
                        kind = "item" if para.level > 0 or _bulleted(shape) else "paragraph"
                        blocks.append(
                            Block(kind, text, para.level + 1 if kind == "item" else 0, page)
                        )
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            for para in slide.notes_slide.notes_text_frame.paragraphs:
                if squash(para.text):
                    blocks.append(Block("paragraph", squash(para.text), 0, page))
    return blocks


def _bulleted(shape: Any) -> bool:
    """A body placeholder (bullets by default in every layout)."""
    return bool(getattr(shape, "is_placeholder", False)) and shape.placeholder_format.idx == 1
