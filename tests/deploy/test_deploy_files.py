"""The Docker files (Dockerfile, compose.yaml, docker/) checked as files: no image can be pulled
or built here. The compose-spec JSON schema (check-jsonschema's vendored copy) and hadolint come
with the dev extras; haproxy and docker-compose (v1, Debian's) are checked when installed."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from rag.config import ROOT

COMPOSE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
HAPROXY = ROOT / "docker" / "haproxy.cfg"
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    path = shutil.which(name, path=f"{BIN}:{Path('/usr/sbin')}:{Path('/usr/bin')}")
    if path is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[dev]' (it is in the dev extras)")
    return path


def _run(args: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, **kw)


def _compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_follows_the_compose_spec():
    proc = _run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)]
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dockerfile_passes_hadolint():
    proc = _run([_tool("hadolint"), str(DOCKERFILE)])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_haproxy_config_is_valid():
    haproxy = shutil.which("haproxy", path="/usr/sbin:/usr/bin:/usr/local/sbin")
    if haproxy is None:
        pytest.fail("haproxy not installed: `make haproxy` (apt-get install haproxy)")
    proc = _run([haproxy, "-c", "-f", str(HAPROXY)])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_docker_compose_v1_resolves_it(tmp_path: Path):
    """Merges, interpolation and the schema as Compose itself reads them (v1, which predates the
    top-level `name`, so that line is left out); a missing password stops it with its message."""
    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.fail("docker-compose not installed: `make haproxy` (apt-get install docker-compose)")
    (tmp_path / "compose.yaml").write_text(re.sub(r"(?m)^name: .*\n", "", COMPOSE.read_text()))
    for part in ("docker", "scripts", "corpus"):
        (tmp_path / part).symlink_to(ROOT / part)
    env = {"PATH": "/usr/bin:/bin", "POSTGRES_PASSWORD": "pw1", "RAG_DB_PASSWORD": "pw2"}
    proc = _run([exe, "config"], cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    config = yaml.safe_load(proc.stdout)
    for name in ("rag-1", "rag-2"):
        assert config["services"][name]["environment"]["RAG_STORE"] == (
            "postgresql://rag_app:pw2@postgres:5432/rag"
        )
        assert config["services"][name]["healthcheck"]["test"][-1].endswith("/readyz', timeout=4)")
    assert config["services"]["lb"]["ports"] == ["127.0.0.1:8080:8080/tcp"]
    missing = _run([exe, "config"], cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    assert missing.returncode != 0 and "set POSTGRES_PASSWORD in .env" in missing.stderr


def test_every_replica_is_behind_the_load_balancer_and_checked_on_readyz():
    services = _compose()["services"]
    replicas = sorted(n for n in services if re.fullmatch(r"rag-\d+", n))
    cfg = HAPROXY.read_text()
    servers = sorted(re.findall(r"(?m)^\s*server (\S+) (\S+):8000 check", cfg))
    assert replicas == ["rag-1", "rag-2"]
    assert servers == [(n, n) for n in replicas]
    assert "uri /readyz" in cfg and "http-check expect status 200" in cfg
    assert services["lb"]["ports"] == ["${RAG_BIND:-127.0.0.1}:${RAG_PORT:-8080}:8080"]
    assert "bind :8080" in cfg


def test_services_have_health_checks_volumes_and_settings():
    compose = _compose()
    services = compose["services"]
    assert services["postgres"]["image"] == "pgvector/pgvector:pg16"
    assert services["lb"]["image"].startswith("haproxy:")
    for name in ("postgres", "llm", "rag-1", "rag-2", "lb"):
        assert services[name]["healthcheck"]["test"][0] == "CMD", name
    assert {"pgdata", "models"} <= set(compose["volumes"])
    assert "pgdata:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "llama_cpp.server" in services["llm"]["command"]
    env = services["rag-1"]["environment"]
    assert env["RAG_LLM_URL"] == "http://llm:8080/v1"
    # the role and database scripts/dba.sql makes by default (run by docker/initdb/)
    assert env["RAG_STORE"].startswith("postgresql://rag_app:${RAG_DB_PASSWORD")
    assert env["RAG_STORE"].endswith("@postgres:5432/rag")
    dba = (ROOT / "scripts" / "dba.sql").read_text()
    assert r"\set rag_role rag_app" in dba and r"\set rag_db rag" in dba
    init = ROOT / "docker" / "initdb" / "10-rag.sh"
    assert init.stat().st_mode & 0o111, "the postgres image runs only executable .sh files"
    assert "/rag/dba.sql" in init.read_text()
    assert "./scripts/dba.sql:/rag/dba.sql:ro" in services["postgres"]["volumes"]


def test_image_pins_match_the_project():
    text = DOCKERFILE.read_text()
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = dict(d.split("==") for d in deps if "==" in d)
    assert f"ARG LLAMA_VERSION={pins['llama-cpp-python']}" in text
    assert f"ARG TORCH_VERSION={pins['torch']}" in text
    assert f"LLAMA_VERSION := {pins['llama-cpp-python']}" in (ROOT / "Makefile").read_text()
    assert "scripts/llama_build.py wheel" in text and "-march=native" not in text.replace(
        "never -march=native", ""
    )


def test_dockerignore_keeps_what_the_dockerfile_copies():
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    copied = re.findall(r"(?m)^COPY (?!--from)(\S+)", DOCKERFILE.read_text())
    copied += re.findall(r"(?m)^COPY (?!--from)\S+ (\S+) \./", DOCKERFILE.read_text())
    for src in copied:
        top = src.split("/")[0]
        assert top not in ignored and src not in ignored, src
        assert (ROOT / src).exists(), src
