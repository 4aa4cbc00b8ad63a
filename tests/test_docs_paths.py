"""The paths of code and tests that README.md and docs/ name exist (a moved file updates them)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATH = re.compile(
    r"\b((?:rag|api|eval|bench|embeddings|tests|scripts)/[\w/.-]*\w\.(?:py|json|sh))\b"
)


def test_every_named_path_exists():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    missing = {
        f"{page.relative_to(ROOT)}: {path}"
        for page in pages
        for path in PATH.findall(page.read_text())
        if not (ROOT / path).exists()
    }
    assert not missing, sorted(missing)
