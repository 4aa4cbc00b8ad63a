"""Layers only look down: `rag/` (the core) never imports the CLI face, the web server or the
harness, and `embeddings/` never imports `rag/`. Every import statement in every module counts,
also those inside functions and `if TYPE_CHECKING:` blocks; read with `ast`, nothing is run."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {  # package -> the packages above it
    "rag": {"api", "eval", "bench"},
    "embeddings": {"rag", "api", "eval", "bench"},
}


def imports(path: Path) -> set[str]:
    """The top-level package of every module `path` imports (relative imports resolved)."""
    package = path.relative_to(ROOT).parts[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add(package if node.level else (node.module or "").split(".")[0])
    return found


def test_the_reader_sees_imports_in_functions_and_type_checking_blocks(tmp_path: Path):
    assert {"embeddings", "rag", "numpy"} <= imports(ROOT / "rag" / "pipeline.py")
    assert "api" in imports(ROOT / "api" / "cli.py")  # `serve` imports api.main in its body
    assert "eval" in imports(ROOT / "api" / "cli.py")  # `eval` imports eval.cli in its body


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_lower_layers_do_not_import_higher_ones(package: str):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files
    wrong = {
        f"{f.relative_to(ROOT)} imports {', '.join(sorted(bad))}"
        for f in files
        if (bad := imports(f) & FORBIDDEN[package])
    }
    assert not wrong, sorted(wrong)
