from rag.ingest.chunking import chunk_document


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
