"""Start real HTTP servers on 127.0.0.1 for the API tests (uvicorn in a thread, oxigraph serve)."""

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

OXIGRAPH_CANDIDATES = ("/work/main/.venv/bin/oxigraph",)


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
