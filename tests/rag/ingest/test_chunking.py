from rag.ingest.chunking import chunk_document
from rag.text import split_sentences


def test_chunks_keep_exact_spans_titles_and_stable_ids(corpus):
    text = corpus.read_text()
    chunks = chunk_document("essay", "essay.txt", text, target=900, overlap=1)
    assert len(chunks) > 20
    for c in chunks:
        assert text[c.start : c.end] == c.text
        assert c.sentences and c.sentences[0][0] == c.start and c.sentences[-1][1] == c.end
        for s in c.sentence_list():
            assert text[s.start : s.end] == s.text
    assert len({c.id for c in chunks}) == len(chunks)
    assert chunk_document("essay", "essay.txt", text) == chunks  # deterministic
    titled = [c for c in chunks if "Sanaullah Ghafari" in c.text]
    assert titled[0].title == "The Islamic State threat"


def test_long_paragraphs_split_between_sentences_with_overlap():
    sentences = [f"Sentence number {i} talks about topic {i}." for i in range(40)]
    text = " ".join(sentences)
    chunks = chunk_document("d", "d.txt", text, target=200, overlap=1)
    assert len(chunks) > 5
    assert all(len(c.text) <= 200 for c in chunks)
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert a.sentences[-1] == b.sentences[0]  # one shared sentence
    assert chunks[-1].end == len(text)


def test_sentence_spans_are_trimmed():
    text = "Dr. Smith arrived at 5 p.m. on Monday.  He left early. "
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == [
        "Dr. Smith arrived at 5 p.m. on Monday.",
        "He left early.",
    ]


def test_sentence_spans_are_character_offsets_beyond_ascii():
    """Offsets index the Python string (not UTF-8 bytes) past curly quotes, accents and emoji."""
    text = "Prefix 😀 ok. Then “quoted,” she said. Ça va? The U.S. Army met Gen. Miller. End"
    spans = split_sentences(text, offset=100)
    assert [text[s - 100 : e - 100] for s, e in spans] == [
        "Prefix 😀 ok.",
        "Then “quoted,” she said.",
        "Ça va?",
        "The U.S. Army met Gen. Miller.",
        "End",
    ]
