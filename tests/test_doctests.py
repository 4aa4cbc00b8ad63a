"""The examples in docstrings (`>>>`) run as tests: every module of the project that has one."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WITH_EXAMPLES = sorted(
    ".".join(f.relative_to(ROOT).with_suffix("").parts)
    for package in ("rag", "embeddings", "api", "eval", "bench")
    for f in (ROOT / package).rglob("*.py")
    if ">>> " in f.read_text()
)


def test_the_modules_with_examples_are_found():
    assert "rag.ingest.injection" in WITH_EXAMPLES and "eval.metrics" in WITH_EXAMPLES


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_docstring_examples_hold(name: str):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0, result
