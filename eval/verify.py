"""The model's own reading of its packed replies: P(yes) to "do the numbered sources state that
answer?", asked after each reply in the same chat, as the pipeline asks it; stored as `p_yes`
in eval/calibration/<model>/*.jsonl.gz so `make calibrate` fits it without the model. (Packs
recorded by eval/record.py have it already: the pipeline asked it live.)

    python -m eval.verify [--packs seed-fit,seed-report] [--model qwen1.5b] [--limit N]

The prompt is rebuilt from the record (its question and the sentences shown); a record whose
reply opens with a decline gets none (the pipeline asks nothing there either). Here the whole
chat is evaluated; in the pipeline the KV cache already holds the prompt and the reply, so only
the question's ~30 tokens are, and P(yes) differs in the last digits.
Does not: generate anything; the packed replies stay as they were recorded.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from eval.packs import DEFAULT_MODEL, folder, load_pack, write_pack
from rag.config import Settings
from rag.generation.factory import make_generator
from rag.grounding.claims import opens_with_decline
from rag.prompt import EXAMPLES, answer_messages, verify_messages


def ask(generator: Any, rec: dict[str, Any], examples: bool) -> float | None:
    """P(yes) for one packed reply; None when the reply declines."""
    raw = rec.get("raw") or ""
    if opens_with_decline(raw):
        return None
    messages = answer_messages(
        rec["question"], [c["text"] for c in rec["context"]], EXAMPLES if examples else ()
    )
    return generator.yes_probability(verify_messages(messages, raw))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval.verify", description=__doc__.splitlines()[0])
    ap.add_argument("--packs", default="", help="comma-separated pack names (default: all)")
    ap.add_argument("--model", default=DEFAULT_MODEL, help="the answer model and its packs")
    ap.add_argument("--limit", type=int, default=None, help="records per pack")
    args = ap.parse_args(argv)
    names = [n for n in args.packs.split(",") if n] or sorted(
        p.name.split(".")[0] for p in folder(args.model).glob("*.jsonl.gz")
    )
    settings = Settings(model=args.model)
    generator = make_generator(settings)
    for name in names:
        run = json.loads((folder(args.model) / f"{name.rsplit('-', 1)[0]}.run.json").read_text())
        recs = load_pack(name, args.model)
        t0, asked = time.perf_counter(), 0
        for rec in recs[: args.limit]:
            p = ask(generator, rec, run["prompt_examples"])
            rec["p_yes"] = None if p is None else round(p, 5)
            asked += p is not None
        write_pack(name, recs, args.model)
        took = time.perf_counter() - t0
        print(f"{name}: {asked} of {len(recs)} asked, {took:.0f} s", file=sys.stderr)  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
