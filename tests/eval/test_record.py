"""`make calibrate MODEL=…` records the labelled sets with that model: every (set, half) asked
with it, each reply read back, packed with the model's identity (a real run, the 135M model, the
essay's two halves, three questions each: ClapNQ and SQuAD only add their own indexes, minutes)."""

from __future__ import annotations

import json

import eval.packs as packs_module
from eval.packs import identity, load_pack, pack
from eval.record import SETS, record
from rag.generation.models import manifest


def test_recording_a_model_packs_its_replies_with_its_identity(tmp_path, monkeypatch):
    monkeypatch.setattr(packs_module, "PACKS", tmp_path / "packs")
    monkeypatch.setenv("RAG_HOME", str(tmp_path / "home"))
    halves = {k: n for k, n in SETS.items() if k[0] == "seed"}
    found, runs = record(
        "smollm2", limit=3, log=lambda m: None, runs_dir=tmp_path / "runs", sets=halves
    )
    assert found == f"gguf sha256:{manifest()['smollm2']['sha256']}"
    assert [r.name for r in runs] == ["calibrate-smollm2-seed-fit", "calibrate-smollm2-seed-report"]
    pack(runs, "smollm2", found)
    assert identity("smollm2") == found
    asked = 0
    for qset, half in halves:
        recs = load_pack(f"{qset}-{half}", "smollm2")
        assert len(recs) == 3 and all("raw" in r and "context" in r for r in recs)
        # read back whenever the reply opens with a claim (RAG_READ_BACK), so the fit may use it
        asked += sum(r["p_yes"] is not None for r in recs)
    assert asked  # a model that declines everything proves nothing
    meta = json.loads((tmp_path / "packs" / "smollm2" / "seed.run.json").read_text())
    assert meta["model"] == "smollm2" and meta["identity"] == found
