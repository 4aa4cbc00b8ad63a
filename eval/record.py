"""Record the labelled sets with one answer model, for its calibration (`make calibrate MODEL=…`).

    python -m eval.calibrate record qwen0.5b      # a model of rag/generation/models.json
    RAG_LLM_URL=http://127.0.0.1:8080/v1 python -m eval.calibrate record server

Asks the questions the shipped packs hold (every seed question; 240 + 80 of ClapNQ and
300 + 120 of SQuAD 2.0, the fit and report halves of eval/splits/) with the model, reading each
reply back (RAG_READ_BACK) so every signal the calibration may weigh is recorded, into
eval/runs/calibrate-<model>-<set>-<half>/ (resumable: a second run asks only what is missing),
then packs them into eval/calibration/<model>/ with the model's identity (`Generator.identity`).
Takes about 870 questions: some 25 minutes with the 0.5B model on 2 cores.
Does not: fit (eval/calibrate.py does, from the packs).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from eval.harness import EvalConfig, run_eval
from rag.config import ROOT, Settings
from rag.generation.factory import make_generator
from rag.generation.models import fetch

# (set, half) -> how many questions: the ones the shipped packs of the default model hold
SETS = {
    ("seed", "fit"): None,
    ("seed", "report"): None,
    ("clapnq", "fit"): 240,
    ("clapnq", "report"): 80,
    ("squad2", "fit"): 300,
    ("squad2", "report"): 120,
}
SERVER = "server"  # the model behind RAG_LLM_URL


def slug(model: str) -> str:
    """A file name for a model name (a server's model names may hold slashes and colons)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", model).strip("-") or "model"


def model_settings(model: str, base: Settings | None = None) -> Settings:
    """The settings that run `model`: a manifest name, or `server` (RAG_LLM_URL must be set)."""
    base = base or Settings()
    if model == SERVER:
        if not base.llm_url:
            from rag.errors import ConfigError

            raise ConfigError("MODEL=server needs RAG_LLM_URL (the model server's base URL)")
        return base.model_copy(update={"read_back": True})
    return base.model_copy(update={"model": model, "model_path": None, "llm_url": None})


def record(
    model: str,
    base: Settings | None = None,
    limit: int | None = None,
    log: Callable[[str], None] = print,
    runs_dir: Path = ROOT / "eval" / "runs",
    sets: dict[tuple[str, str], int | None] = SETS,
) -> tuple[str, list[Path]]:
    """Ask every (set, half) of `sets` with `model`; its identity and the run folders (in
    `runs_dir`). `limit`: at most this many questions per half (a quick check, too few to fit)."""
    settings = model_settings(model, base).model_copy(update={"read_back": True})
    if model != SERVER:
        fetch(model, settings.models_dir, log)  # a no-op once assembled and verified
    generator = make_generator(settings)
    identity = generator.identity()
    name = slug(generator.name if model == SERVER else model)
    runs = []
    for (qset, half), n in sets.items():
        out = runs_dir / f"calibrate-{name}-{qset}-{half}"
        cap = min(x for x in (n, limit) if x is not None) if (n or limit) else None
        log(f"[calibrate] {model}: {qset} {half} half -> {out}")
        run_eval(
            EvalConfig(set=qset, out=out, limit=cap, split=half), settings, generator=generator
        )
        runs.append(out)
    return identity, runs
