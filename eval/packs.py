"""The recorded replies a calibration is fitted from: eval/calibration/<model>/<set>-<half>.

    pack([Path("eval/runs/calibrate-qwen0.5b-seed-fit"), …], "qwen0.5b", "gguf sha256:…")
    packs("fit", "qwen0.5b")      # {"seed": [record, …], "clapnq": […], "squad2": […]}

A pack keeps what a replay needs of each record (question, labels, the model's raw reply, its
first-token probability of declining, its token probabilities, its reading of the answer, the
sentences shown, the retrieved chunks' ranks) in gzipped JSON lines, split by the committed
halves (eval/splits/); `<set>.run.json` beside them holds the run's settings
and the model's identity (`Generator.identity`). They are versioned, so a fit
is reproducible in seconds without the model.
Does not: ask the model (eval/record.py does), or fit (eval/calibrate.py).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from eval.harness import Record, load_records
from eval.splits import FOLDER as SPLITS
from rag.errors import ConfigError

PACKS = Path(__file__).with_name("calibration")
DEFAULT_MODEL = "qwen1.5b"
KEEP = [
    *("id", "question", "answers", "evidence", "type", "gold_source", "corpus", "group"),
    *("attack", "raw", "p_decline", "p_yes", "tokens", "context", "retrieved", "timings"),
    "scores",
]


def folder(model: str = DEFAULT_MODEL) -> Path:
    return PACKS / model


def pack(runs: list[Path], model: str = DEFAULT_MODEL, identity: str | None = None) -> None:
    """Split each run's records by the committed halves into eval/calibration/<model>/."""
    where = folder(model)
    where.mkdir(parents=True, exist_ok=True)
    out: dict[str, dict[str, Record]] = {}
    for run in runs:
        meta = {**json.loads((run / "run.json").read_text()), "split": None}
        name = str(meta["set"])
        if identity:
            meta["identity"] = identity
        (where / f"{name}.run.json").write_text(json.dumps(meta, indent=1) + "\n")
        halves = json.loads((SPLITS / f"{name}.json").read_text())
        side = {i: h for h, ids in halves.items() for i in ids}
        for rec in load_records(run / "records.jsonl"):
            if "context" not in rec or rec["id"] not in side:
                continue
            slim = {k: rec[k] for k in KEEP if k in rec}
            out.setdefault(f"{name}-{side[rec['id']]}", {})[rec["id"]] = slim
    for key, recs in sorted(out.items()):
        write_pack(key, list(recs.values()), model)
        print(f"{where / key}.jsonl.gz: {len(recs)} records")  # noqa: T201


def write_pack(name: str, recs: list[Record], model: str = DEFAULT_MODEL) -> None:
    lines = "".join(json.dumps(rec, ensure_ascii=False) + "\n" for rec in recs)
    path = folder(model) / f"{name}.jsonl.gz"
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
        fh.write(lines.encode())  # mtime 0: the same records give the same bytes


def load_pack(name: str, model: str = DEFAULT_MODEL) -> list[Record]:
    path = folder(model) / f"{name}.jsonl.gz"
    if not path.is_file():
        raise ConfigError(
            f"{path} is missing; record it with `make calibrate MODEL={model}` "
            "(or pack existing runs: `python -m eval.calibrate pack RUN…`)"
        )
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def packs(half: str, model: str = DEFAULT_MODEL) -> dict[str, list[Record]]:
    """Each set's `half` ("fit" or "report") of the model's packs."""
    return {
        p.name.split(".")[0].rsplit("-", 1)[0]: load_pack(p.name.split(".")[0], model)
        for p in sorted(folder(model).glob(f"*-{half}.jsonl.gz"))
    }


def identity(model: str = DEFAULT_MODEL) -> str | None:
    """The identity of the model the packs were recorded with (None: not recorded)."""
    found = {
        json.loads(p.read_text()).get("identity") for p in folder(model).glob("*.run.json")
    } - {None}
    if len(found) > 1:
        raise ConfigError(f"{folder(model)} mixes replies of several models: {sorted(found)}")
    return found.pop() if found else None
