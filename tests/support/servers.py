"""Start real HTTP servers on 127.0.0.1 for the API tests (uvicorn in a thread, oxigraph serve, virtuoso-t)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import uvicorn

from api.main import create_app
from api.settings import ApiSettings
from theragraph.store.remote import VIRTUOSO_SYSTEM_GRAPHS

OXIGRAPH_CANDIDATES = ("/work/main/.venv/bin/oxigraph",)


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_health(url: str, process: subprocess.Popen, *, timeout: float = 60) -> None:
    """Wait until ``url``/health answers 200; fail with the server's stderr if it exits."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"the server exited: {stderr}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not become healthy in {timeout} s")
        time.sleep(0.2)


def oxigraph_binary() -> str | None:
    """Return the ``oxigraph`` server binary (PyPI package ``oxigraph``), or None."""
    found = shutil.which("oxigraph")
    if found:
        return found
    # The test extra installs it next to the interpreter (.venv/bin), often not on PATH.
    for candidate in (str(Path(sys.executable).parent / "oxigraph"), *OXIGRAPH_CANDIDATES):
        if Path(candidate).exists():
            return candidate
    return None


@dataclass
class RunningApi:
    """A uvicorn server running the app in a background thread."""

    url: str
    app: object
    server: uvicorn.Server
    thread: threading.Thread
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def service(self):  # noqa: ANN201 - test helper
        return self.app.state.service  # type: ignore[attr-defined]

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start_api(settings: ApiSettings) -> RunningApi:
    """Build the app from ``settings`` and serve it on a free loopback port."""
    app = create_app(settings)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    return RunningApi(f"http://127.0.0.1:{port}", app, server, thread)


@dataclass
class RunningOxigraph:
    """An ``oxigraph serve`` subprocess."""

    url: str
    process: subprocess.Popen

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_oxigraph(binary: str, *, location: Path | None = None, read_only: bool = False) -> RunningOxigraph:
    """Start ``oxigraph serve`` (union default graph) on a free loopback port and wait for it."""
    port = free_port()
    command = [binary, "serve-read-only" if read_only else "serve", "--bind", f"127.0.0.1:{port}"]
    if location is not None:
        command += ["--location", str(location)]
    if not read_only:
        command.append("--union-default-graph")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/query", params={"query": "ASK {}"}, timeout=1)
            return RunningOxigraph(url, process)
        except httpx.HTTPError:
            if process.poll() is not None:
                break
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"oxigraph serve did not start: {command}")


#: ResultSetMaxRows for test servers: low, so a result cut by it can be provoked.
VIRTUOSO_TEST_MAX_ROWS = 5000

VIRTUOSO_INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{isql_port}
DisableUnixSocket = 1
CheckpointInterval = 0
CaseMode = 2
DirsAllowed = ., {dir}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
ThreadsPerQuery = 2
AsyncQueueMaxThreads = 2

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}
MaxClientConnections = 4
ServerThreads = 4
Charset = UTF-8

[SPARQL]
ResultSetMaxRows = {max_rows}
MaxQueryExecutionTime = 60
"""


#: The setup docs/sparql-service.md asks for: anonymous updates on /sparql, and Virtuoso's
#: system graphs made private so they stay out of the union default graph.
VIRTUOSO_SETUP_SQL = (
    'GRANT SPARQL_UPDATE TO "SPARQL";',
    "DB.DBA.RDF_GRAPH_GROUP_CREATE ('http://www.openlinksw.com/schemas/virtrdf#PrivateGraphs', 1);",
    *(
        f"DB.DBA.RDF_GRAPH_GROUP_INS ('http://www.openlinksw.com/schemas/virtrdf#PrivateGraphs', '{g}');"
        for g in VIRTUOSO_SYSTEM_GRAPHS
    ),
    "DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 0, 1);",
)


def virtuoso_binaries() -> tuple[str, str] | None:
    """Return ``(virtuoso-t, isql-vt)`` (Debian package ``virtuoso-opensource``), or None."""
    server, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt") or shutil.which("isql")
    return (server, isql) if server and isql else None


@dataclass
class RunningVirtuoso:
    """A throwaway ``virtuoso-t +foreground`` with its database in a temporary directory."""

    url: str
    isql_port: int
    process: subprocess.Popen
    directory: Path
    isql: str

    @property
    def location(self) -> str:
        """The Theragraph store location of its SPARQL endpoint."""
        return f"sparql+{self.url}/sparql?dialect=virtuoso"

    def sql(self, statement: str) -> str:
        """Run one SQL statement as dba through ``isql-vt``; return its output."""
        done = subprocess.run(
            [self.isql, f"127.0.0.1:{self.isql_port}", "dba", "dba", f"exec={statement}"],
            capture_output=True, text=True, timeout=60, check=False,
        )
        if done.returncode != 0 or "*** Error" in done.stdout + done.stderr:
            raise RuntimeError(f"isql failed on {statement!r}: {done.stdout}{done.stderr}")
        return done.stdout

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        shutil.rmtree(self.directory, ignore_errors=True)


def start_virtuoso(
    binaries: tuple[str, str], directory: Path, *, max_rows: int = 100_000
) -> RunningVirtuoso:
    """Start Virtuoso on free loopback ports with a fresh database in ``directory``.

    Runs :data:`VIRTUOSO_SETUP_SQL`: the anonymous SPARQL user may update through ``/sparql``
    (fine for a throwaway server on 127.0.0.1; see docs/sparql-service.md for a real one).
    """
    server, isql = binaries
    directory.mkdir(parents=True, exist_ok=True)
    isql_port, http_port = free_port(), free_port()
    ini = directory / "virtuoso.ini"
    ini.write_text(VIRTUOSO_INI.format(
        dir=directory, isql_port=isql_port, http_port=http_port, max_rows=max_rows))
    process = subprocess.Popen(
        [server, "+foreground", "+configfile", str(ini)], cwd=directory,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    running = RunningVirtuoso(f"http://127.0.0.1:{http_port}", isql_port, process, directory, isql)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{running.url}/sparql", params={"query": "ASK {}"}, timeout=2).raise_for_status()
            for statement in VIRTUOSO_SETUP_SQL:
                running.sql(statement)
            return running
        except httpx.HTTPError:
            if process.poll() is not None:
                break
            time.sleep(0.2)
    log = directory / "virtuoso.log"
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    running.stop()
    raise RuntimeError(f"virtuoso-t did not start in {directory}: {tail}")
