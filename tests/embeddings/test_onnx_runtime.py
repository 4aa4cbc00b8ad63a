"""The ONNX export of MiniLM gives the sentence-transformers vectors (cosine >= 1 - 1e-4) on the
corpus's own sentences and the seed questions, one text at a time and in padded batches."""

import json
from pathlib import Path

import numpy as np
import pytest

from embeddings import make_query_embedder
from embeddings.onnx_runtime import MIN_COSINE, OnnxEmbedder, export, export_dir
from rag.config import DEFAULT_CORPUS, ROOT


@pytest.fixture(scope="module")
def exported(embedder, tmp_path_factory) -> Path:
    cache = tmp_path_factory.mktemp("onnx")
    assert OnnxEmbedder.load(embedder.path, cache) is None  # nothing exported yet
    directory = export(embedder, cache)
    assert directory == export_dir(embedder.path, cache)
    return cache


def _texts() -> list[str]:
    questions = [
        json.loads(line)["question"]
        for line in (ROOT / "eval" / "questions" / "seed.jsonl").read_text().splitlines()[:40]
    ]
    lines = [ln for ln in DEFAULT_CORPUS.read_text().splitlines() if ln.strip()][:40]
    return questions + lines + [DEFAULT_CORPUS.read_text()[:5000]]  # the last one is truncated


def test_onnx_vectors_equal_sentence_transformers_vectors(embedder, exported):
    onnx = OnnxEmbedder.load(embedder.path, exported)
    assert onnx is not None and (onnx.model_id, onnx.dim) == (embedder.model_id, embedder.dim)
    texts = _texts()
    reference = embedder.embed(texts)
    batched = onnx.embed(texts)  # length-sorted, padded batches
    single = np.stack([onnx.embed([t])[0] for t in texts[:20]])
    assert np.sum(reference * batched, axis=1).min() >= MIN_COSINE
    assert np.sum(reference[:20] * single, axis=1).min() >= MIN_COSINE
    # and it is not a different model that happens to be close: other texts are far apart
    assert float(reference[0] @ batched[1]) < 0.9


def test_questions_use_the_export_only_when_it_exists(embedder, exported, tmp_path):
    assert isinstance(make_query_embedder(embedder, exported), OnnxEmbedder)
    assert make_query_embedder(embedder, tmp_path) is embedder  # not exported there
    assert export(embedder, exported) == export_dir(embedder.path, exported)  # kept, not redone


def test_every_seed_question_gets_the_same_context_either_way(embedder, exported, settings, corpus):
    """Same retrieved chunks and the same sentences shown to the model for all 130 seed
    questions: the prompt, hence the answer, does not depend on the runtime."""
    from rag.grounding.question import parse
    from rag.pipeline import Pipeline

    torch_side = Pipeline(settings.model_copy(update={"onnx_queries": False}), embedder=embedder)
    torch_side.ingest([corpus])
    onnx = OnnxEmbedder.load(embedder.path, exported)
    onnx_side = Pipeline(settings, embedder=embedder, query_embedder=onnx)
    assert isinstance(onnx_side.query_embedder, OnnxEmbedder)
    assert torch_side.query_embedder is embedder
    seed = (ROOT / "eval" / "questions" / "seed.jsonl").read_text().splitlines()
    questions = [json.loads(line)["question"] for line in seed]
    assert len(questions) >= 130
    for q in questions:
        a, hits_a, _ = torch_side.context(parse(q), settings.k)
        b, hits_b, _ = onnx_side.context(parse(q), settings.k)
        assert [h.chunk.id for h in hits_a] == [h.chunk.id for h in hits_b], q
        assert [(s.chunk.id, s.start) for s in a] == [(s.chunk.id, s.start) for s in b], q
