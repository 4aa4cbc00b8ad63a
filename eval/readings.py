"""An experiment, not a feature: two more signals issue 22 asked to measure, on the fit halves.

    python -m eval.readings [--packs seed-fit,squad2-fit] [--limit 60]

- **Anchored reading**: the model first copies the source sentence it answers from ("Source [n]:
  "…""), then answers on a line of its own ("Answer: …"). The answer line is grounded and scored
  as the packed reply was (eval/reground.py `replay`, the shipped calibration); reported: right
  candidates, declines, and the tokens written (the cost, at the model's ~20 tokens/s on 2 cores).
- **Two readings**: the same prompt with the sources in reverse order; whether its grounded
  answer agrees with the packed one (the same first support sentence, or the same words), and
  how well that agreement tells right answers from wrong (AUROC), beside the calibration's.
Uses the packed records' question and sentences, so retrieval is the same; the default model.
Does not: change the pipeline or the shipped calibration (docs/calibration.md has the verdict).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from typing import Any

import numpy as np

import rag.prompt as prompt
from eval import selective
from eval.calibrate import MIN_SUPPORT
from eval.packs import DEFAULT_MODEL, load_pack
from eval.reground import replay
from rag.config import Settings
from rag.generation.base import Generation
from rag.generation.factory import make_generator
from rag.grounding.confidence import Calibrator
from rag.text import content

ANCHORED = (
    "Answer the question using only the facts in the numbered sources. First copy, word for "
    'word, the one source sentence that answers it, as: Source [n]: "<sentence>". Then, on a new '
    "line, write: Answer: <one short sentence>. If the sources do not contain the answer, reply "
    "exactly: NOT FOUND"
)
ANSWER_LINE = re.compile(r"Answer:\s*(.+)", re.S)


def generate(generator: Any, question: str, sources: list[str], system: str) -> tuple[str, int]:
    saved = prompt.SYSTEM
    prompt.SYSTEM = system
    try:
        messages = prompt.answer_messages(question, sources, ())
    finally:
        prompt.SYSTEM = saved
    stats = Generation()
    with generator.lock:
        text = "".join(
            generator.stream(messages, max_tokens=160, stats=stats, fresh=True, decline_below=0.5)
        )
    return text.strip(), stats.completion_tokens


def _renumber(reply: str, k: int) -> str:
    """[n] of a reply to the reversed sources, as the original order numbers them."""
    return re.sub(r"\[(\d+)\]", lambda x: f"[{k + 1 - int(x.group(1))}]", reply)


def _first(rec: dict[str, Any]) -> tuple[str, int | None]:
    """The grounded candidate's words and its first cited sentence (None: no candidate)."""
    text = rec.get("candidate") or ""
    m = re.search(r"\[(\d+)\]", text)
    return " ".join(sorted(content(text))), int(m.group(1)) if m else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m eval.readings", description=__doc__.splitlines()[0]
    )
    ap.add_argument("--packs", default="seed-fit,squad2-fit")
    ap.add_argument("--limit", type=int, default=60)
    args = ap.parse_args(argv)
    generator = make_generator(Settings(model=DEFAULT_MODEL))
    cal = Calibrator.load()
    out: dict[str, Any] = {}
    for name in args.packs.split(","):
        rows = []
        t0 = time.perf_counter()
        for rec in load_pack(name)[: args.limit]:
            sources = [c["text"] for c in rec["context"]]
            base = replay(rec, MIN_SUPPORT, cal.policy(), cal, 0.0)
            anchored, n_anch = generate(generator, rec["question"], sources, ANCHORED)
            m = ANSWER_LINE.search(anchored)
            answer = m.group(1).strip() if m else anchored
            anch = replay(
                {**rec, "raw": answer, "p_yes": None}, MIN_SUPPORT, cal.policy(), cal, 0.0
            )
            # the second reading: the same sources in reverse order, renumbered; its [n] mapped back
            rev, _ = generate(generator, rec["question"], sources[::-1], prompt.SYSTEM)
            back = _renumber(rev, len(sources))
            second = replay(
                {**rec, "raw": back, "p_yes": None}, MIN_SUPPORT, cal.policy(), cal, 0.0
            )
            (w1, s1), (w2, s2) = _first(base), _first(second)
            agree = bool(base.get("candidate")) and (w1 == w2 or (s1 is not None and s1 == s2))
            rows.append(
                {
                    "id": rec["id"],
                    "type": rec["type"],
                    "base_right": bool(base["candidate_right"]),
                    "base_candidate": bool(base.get("candidate")),
                    "base_tokens": len(rec.get("tokens") or []),
                    "anch_right": bool(anch["candidate_right"]),
                    "anch_candidate": bool(anch.get("candidate")),
                    "anch_tokens": n_anch,
                    "agree": agree,
                    "conf": base["confidence"],
                }
            )
        ans = [r for r in rows if r["type"] != "unanswerable"]
        un = [r for r in rows if r["type"] == "unanswerable"]
        cands = [r for r in rows if r["base_candidate"]]
        right = np.array([r["base_right"] for r in cands])
        out[name] = {
            "n": len(rows),
            "seconds": round(time.perf_counter() - t0),
            "answerable_right": {
                "packed": sum(r["base_right"] for r in ans),
                "anchored": sum(r["anch_right"] for r in ans),
                "of": len(ans),
            },
            "unanswerable_with_candidate": {
                "packed": sum(r["base_candidate"] for r in un),
                "anchored": sum(r["anch_candidate"] for r in un),
                "of": len(un),
            },
            "tokens_mean": {
                "packed": round(float(np.mean([r["base_tokens"] for r in rows])), 1),
                "anchored": round(float(np.mean([r["anch_tokens"] for r in rows])), 1),
            },
            "two_readings": {
                "agree_share": round(float(np.mean([r["agree"] for r in cands])), 3),
                "right_when_agree": round(
                    float(np.mean([r["base_right"] for r in cands if r["agree"]] or [0])), 3
                ),
                "right_when_differ": round(
                    float(np.mean([r["base_right"] for r in cands if not r["agree"]] or [0])), 3
                ),
                "auroc_agreement": selective.auroc(
                    np.array([float(r["agree"]) for r in cands]), right
                ),
                "auroc_confidence": selective.auroc(
                    np.array([r["conf"] for r in cands], dtype=float), right
                ),
            },
        }
        print(json.dumps({name: out[name]}), file=sys.stderr)  # noqa: T201
    json.dump(out, sys.stdout, indent=1)
    print()  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
