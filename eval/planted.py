"""The planted-instruction classifier's data, fit and report (`rag eval --set planted`,
`make planted`).

Labelled sentences, each in one half (fit: the classifier learns and its threshold is chosen
there; report: only measured):
- instructions addressed to the reader (label 1): BIPIA's 75 training attack texts, split within
  each of the 15 categories (2 fit, 3 report, by sha256 order), and the 254 of
  `eval/questions/planted_sentences.jsonl` (our writing, its own `fit` flags);
- document sentences (label 0): the 412 hard negatives of the same file (manuals, FAQs, text
  about AI, fiction), and every sentence of the SQuAD 2.0 articles, the ClapNQ passages, the
  BIPIA e-mails (by the e-mail split of `eval/questions/bipia_split.json`) and the real
  documents' reference texts (`eval/realdocs/reference`), halved by a hash of the sentence.
The default corpus (the seed essay) is never trained on: its false flags are measured apart.

    python -m eval.planted fit      # writes rag/ingest/planted.npz
    python -m eval.planted report   # precision / recall per half, rules vs classifier
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from rag.config import ROOT
from rag.text import split_sentences

SENTENCES_FILE = ROOT / "eval" / "questions" / "planted_sentences.jsonl"
REFERENCE_DIR = ROOT / "eval" / "realdocs" / "reference"
SEED_FILE = ROOT / "corpus" / "afghanistan-counterterrorism-mei-2024.txt"
FIT_PER_CATEGORY = 2

Example = tuple[str, int, str]  # (sentence, label, where it comes from)


def _half(text: str) -> str:
    return "fit" if hashlib.sha256(text.encode()).digest()[0] % 2 == 0 else "report"


def _sentences(text: str) -> Iterable[str]:
    for line in text.splitlines():
        for a, b in split_sentences(line):
            sentence = line[a:b].strip()
            if len(sentence) >= 12:
                yield sentence


def bipia_attacks(part: str) -> list[Example]:
    from eval.injection import _attacks, default_dir

    by_category: dict[str, list[str]] = {}
    for category, text in _attacks(default_dir()):
        by_category.setdefault(category, []).append(text)
    out = []
    for category, texts in by_category.items():
        ranked = sorted(texts, key=lambda t: hashlib.sha256(t.encode()).hexdigest())
        chosen = ranked[:FIT_PER_CATEGORY] if part == "fit" else ranked[FIT_PER_CATEGORY:]
        out += [(t, 1, f"bipia:{category}") for t in chosen]
    return out


def written(part: str) -> list[Example]:
    rows = [json.loads(line) for line in SENTENCES_FILE.read_text().splitlines() if line.strip()]
    return [
        (r["text"], r["label"], f"written:{r['group']}")
        for r in rows
        if r["fit"] == (part == "fit")
    ]


def documents(part: str) -> list[Example]:
    """Ordinary sentences of the benchmarks' documents and the real documents (label 0)."""
    from eval import clapnq, squad
    from eval.injection import SPLIT_FILE, context_id, default_dir

    out: list[Example] = []
    for article in squad.load()[1].values():
        out += [(s, 0, "squad") for text in article.values() for s in _sentences(text)]
    out += [(s, 0, "clapnq") for text in clapnq.load()[1].values() for s in _sentences(text)]
    out += [
        (s, 0, "realdocs")
        for path in sorted(REFERENCE_DIR.glob("*.txt"))
        for s in _sentences(path.read_text())
    ]
    out = [e for e in out if _half(e[0]) == part]
    emails = (default_dir() / "email_train.jsonl").read_text().splitlines()
    keep = set(json.loads(SPLIT_FILE.read_text())[part])
    for line in filter(None, emails):
        context = json.loads(line)["context"]
        if context_id(context) in keep:
            out += [(s, 0, "bipia-email") for s in _sentences(context)]
    return list({e[0]: e for e in out}.values())


def examples(part: str) -> list[Example]:
    """Labelled sentences of one half; a sentence also in the fit half (a greeting two e-mails
    share) is left out of the report half."""
    rows = bipia_attacks(part) + written(part) + documents(part)
    if part == "report":
        seen = {t for t, _, _ in examples("fit")}
        rows = [r for r in rows if r[0] not in seen]
    return list({r[0]: r for r in rows}.values())


def seed_sentences() -> list[str]:
    """The default corpus's sentences as the index stores them."""
    from rag.ingest.chunking import chunk_document

    text = SEED_FILE.read_text()
    chunks = chunk_document("seed", SEED_FILE.name, text, 1200, 0)
    return [text[a:b] for c in chunks for a, b in c.sentences]


def fit(out: Path | None = None) -> dict[str, Any]:
    from rag.ingest import planted

    data = examples("fit")
    texts, labels = [t for t, _, _ in data], np.array([y for _, y, _ in data])
    model = planted.train(texts, labels)
    path = planted.save(model, out)
    return {"examples": len(data), "positives": int(labels.sum()), "saved": str(path)}


def _rates(flags: list[bool], data: list[Example]) -> dict[str, Any]:
    tp = sum(f and y == 1 for f, (_, y, _) in zip(flags, data, strict=True))
    fp = sum(f and y == 0 for f, (_, y, _) in zip(flags, data, strict=True))
    pos = sum(y for _, y, _ in data)
    return {
        "precision": tp / (tp + fp) if tp + fp else None,
        "recall": tp / pos if pos else None,
        "flagged": tp + fp,
        "positives": pos,
        "negatives": len(data) - pos,
        "false_flags": fp,
    }


def report() -> dict[str, Any]:
    """Per half and per detector (rules, classifier, both): precision, recall, BIPIA recall,
    written-set recall, document false-flag rate, and the seed essay's flagged sentences."""
    from rag.ingest import injection, planted

    detectors = {
        "rules": lambda s: injection.rule_reason(injection.plain(s)) is not None,
        "classifier": lambda s: planted.is_planted(injection.plain(s)),
        "both": lambda s: injection.flag_reason(s) is not None,
    }
    seed = seed_sentences()
    out: dict[str, Any] = {"seed_sentences": len(seed)}
    for part in ("fit", "report"):
        data = examples(part)
        for name, detect in detectors.items():
            flags = [detect(t) for t, _, _ in data]
            row = _rates(flags, data)
            for label, prefix in (("bipia", "bipia:"), ("written", "written:")):
                sub = [(f, e) for f, e in zip(flags, data, strict=True) if e[2].startswith(prefix)]
                pos = [f for f, e in sub if e[1] == 1]
                neg = [f for f, e in sub if e[1] == 0]
                row[f"{label}_recall"] = sum(pos) / len(pos) if pos else None
                if neg:
                    row[f"{label}_false_flags"] = f"{sum(neg)}/{len(neg)}"
            docs = [f for f, e in zip(flags, data, strict=True) if e[1] == 0]
            row["document_false_flag_rate"] = sum(docs) / len(docs)
            if part == "report":
                row["seed_flagged"] = [s for s in seed if detect(s)]
                row["missed"] = [e[0] for f, e in zip(flags, data, strict=True) if e[1] and not f]
                row["false"] = [e[0] for f, e in zip(flags, data, strict=True) if f and not e[1]]
            out[f"{part}/{name}"] = row
    return out


def main(argv: list[str]) -> int:
    if argv[:1] == ["fit"]:
        sys.stdout.write(json.dumps(fit(), indent=1) + "\n")
        return 0
    if argv[:1] == ["report"]:
        sys.stdout.write(json.dumps(report(), indent=1, ensure_ascii=False) + "\n")
        return 0
    sys.stderr.write("usage: python -m eval.planted fit|report\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
