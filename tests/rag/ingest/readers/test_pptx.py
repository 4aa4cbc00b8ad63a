"""The PPTX reader (python-pptx): slides are pages, a title is a heading."""

from __future__ import annotations

from tests.rag.ingest.readers.realdocs import load, units


def test_slides_are_pages_and_a_title_is_a_heading():
    slides = units(load("ejpecp-readme.pptx"))
    assert {u[2] for u in slides} >= set(range(2, 10))  # each slide is a page
    # the title is a heading (a unit of its own: nothing is under it), not a paragraph again
    assert [u[1] for u in slides if u[0] == "EJP/ECP"] == ["heading"]
