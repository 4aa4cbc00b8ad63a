"""A calibration belongs to one model: the 0.5B model answers with its own
(rag/calibrations/qwen0.5b.json, fitted by `make calibrate MODEL=qwen0.5b`), and a model without
one answers with no confidence rather than another model's."""

from __future__ import annotations

from rag.pipeline import Pipeline

ALIAS = "What is the alias of ISKP leader Sanaullah Ghafari?"
BIDEN = "When did Joe Biden give the press conference where he defended his record?"


def test_the_half_billion_model_answers_with_its_own_calibration(settings, embedder, corpus):
    own = settings.model_copy(update={"model": "qwen0.5b", "calibration": None})
    p = Pipeline(own, embedder=embedder)
    p.ingest([corpus])
    cal = p.calibrator
    assert cal is not None and p.calibration_note == ""
    assert cal.meta["model"]["name"] == "qwen0.5b" and cal.model == p.generator.identity()
    answer = p.ask(ALIAS)
    assert answer.trace.candidate, answer.trace.raw  # a grounded answer was found
    assert answer.confidence is not None  # weighed by the 0.5B model's own weights
    if "logit_yes" in cal.names:
        assert answer.trace.p_yes is not None and answer.timings.check_s > 0
    if answer.declined:
        assert answer.decline == "not_sure" and answer.passage is not None
    else:
        assert "Shahab al-Muhajir" in answer.answer and answer.band == cal.band(answer.confidence)


def test_a_model_without_a_calibration_gives_no_number(settings, embedder, small_generator, corpus):
    p = Pipeline(settings.model_copy(update={"calibration": None}), embedder, small_generator)
    p.ingest([corpus])
    assert p.calibrator is None
    assert small_generator.identity() in p.calibration_note
    assert "make calibrate MODEL=smollm2" in p.calibration_note
    answer = p.ask(BIDEN)
    assert answer.trace.candidate, answer.trace.raw
    assert answer.confidence is None and answer.band is None
    assert answer.trace.p_yes is None and answer.timings.check_s == 0  # no read-back asked
    assert not answer.declined and answer.citations  # only the checks gate it
