"""The calibrated confidence: the shipped weights, the calibration that belongs to a model, the
bands, the operating point setting, and the first claim deciding what is streamed."""

from __future__ import annotations

import json

import pytest

from rag.config import ROOT, Settings
from rag.errors import ConfigError
from rag.generation.models import manifest
from rag.grounding import claims as grounding
from rag.grounding.confidence import Calibrator, Evidence, features, for_model
from rag.grounding.question import parse
from rag.grounding.verified import VerifiedReply
from rag.types import NOT_STATED, NOT_SURE, Band, Trace
from tests.rag.grounding.test_checks import TEXT, _context


def test_the_shipped_calibration_knows_every_feature_the_code_computes():
    cal = Calibrator.load()
    q = parse("Who leads ISKP?")
    (claim,) = grounding.ground("Sanaullah Ghafari leads ISKP.", q, _context(TEXT), 0.5)
    lps = (-0.3, -0.01, -0.02, -0.9)
    ev = Evidence(p_decline=0.05, hit_rank=1, logprobs=lps, p_yes=0.9)
    x = features(q, _context(TEXT), claim, ev)
    assert set(cal.names) <= set(x) and "logit_yes" in cal.names  # the kept ones (FEATURES)
    assert 0.0 < cal.probability(x) < 1.0
    assert cal.levels["lenient"] <= cal.levels["balanced"] <= cal.levels["strict"]


def test_an_unknown_reading_counts_as_its_mean():
    """Without the model's reading of its answer (a server that refuses log-probabilities),
    `logit_yes` is left out, and a left-out feature moves the probability as its mean over the
    fit data would (not at all); a known reading moves it."""
    cal = Calibrator.load()
    q = parse("Who leads ISKP?")
    (claim,) = grounding.ground("Sanaullah Ghafari leads ISKP.", q, _context(TEXT), 0.5)
    unknown = features(q, _context(TEXT), claim, Evidence(p_decline=0.05, hit_rank=1))
    assert "logit_yes" not in unknown and "logit_yes" in cal.names
    means = dict(zip(cal.names, cal.mean, strict=True))
    at_mean = {**unknown, "logit_yes": means["logit_yes"]}
    assert cal.probability(unknown) == pytest.approx(cal.probability(at_mean))
    doubt = features(q, _context(TEXT), claim, Evidence(p_decline=0.05, hit_rank=1, p_yes=0.02))
    assert cal.probability(doubt) < cal.probability(unknown)


def test_a_likelier_decline_lowers_the_confidence():
    cal = Calibrator.load()
    q = parse("Who leads ISKP?")
    (claim,) = grounding.ground("Sanaullah Ghafari leads ISKP.", q, _context(TEXT), 0.5)
    sure, unsure = (
        cal.probability(features(q, _context(TEXT), claim, Evidence(p, 1))) for p in (0.01, 0.45)
    )
    assert sure > unsure


@pytest.mark.parametrize("setting", ["balanced", "strict", "lenient", "0.3", "", None])
def test_the_operating_point_is_a_level_or_a_number(setting):
    cal = Calibrator.load()
    t = cal.threshold(setting)
    assert 0.0 <= t <= 1.0
    if setting == "0.3":
        assert t == 0.3


@pytest.mark.parametrize("bad", ["1.5", "sure", "-0.1"])
def test_a_bad_operating_point_says_what_is_allowed(bad, monkeypatch):
    with pytest.raises(ConfigError, match="lenient, balanced, strict"):
        Calibrator.load().threshold(bad)
    monkeypatch.setenv("RAG_MIN_CONFIDENCE", bad)
    if bad != "sure":  # a word is a level name, checked when used
        with pytest.raises(ValueError, match="RAG_MIN_CONFIDENCE|min_confidence"):
            Settings()


def test_a_broken_calibration_file_says_how_to_refit(tmp_path):
    bad = tmp_path / "cal.json"
    bad.write_text(json.dumps({"features": ["x"]}))
    with pytest.raises(ConfigError, match="make calibrate"):
        Calibrator.load(bad)


def _reply(confidence: float, min_confidence: float) -> tuple[object, list[str]]:
    sink: list[str] = []
    reply = VerifiedReply(
        parse("Who leads ISKP?"),
        _context(TEXT),
        0.5,
        sink.append,
        judge=lambda claim, dropped, end: confidence,
        min_confidence=min_confidence,
    )
    for piece in ["Sanaullah", " Ghafari", " leads", " ISKP."]:
        reply.feed(piece)
    return reply.finish(Trace(raw="Sanaullah Ghafari leads ISKP.")), sink


def test_below_the_operating_point_nothing_is_streamed_and_the_decline_says_it_is_not_sure():
    """A "not sure" decline: the answer found is withheld, the passage it rested on is shown."""
    answer, sink = _reply(0.2, 0.5)
    assert answer.declined and answer.answer == grounding.NOT_SURE_TEXT
    assert "".join(sink) == grounding.NOT_SURE_TEXT
    assert answer.confidence == 0.2 and answer.trace.candidate.startswith("Sanaullah Ghafari")
    assert answer.decline == NOT_SURE and answer.citations == []
    assert answer.passage is not None and "Sanaullah Ghafari" in answer.passage.quote
    d = answer.to_dict()
    assert d["confidence"] == 0.2 and d["decline"] == NOT_SURE and d["passage"]["quote"]


def test_a_reply_without_a_grounded_claim_is_a_not_stated_decline():
    reply = VerifiedReply(parse("Who leads ISKP?"), _context(TEXT), 0.5, judge=lambda *a: 0.9)
    reply.feed("The moon is made of cheese.")
    answer = reply.finish(Trace(raw="The moon is made of cheese."))
    assert answer.declined and answer.answer == grounding.DECLINE_TEXT
    assert answer.decline == NOT_STATED and answer.passage is None


def test_above_the_operating_point_the_answer_streams_with_its_confidence():
    answer, sink = _reply(0.9, 0.5)
    assert not answer.declined and answer.answer == "Sanaullah Ghafari leads ISKP. [1]"
    assert "".join(sink) == answer.answer
    assert answer.confidence == 0.9


def _identity(name: str) -> str:
    return f"gguf sha256:{manifest()[name]['sha256']}"


def test_a_calibration_belongs_to_the_model_it_was_fitted_for():
    cal, note = for_model(_identity("qwen1.5b"))
    assert cal is not None and note == "" and cal.model == _identity("qwen1.5b")
    none, note = for_model("gguf sha256:" + "0" * 64)
    assert none is None and "make calibrate MODEL=" in note and "0" * 64 in note


def test_a_calibration_file_for_another_model_gives_no_confidence(tmp_path):
    """RAG_CALIBRATION made for another model is not applied: no number beats a wrong one."""
    path = tmp_path / "cal.json"
    path.write_text((ROOT / "rag" / "calibrations" / "qwen1.5b.json").read_text())
    cal, note = for_model(_identity("qwen1.5b"), path)
    assert cal is not None and note == ""
    cal, note = for_model(_identity("qwen0.5b"), path)
    assert cal is None and str(path) in note and _identity("qwen1.5b") in note


def test_a_band_says_how_often_answers_like_this_were_right():
    d = json.loads((ROOT / "rag" / "calibrations" / "qwen1.5b.json").read_text())
    d["bands"] = [
        {"name": "low", "lower": 0.0, "precision": 0.31, "answers": 40},
        {"name": "high", "lower": 0.8, "precision": 0.93, "answers": 60},
        {"name": "medium", "lower": 0.5, "precision": 0.62, "answers": 50},
    ]
    cal = Calibrator.from_dict(d)
    assert [b.name for b in cal.bands] == ["high", "medium", "low"]  # highest first
    assert cal.band(0.95) == Band("high", 0.8, 0.93, 60)
    assert cal.band(0.8).name == "high" and cal.band(0.79).name == "medium"
    assert cal.band(0.1).name == "low" and cal.band(None) is None
    assert cal.band(0.9).text == "high confidence: 93% of such answers were right in tests"
    assert Band("medium", 0.5).text == "medium confidence"  # not measured: no share claimed


def test_the_shipped_bands_were_measured_on_the_report_halves():
    cal = Calibrator.load()
    assert [b.name for b in cal.bands][-1] == "low" and cal.bands[-1].lower == 0.0
    measured = [b for b in cal.bands if b.answers]
    assert measured and all(0.0 <= b.precision <= 1.0 for b in measured)
    lowers = [b.lower for b in cal.bands]
    assert lowers == sorted(lowers, reverse=True) and len(set(lowers)) == len(lowers)
