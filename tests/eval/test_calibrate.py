"""`make calibrate` is reproducible from the versioned replies, and `--reground --without`
replays a real run with a check switched off (no model: the stored replies of qwen1.5b)."""

from __future__ import annotations

import json

import pytest

from eval.calibrate import SIGNALS, fit, load_pack, measure_bands
from eval.packs import folder
from eval.reground import reground
from rag.errors import ConfigError
from rag.grounding.confidence import Calibrator


def test_refitting_on_the_versioned_replies_gives_the_shipped_calibration(tmp_path):
    shipped = Calibrator.load()
    path = tmp_path / "calibration.json"
    signals = [f for g in shipped.meta["signals"] for f in SIGNALS[g]] + ["check_"]
    again = fit(shipped.policy(), path, signals)
    assert again["features"] == list(shipped.names)
    assert again["coef"] == pytest.approx(list(shipped.coef), abs=1e-5)
    assert again["intercept"] == pytest.approx(shipped.intercept, abs=1e-5)
    assert again["levels"] == shipped.levels
    assert again["meta"]["model"] == shipped.meta["model"]  # the model the replies came from
    measure_bands(path)  # each band's precision, on the report halves
    assert Calibrator.load(path).bands == shipped.bands
    assert set(again["meta"]["fit_sets"]) >= {"seed"}  # fitted on fit halves only
    assert all(not name.endswith("report") for name in again["meta"]["fit_sets"])


@pytest.fixture
def seed_run(tmp_path):
    run = tmp_path / "seed-report"
    run.mkdir()
    records = load_pack("seed-report")
    (run / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (run / "run.json").write_text((folder() / "seed.run.json").read_text())
    return run


def test_a_replay_without_a_check_says_so_and_can_differ(seed_run, tmp_path):
    base = reground(seed_run, tmp_path / "all", 0.5)
    assert base.report["meta"]["without"] == []
    off = reground(seed_run, tmp_path / "off", 0.5, without=("numbers", "topic"))
    assert off.report["meta"]["without"] == ["numbers", "topic"]
    before = {r["id"]: r["answer"] for r in base.report["records"]}
    after = {r["id"]: r["answer"] for r in off.report["records"]}
    assert before.keys() == after.keys()
    assert all(0.0 <= (r["confidence"] or 0.0) <= 1.0 for r in off.report["records"])
    with pytest.raises(ConfigError, match="no check named"):
        reground(seed_run, tmp_path / "bad", 0.5, without=("nope",))


def test_a_stricter_operating_point_answers_fewer_questions(seed_run, tmp_path):
    lenient = reground(seed_run, tmp_path / "l", 0.5, min_confidence="0.0")
    strict = reground(seed_run, tmp_path / "s", 0.5, min_confidence="0.95")
    answered = [sum(not r["declined"] for r in x.report["records"]) for x in (lenient, strict)]
    assert answered[0] > answered[1]


def test_the_bands_a_person_reads_are_the_ones_the_docs_tabulate():
    """Written once: docs/calibration.md shows each shipped calibration's bands as the file has
    them (`python -m eval.calibrate bands --table`)."""
    from eval.calibrate import bands_table
    from rag.config import ROOT

    docs = (ROOT / "docs" / "calibration.md").read_text()
    for path in sorted((ROOT / "rag" / "calibrations").glob("*.json")):
        assert bands_table(path.stem) in docs, path.stem
