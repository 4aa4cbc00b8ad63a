"""Fixed fit/report halves of every labelled set: fit (and tune) on one, publish the other.

A question's half follows its *group* — the unit whose questions share evidence: the SQuAD
paragraph, the ClapNQ question (each has its own passage), the seed question, the real
document's file — so no passage
is on both sides. `half(group)` hashes the group with a fixed salt; the ids of each half are
committed in `eval/splits/<set>.json` (written by `python -m eval.splits`), and a test checks
that the function still gives them, so the split cannot drift.
Does not: balance answerable and unanswerable questions (the hash does it on average).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

SALT = "rag-split-v1:"
HALVES = ("fit", "report")
FOLDER = Path(__file__).with_name("splits")


def half(group: str) -> str:
    """'fit' or 'report' for a group key; the same forever."""
    return HALVES[hashlib.sha256((SALT + group).encode()).digest()[0] % 2]


def group_of(q: dict[str, Any]) -> str:
    return str(q.get("group") or q["id"])


def split(questions: list[dict[str, Any]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {h: [] for h in HALVES}
    for q in questions:
        out[half(group_of(q))].append(q["id"])
    return out


def pick(questions: list[dict[str, Any]], which: str | None) -> list[dict[str, Any]]:
    """The questions of one half (all of them for None)."""
    if which is None:
        return questions
    if which not in HALVES:
        from rag.errors import ConfigError

        raise ConfigError(f"--split must be one of {', '.join(HALVES)}, not {which!r}")
    return [q for q in questions if half(group_of(q)) == which]


def labelled_sets() -> dict[str, list[dict[str, Any]]]:
    """Every labelled set this repository splits (those whose data is present)."""
    from eval import clapnq, squad
    from eval.sets import REALDOCS_SET, SEED_SET, read_conversations, read_jsonl
    from rag.errors import ConfigError

    sets: dict[str, list[dict[str, Any]]] = {
        "seed": read_jsonl(SEED_SET),
        "realdocs": read_jsonl(REALDOCS_SET),  # grouped by file: no file is on both sides
        "conversations": read_conversations(),  # by conversation: its turns stay together
    }
    for name, loader in (("clapnq", clapnq.load), ("squad2", squad.load)):
        try:
            sets[name] = loader()[0]
        except ConfigError as exc:
            print(f"skipped {name}: {exc}", file=sys.stderr)  # noqa: T201
    return sets


def main() -> int:
    FOLDER.mkdir(exist_ok=True)
    for name, questions in labelled_sets().items():
        halves = split(questions)
        (FOLDER / f"{name}.json").write_text(json.dumps(halves, indent=0) + "\n")
        sizes = ", ".join(f"{h} {len(ids)}" for h, ids in halves.items())
        print(f"{name}: {sizes}")  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
