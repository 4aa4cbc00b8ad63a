"""The verified stream: what it releases is checked and cited, with page and section."""

from __future__ import annotations

from rag.grounding.question import parse
from rag.grounding.verified import VerifiedReply
from rag.ingest.chunking import chunk_document
from rag.types import Trace
from tests.rag.ingest.readers.realdocs import load


def test_a_citation_says_page_and_section():
    """A reply quoting a PDF's sentence is cited with the page and the headings it is under —
    in the answer's JSON (rag ask --json, POST /ask, the chat completion's `citations`)."""
    doc = load("fhs-3.0.pdf")
    chunks = chunk_document(doc.doc_id, doc.source, doc.text, parts=doc.parts)
    quote = "/opt is reserved for the installation of add-on application software packages."
    sent = next(s for c in chunks for s in c.sentence_list() if s.text == quote)
    reply = VerifiedReply(parse("What is the /opt directory for?"), [sent], 0.5)
    reply.feed(quote)
    cited = reply.finish(Trace(raw=quote)).to_dict()["citations"]
    assert [(c["page"], c["section"].split(" › ")[-2:], c["quote"]) for c in cited] == [
        (20, ["3.13. /opt : Add-on application software packages", "3.13.1. Purpose"], quote)
    ]
