"""The Markdown reader (markdown-it-py): code blocks are code, no markup left in the text."""

from __future__ import annotations

from tests.rag.ingest.readers.realdocs import load, units


def test_markdown_code_is_code_and_no_markup_is_left():
    md = units(load("commander-readme.md"))
    assert any(kind == "code" for _, kind, _, _ in md)
    assert not any(t.startswith(("#", "```")) for t, *_ in md)
