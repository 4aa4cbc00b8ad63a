"""The labelled question sets kept in this repository and the readers of their JSONL formats.

questions = read_jsonl(SEED_SET)    # [{"id", "question", "answers", "evidence", "type", …}]
convs = read_conversations(CONVERSATIONS_SET)   # [{"id", "corpus", "prelude", "turns": […]}]
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
CONVERSATIONS_SET = ROOT / "eval" / "questions" / "conversations.jsonl"
FIELDS = ("id", "question", "answers", "evidence", "type")
TURN_KINDS = ("first", "self-contained", "pronoun", "ellipsis", "about-answer", "prelude-dependent")
TURN_TYPES = ("fact", "number", "list", "unanswerable", "false-premise")
TURN_FIELDS = ("question", "depends", "kind", "standalone", "type", "answers", "evidence")
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


def read_conversations(path: Path = CONVERSATIONS_SET) -> list[Record]:
    """Conversations (eval/questions/README.md); raises ConfigError naming the bad line."""
    if not path.is_file():
        raise ConfigError(f"{path} is missing; it is part of the repository")
    out: list[Record] = []
    seen: set[str] = set()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            conv = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{where}: not JSON ({exc.msg})") from None
        for key in ("id", "corpus", "turns"):
            if key not in conv:
                raise ConfigError(f"{where}: missing field {key!r}")
        if conv["id"] in seen:
            raise ConfigError(f"{where}: duplicate id {conv['id']!r}")
        seen.add(conv["id"])
        for t, turn in enumerate(conv["turns"], 1):
            missing = [f for f in TURN_FIELDS if f not in turn]
            if missing:
                raise ConfigError(f"{where}: turn {t} misses {missing[0]!r}")
            if turn["kind"] not in TURN_KINDS or turn["type"] not in TURN_TYPES:
                raise ConfigError(f"{where}: turn {t}: unknown kind or type")
        conv.setdefault("prelude", [])
        out.append(conv)
    return out
