"""``theragraph token`` through CliRunner and ``theragraph serve`` as a real process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from theragraph.cli.main import app
from tests.support.servers import free_port, wait_for_health

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]


def test_token_add_list_revoke(tmp_path: Path) -> None:
    runner = CliRunner()
    store = str(tmp_path / "store")
    result = runner.invoke(app, ["token", "add", "alice", "--scopes", "read,admin",
                                 "--datasets", "https://x/g/a/", "--store", store])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("tg_")
    listed = runner.invoke(app, ["token", "list", "--store", store, "--format", "json"])
    records = json.loads(listed.stdout)
    assert records[0]["name"] == "alice" and records[0]["scopes"] == ["read", "admin"]
    assert records[0]["datasets"] == ["https://x/g/a/"] and token not in listed.stdout
    assert runner.invoke(app, ["token", "add", "alice", "--store", store]).exit_code == 2
    assert runner.invoke(app, ["token", "add", "bob", "--scopes", "root", "--store", store]).exit_code == 2
    assert runner.invoke(app, ["token", "revoke", "alice", "--store", store]).exit_code == 0
    assert runner.invoke(app, ["token", "revoke", "alice", "--store", store]).exit_code == 1
    assert json.loads(runner.invoke(app, ["token", "list", "--store", store, "--format", "json"]).stdout) == []


def test_token_for_remote_store_needs_a_token_file() -> None:
    result = CliRunner().invoke(app, ["token", "add", "x", "--store", "sparql+http://h:1/query"])
    assert result.exit_code == 3


@pytest.mark.parametrize("server", ["uvicorn", "granian"])
def test_serve_runs_the_app_factory(tmp_path: Path, server: str) -> None:
    store = tmp_path / "store"
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    add = subprocess.run(
        [sys.executable, "-m", "theragraph.cli.main", "token", "add", "me", "--scopes", "read",
         "--store", str(store)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert add.returncode == 0, add.stderr
    token = add.stdout.strip().splitlines()[-1]
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "theragraph.cli.main", "serve", "--store", str(store),
         "--port", str(port), "--access-log", str(tmp_path / "access.jsonl"),
         "--server", server],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_health(url, process)
        r = httpx.get(f"{url}/sparql", params={"query": "ASK {}"},
                      headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.json()["boolean"] is True
        assert httpx.get(f"{url}/sparql", params={"query": "ASK {}"}).status_code == 401
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    log = [json.loads(line) for line in (tmp_path / "access.jsonl").read_text().splitlines()]
    assert any(e["principal"] == "me" and e["status"] == 200 for e in log)


def test_default_workers_use_every_core_only_where_several_processes_can_open_the_store(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from theragraph.cli.serve import default_workers

    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert default_workers(None, read_only=False, remote=False) == 1
    assert default_workers(None, read_only=True, remote=False) == 6
    assert default_workers(None, read_only=False, remote=True) == 6
    assert default_workers(3, read_only=False, remote=False) == 3


def test_serve_read_only_without_a_store_exits_3(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["serve", "--store", str(tmp_path / "none"), "--read-only"])
    assert result.exit_code == 3
