"""`python -m eval.verify`: the model's reading of each packed reply, as the pipeline asks it
(the real 135M model here), and the versioned packs carry it for every reply that claims."""

from __future__ import annotations

from eval.calibrate import load_pack, packs
from eval.verify import ask
from rag.grounding.claims import opens_with_decline
from rag.grounding.confidence import Calibrator


def test_a_reply_is_read_back_and_a_decline_is_not(small_generator):
    rec = next(r for r in load_pack("seed-report") if r.get("p_yes") is not None)
    with small_generator.lock:
        p = ask(small_generator, rec, examples=False)
        assert p is not None and 0.0 < p < 1.0
        assert ask(small_generator, {**rec, "raw": "NOT FOUND"}, examples=False) is None


def test_every_packed_reply_that_claims_carries_the_models_reading():
    for half in ("fit", "report"):
        for name, recs in packs(half).items():
            claims = [r for r in recs if not opens_with_decline(r["raw"])]
            assert claims and all(r.get("p_yes") is not None for r in claims), name
    assert "logit_yes" in Calibrator.load().names  # and the shipped calibration weighs it
