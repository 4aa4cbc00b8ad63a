"""End to end on the default answer model (Qwen2.5-Coder-1.5B Q4_K_M)."""

import pytest

from rag.pipeline import Pipeline


@pytest.mark.slow
def test_default_model_names_the_alias_with_a_citation(settings, embedder, corpus):
    # its own calibration (rag/calibrations/qwen1.5b.json), not the one the tests borrow
    default = settings.model_copy(update={"model": "qwen1.5b", "calibration": None})
    p = Pipeline(default, embedder=embedder)
    p.ingest([corpus])
    answer = p.ask("What is the alias of ISKP leader Sanaullah Ghafari?")
    assert not answer.declined and "Shahab al-Muhajir" in answer.answer
    assert p.calibrator is not None and p.calibrator.meta["model"]["name"] == "qwen1.5b"
    assert answer.confidence is not None and answer.confidence >= p.calibrator.threshold(None)
    assert answer.band is not None and answer.band == p.calibrator.band(answer.confidence)
    assert any("Shahab al-Muhajir" in c.quote for c in answer.citations)
    declined = p.ask("How many drones does the CIA fly over Kabul each week?")
    assert declined.declined and not declined.citations, declined.trace.raw
    assert declined.decline in ("not_stated", "not_sure") and declined.band is None


@pytest.mark.slow
def test_this_build_decodes_a_batch_with_the_default_model():
    """The crash on AMX machines was the default model's first multi-token decode."""
    from rag.generation import selfcheck
    from rag.generation.models import resolve_model

    assert selfcheck.check(resolve_model("qwen1.5b"))
