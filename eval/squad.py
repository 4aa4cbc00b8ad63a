"""SQuAD 2.0 (Rajpurkar et al. 2018, CC BY-SA 4.0) as evaluation sets: each article is a corpus
of its own (one document per article), its questions asked against it.

Mapped to the common question format (eval/questions/README.md): answers = the distinct
reference answers (empty for the unanswerable ones), evidence = the context sentence(s) holding
an answer, type = "answerable" | "unanswerable", plus `corpus` (the article) and `group` (the
paragraph, the unit of the fit/report split: questions on one paragraph share their evidence).
Does not: use `plausible_answers` (they are the wrong answers the unanswerable ones invite).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from rag.config import ROOT
from rag.errors import ConfigError
from rag.text import split_sentences

FILE = "squad2_dev_3articles.json"


def default_dir() -> Path:
    """`RAG_SQUAD_DIR`, else `<repo>/../shared/benchmarks/squad2`."""
    env = os.environ.get("RAG_SQUAD_DIR")
    return Path(env) if env else ROOT.parent / "shared" / "benchmarks" / "squad2"


def load(folder: Path | None = None) -> tuple[list[dict[str, Any]], dict[str, dict[str, str]]]:
    """(questions, {article: {document name: text}}): one document per article, its paragraphs
    separated by blank lines."""
    path = (folder or default_dir()) / FILE
    if not path.is_file():
        raise ConfigError(
            f"SQuAD 2.0 data not found: {path} is missing; put {FILE} there or point "
            "--squad-dir / RAG_SQUAD_DIR at its folder"
        )
    questions: list[dict[str, Any]] = []
    corpora: dict[str, dict[str, str]] = {}
    for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
        title = article["title"]
        contexts = [p["context"].strip() for p in article["paragraphs"]]
        corpora[title] = {f"{title}.txt": title.replace("_", " ") + "\n\n" + "\n\n".join(contexts)}
        for n, para in enumerate(article["paragraphs"]):
            context = para["context"]
            spans = split_sentences(context)
            for qa in para["qas"]:
                answers = list(dict.fromkeys(a["text"].strip() for a in qa.get("answers", [])))
                starts = {a["answer_start"] for a in qa.get("answers", [])}
                evidence = [context[a:b] for a, b in spans if any(a <= s < b for s in starts)]
                impossible = bool(qa.get("is_impossible"))
                questions.append(
                    {
                        "id": qa["id"],
                        "question": qa["question"].strip(),
                        "answers": [] if impossible else answers,
                        "evidence": [] if impossible else evidence,
                        "type": "unanswerable" if impossible else "answerable",
                        "corpus": title,
                        "group": f"{title}#{n}",
                    }
                )
    return questions, corpora
