"""Spreadsheets (.xlsx with openpyxl, .csv with the standard library) as blocks: each sheet is
a section (its name a heading), its first non-empty row the header, and every other row one
block that reads with it: "Team: Platform · Budget: $120,000". Cell values as displayed by
their type (numbers without a trailing .0, dates as ISO dates); formulas give their cached value.
Does not: evaluate formulas, or read charts and comments.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from typing import Any

from rag.errors import DocumentError
from rag.ingest.readers.blocks import ROW_SEP, Block, table_rows


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.datetime) and not (v.hour or v.minute or v.second):
        return v.date().isoformat()
    if isinstance(v, dt.date | dt.datetime):
        return v.isoformat()
    return str(v)


def _rows(rows: Iterable[Iterable[Any]], page: str) -> list[Block]:
    grid = [[_cell(v) for v in row] for row in rows]
    grid = [r for r in grid if any(c.strip() for c in r)]
    blocks = [Block("heading", page, 1)] if page else []
    if not grid:
        return blocks
    # the header is the first row that fills at least half of the columns (and 2+): rows above
    # it (a title, a note) are captions
    width = max(sum(bool(c.strip()) for c in r) for r in grid)
    first = next(
        (i for i, r in enumerate(grid) if sum(bool(c.strip()) for c in r) >= max(2, width / 2)),
        len(grid),
    )
    for row in grid[:first]:  # a table's title or note
        blocks.append(Block("caption", " ".join(c.strip() for c in row if c.strip())))
    grid = grid[first:]
    header = grid[0] if len(grid) > 1 else None
    body = grid[1:] if header else grid
    if header:
        blocks.append(Block("row", ROW_SEP.join(c for c in header if c.strip())))
    blocks += [Block("row", text) for text in table_rows(body, header)]
    return blocks


def read_csv(text: str, name: str) -> list[Block]:
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        return _rows(csv.reader(io.StringIO(text), dialect), "")
    except csv.Error as exc:
        raise DocumentError(f"{name}: not a readable CSV ({exc}); re-save it") from None


def read_xlsx(data: bytes) -> list[Block]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    blocks: list[Block] = []
    for sheet in book.worksheets:
        blocks += _rows(sheet.iter_rows(values_only=True), sheet.title)
    book.close()
    return blocks
