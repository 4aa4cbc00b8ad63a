"""The calibrated confidence: the shipped weights, the operating point setting, and the first
claim deciding what is streamed."""

from __future__ import annotations

import json

import pytest

from rag.config import Settings
from rag.errors import ConfigError
from rag.grounding import claims as grounding
from rag.grounding.confidence import Calibrator, Evidence, features
from rag.grounding.question import parse
from rag.grounding.verified import VerifiedReply
from rag.types import Trace
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


def test_unknown_token_probabilities_count_as_their_mean():
    """A model server gives no token log-probabilities: those features are left out, and a
    left-out feature moves the probability as its mean over the fit data would (not at all)."""
    cal = Calibrator.load()
    q = parse("Who leads ISKP?")
    (claim,) = grounding.ground("Sanaullah Ghafari leads ISKP.", q, _context(TEXT), 0.5)
    unknown = features(q, _context(TEXT), claim, Evidence(p_decline=0.05, hit_rank=1))
    assert not {"logprob_mean", "logprob_min", "unsure_share"} & set(unknown)
    means = dict(zip(cal.names, cal.mean, strict=True))
    at_mean = {**unknown, **{n: means[n] for n in ("logprob_mean", "logprob_min", "unsure_share")}}
    assert cal.probability(unknown) == pytest.approx(cal.probability(at_mean))
    unsure = {**unknown, "logprob_mean": -2.0, "logprob_min": -1.0, "unsure_share": 1.0}
    assert cal.probability(unsure) != pytest.approx(cal.probability(unknown))


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


def test_below_the_operating_point_nothing_is_streamed_and_the_answer_declines():
    answer, sink = _reply(0.2, 0.5)
    assert answer.declined and answer.answer == grounding.DECLINE_TEXT
    assert "".join(sink) == grounding.DECLINE_TEXT
    assert answer.confidence == 0.2 and answer.trace.candidate.startswith("Sanaullah Ghafari")
    assert answer.to_dict()["confidence"] == 0.2


def test_above_the_operating_point_the_answer_streams_with_its_confidence():
    answer, sink = _reply(0.9, 0.5)
    assert not answer.declined and answer.answer == "Sanaullah Ghafari leads ISKP. [1]"
    assert "".join(sink) == answer.answer
    assert answer.confidence == 0.9
