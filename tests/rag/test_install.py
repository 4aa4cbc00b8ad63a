"""The package installed as a user would (`pip install .`, not editable), run from another
folder: models resolve from RAG_MODELS_DIR or the user's data folder, or the error says how to
fetch them. Real wheel, real files, the 135M model."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rag.config import DEFAULT_CORPUS, ROOT
from rag.generation.models import resolve_model


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The project's wheel installed into a folder of its own (its dependencies come from
    the test environment)."""
    root = tmp_path_factory.mktemp("installed")
    src = root / "src"  # a copy, so the build leaves nothing in the source tree
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for pkg in ("rag", "embeddings", "api", "eval"):
        shutil.copytree(ROOT / pkg, src / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    build = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(root / "wheels"),
            str(src),
        ],
        root,
        dict(os.environ),
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = (root / "wheels").glob("rag_grounded-*.whl")
    site = root / "site"
    done = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(site),
            str(wheel),
        ],
        root,
        dict(os.environ),
    )
    assert done.returncode == 0, done.stderr
    return site


def test_installed_package_answers_from_another_folder(installed: Path, tmp_path: Path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "notes.txt").write_text(DEFAULT_CORPUS.read_text())
    env = {
        **os.environ,
        "PYTHONPATH": str(installed),
        "RAG_HOME": str(tmp_path / "home"),
        "RAG_MODEL": "smollm2",
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "HF_HUB_OFFLINE": "1",
    }
    env.pop("RAG_MODELS_DIR", None)
    rag = [sys.executable, "-m", "api.cli"]

    where = _run([sys.executable, "-c", "import rag; print(rag.__file__)"], elsewhere, env)
    assert where.stdout.startswith(str(installed)), where.stdout  # not the source tree

    ingest = _run([*rag, "ingest", "notes.txt"], elsewhere, env)
    assert ingest.returncode == 0 and "added: 1" in ingest.stdout, ingest.stderr

    missing = _run([*rag, "ask", "--json", "Who leads ISKP?"], elsewhere, env)
    assert missing.returncode == 1
    assert "rag models smollm2" in missing.stderr and "RAG_MODELS_DIR" in missing.stderr
    assert str(tmp_path / "data" / "rag" / "models") in missing.stderr

    models = tmp_path / "my-models"
    models.mkdir()
    source = resolve_model("smollm2")
    for f in (source, source.with_name(source.name + ".sha256")):
        (models / f.name).symlink_to(f.resolve())
    env["RAG_MODELS_DIR"] = str(models)
    asked = _run([*rag, "ask", "--json", "Who is the leader of ISKP?"], elsewhere, env)
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert set(answer) >= {"answer", "declined", "citations", "timings"}
    assert answer["timings"]["prompt_tokens"] > 0  # the model really ran
