"""The Makefile: no target defined twice (make keeps the last recipe and only warns), and every
`make <target>` the README and docs/ name exists."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_no_target_is_defined_twice():
    done = subprocess.run(
        ["make", "-n", "help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "overriding recipe" not in done.stderr and "ignoring old recipe" not in done.stderr, (
        done.stderr
    )


def test_every_make_target_the_docs_name_exists():
    targets = set(re.findall(r"(?m)^([a-z][a-z0-9-]*):", (ROOT / "Makefile").read_text()))
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    named = {
        (doc.name, t)
        for doc in docs
        for t in re.findall(r"`make ([a-z][a-z0-9-]*)", doc.read_text())
    }
    missing = sorted((doc, t) for doc, t in named if t not in targets)
    assert not missing, missing
