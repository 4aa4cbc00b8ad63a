"""ClapNQ dev (Rosenthal et al. 2024) as an evaluation set: 300 answerable + 300 unanswerable
questions, each with its own Wikipedia passage; the 600 passages are pooled as one corpus.

Mapped to the common question format (see eval/questions/README.md):
answers = [output[0].answer] (empty for unanswerable), evidence = output[0].selected_sentences,
type = "answerable" | "unanswerable", plus `gold_source`: the name of the question's own passage
document (`<id>.txt`), which is the retrieval gold.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from rag.config import ROOT
from rag.errors import ConfigError

FILES = {
    "answerable": "clapnq_dev_answerable.jsonl",
    "unanswerable": "clapnq_dev_unanswerable.jsonl",
}


def default_dir() -> Path:
    """`RAG_CLAPNQ_DIR`, else `<repo>/../shared/benchmarks/clapnq`."""
    env = os.environ.get("RAG_CLAPNQ_DIR")
    return Path(env) if env else ROOT.parent / "shared" / "benchmarks" / "clapnq"


def check_dir(folder: Path) -> None:
    missing = [name for name in FILES.values() if not (folder / name).is_file()]
    if missing:
        raise ConfigError(
            f"ClapNQ data not found: {folder / missing[0]} is missing; put the ClapNQ dev files "
            "there or point --clapnq-dir / RAG_CLAPNQ_DIR at them"
        )


def source_name(qid: str) -> str:
    return f"{qid}.txt"


def load(folder: Path | None = None) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """(questions in the common format, {document name: text}) — answerable first."""
    folder = folder or default_dir()
    check_dir(folder)
    questions: list[dict[str, Any]] = []
    passages: dict[str, str] = {}
    for qtype, name in FILES.items():
        with (folder / name).open(encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                row = json.loads(line)
                out = row["output"][0]
                passage = row["passages"][0]
                src = source_name(row["id"])
                passages[src] = f"{passage['title']}\n{passage['text'].strip()}\n"
                questions.append(
                    {
                        "id": row["id"],
                        "question": row["input"],
                        "answers": [out["answer"]] if out["answer"].strip() else [],
                        "evidence": list(out.get("selected_sentences") or []),
                        "type": qtype,
                        "gold_source": src,
                    }
                )
    return questions, passages
