"""`Embedder.embed_spans` on the real MiniLM model: chunk vectors as `embed` makes them, and
sentence vectors pooled from the same pass (late chunking), with the fallbacks."""

import numpy as np

from embeddings.base import Embedder

TEXT = (
    "Harbour history\nThe harbour was dredged in 1911 to admit larger ships. "
    "Fishing declined after the war, and the old cannery closed in 1962."
)


def _spans(text: str, *sentences: str) -> list[tuple[int, int]]:
    return [(text.index(s), text.index(s) + len(s)) for s in sentences]


def test_text_vectors_match_embed_and_spans_are_their_sentences(embedder):
    first = "The harbour was dredged in 1911 to admit larger ships."
    second = "Fishing declined after the war, and the old cannery closed in 1962."
    other = "Bees dance to show where flowers are."
    texts = [TEXT, other]
    vectors, spans = embedder.embed_spans(texts, [_spans(TEXT, first, second), [(0, len(other))]])
    assert np.allclose(vectors, embedder.embed(texts), atol=1e-5)
    assert [s.shape for s in spans] == [(2, embedder.dim), (1, embedder.dim)]
    assert np.allclose(np.linalg.norm(spans[0], axis=1), 1.0, atol=1e-5)
    alone = embedder.embed([first, second])
    # each pooled sentence is nearest to its own stand-alone embedding
    similarity = spans[0] @ alone.T
    assert similarity[0, 0] > similarity[0, 1] and similarity[1, 1] > similarity[1, 0]
    assert similarity[0, 0] > 0.7 and similarity[1, 1] > 0.7


def test_a_sentence_past_the_length_limit_is_embedded_on_its_own(embedder):
    tail = "The lighthouse keeper retired in 1987."
    text = "word " * 600 + tail  # far beyond the model's 256 tokens: the tail is truncated away
    _, spans = embedder.embed_spans([text], [_spans(text, tail)])
    assert np.allclose(spans[0][0], embedder.embed([tail])[0], atol=1e-5)


def test_the_fallback_for_backends_without_tokens(embedder):
    """The base-class path (each span embedded alone), through the same model."""

    class Plain(Embedder):
        model_id, dim = embedder.model_id, embedder.dim

        def _embed_batch(self, texts):
            return embedder._embed_batch(texts)

    sentence = "Fishing declined after the war, and the old cannery closed in 1962."
    vectors, spans = Plain().embed_spans([TEXT, "empty"], [_spans(TEXT, sentence), []])
    assert np.allclose(spans[0][0], embedder.embed([sentence])[0], atol=1e-5)
    assert spans[1].shape == (0, embedder.dim)
    assert np.allclose(vectors, embedder.embed([TEXT, "empty"]), atol=1e-5)
