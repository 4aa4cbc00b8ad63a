"""The labelled question sets kept in this repository and the one reader of their JSONL format.

questions = read_jsonl(SEED_SET)    # [{"id", "question", "answers", "evidence", "type", …}]
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rag.config import ROOT
from rag.errors import ConfigError

SEED_SET = ROOT / "eval" / "questions" / "seed.jsonl"
REALDOCS_SET = ROOT / "eval" / "questions" / "realdocs.jsonl"
REALDOCS_FILES = ROOT / "eval" / "realdocs" / "files"  # eval/realdocs/README.md: sources, licences
FIELDS = ("id", "question", "answers", "evidence", "type")
Record = dict[str, Any]


def read_jsonl(path: Path) -> list[Record]:
    """Questions in the common format; raises ConfigError naming the bad line."""
    questions: list[Record] = []
    seen: set[str] = set()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            q = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{n}: not JSON ({exc.msg})") from None
        missing = [f for f in FIELDS if f not in q]
        if missing:
            raise ConfigError(f"{path}:{n}: missing field {missing[0]!r}; need {', '.join(FIELDS)}")
        if q["id"] in seen:
            raise ConfigError(f"{path}:{n}: duplicate id {q['id']!r}")
        seen.add(q["id"])
        questions.append(q)
    return questions
