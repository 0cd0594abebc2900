"""The real ``pit-bench`` binary (built next to pitd) against a live pitd.

- A recorded run carries no secret: not the admin token given with ``--token``, not the password
  of a ``database_url``, not a DSN's secret key, in no file of the run's directory and not in what
  pit-bench prints (issue 16).
- With neither ``--dsn`` nor ``--spawn``, pit-bench targets the pitd serving ``./pit-data``, else
  spawns one, and says which on its first line (issue 9).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import ADMIN_DATABASE_URL, _clean_env, _free_port

DB_PASSWORD = "hunter2-Pa55word"
DSN_SECRET = "d5n5ecre7d5n5ecre7"


@pytest.fixture(scope="module")
def pit_bench_bin(pitd_bin) -> Path:
    p = pitd_bin.parent / "pit-bench"
    if not (p.is_file() and os.access(p, os.X_OK)):
        msg = f"pit-bench not found next to pitd at {p} (swift build builds both)"
        if os.environ.get("PIT_E2E_SKIP_MISSING_BIN") == "1":
            pytest.skip(msg)
        pytest.fail(msg, pytrace=False)
    return p


def run_bench(binary: Path, *args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(binary), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=_clean_env())


def assert_recorded(cp: subprocess.CompletedProcess):
    """pit-bench exits 2 when a recorded run misses a pass criterion; on a busy machine that is the
    generator falling behind its tick, which says nothing about what these tests check."""
    assert cp.returncode in (0, 2), cp.stdout + cp.stderr
    assert "recorded in " in cp.stdout, cp.stdout + cp.stderr


def files_under(directory: Path) -> list:
    return [p for p in directory.rglob("*") if p.is_file()]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_recorded_run_holds_no_token_password_or_dsn_secret(server, pit_bench_bin, tmp_path):
    token = server.token
    assert token and token.startswith("pit_")
    results = tmp_path / "results"
    dsn = f"http://{server.public_key}:{DSN_SECRET}@127.0.0.1:{server.port}/{server.project_id}"
    cp = run_bench(
        pit_bench_bin, "run", "--dsn", dsn, f"--token={token}",
        "--set", f"database_url=postgres://pit:{DB_PASSWORD}@127.0.0.1:5432/pit",
        "--rate", "20", "--duration", "2s", "--max-p99", "2000", "--results", str(results), "--name", "secrets",
        cwd=tmp_path,
    )
    printed = cp.stdout + cp.stderr
    assert_recorded(cp)
    runs = list(results.iterdir())
    assert len(runs) == 1, runs
    record = json.loads((runs[0] / "run.json").read_text())
    # The token was used: every sampled event was found through the read API with it.
    assert record["summary"]["verification"].startswith("api:"), record["summary"]
    assert record["summary"]["missingEvents"] == 0
    assert record["summary"]["storedEvents"] > 0
    # The recorded command keeps its shape.
    assert "--token=<redacted>" in record["command"]
    assert "database_url=postgres://pit:***@127.0.0.1:5432/pit" in record["command"]
    assert f"http://{server.public_key}:***@127.0.0.1:{server.port}/" in record["command"]

    recorded = files_under(results)
    assert {p.name for p in recorded} >= {"run.json", "timeline.csv", "chart.svg"}
    for secret in (token, DB_PASSWORD, DSN_SECRET):
        assert secret not in printed, f"pit-bench printed a secret:\n{printed}"
        for path in recorded:
            assert secret not in path.read_text(errors="replace"), f"{path} holds a secret"


@pytest.mark.skipif(not ADMIN_DATABASE_URL, reason="PIT_TEST_DATABASE_URL names no PostgreSQL server")
def test_spawned_postgres_run_records_no_database_password(pit_bench_bin, tmp_path):
    # The test server trusts loopback connections, so any password gets in, and pit-bench keeps
    # the URL it was given (with a fresh database name) in the run's settings.
    scheme, _, rest = ADMIN_DATABASE_URL.partition("://")
    user, _, location = rest.partition("@")
    url = f"{scheme}://{user.split(':')[0]}:{DB_PASSWORD}@{location}"
    results = tmp_path / "results"
    cp = run_bench(pit_bench_bin, "run", "--spawn", "--set", f"database_url={url}", "--rate", "20", "--duration", "2s",
                   "--max-p99", "2000", "--results", str(results), cwd=tmp_path)
    printed = cp.stdout + cp.stderr
    assert_recorded(cp)
    (run,) = list(results.iterdir())
    record = json.loads((run / "run.json").read_text())
    assert record["target"] == "spawned pitd (PostgreSQL)"
    assert record["settings"]["database_url"].startswith(f"{scheme}://{user.split(':')[0]}:***@")
    assert record["summary"]["storedEvents"] == record["summary"]["acceptedEvents"] == 40
    assert DB_PASSWORD not in printed
    for path in files_under(results):
        assert DB_PASSWORD not in path.read_text(errors="replace"), f"{path} holds the database password"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_default_target_is_the_pitd_serving_pit_data(server_factory, pit_bench_bin, tmp_path):
    data = tmp_path / "pit-data"
    data.mkdir()
    port = _free_port()
    # In pit.json, so `pitd init --data-dir ./pit-data` (what pit-bench asks) gives this server's URL.
    (data / "pit.json").write_text(json.dumps({"bind": f"127.0.0.1:{port}"}))
    server = server_factory(data_dir=data, start=False)
    server.start(port=port)
    results = tmp_path / "results"
    cp = run_bench(pit_bench_bin, "--rate", "20", "--duration", "2s", "--max-p99", "2000", "--results", str(results),
                   cwd=tmp_path)
    assert_recorded(cp)
    assert cp.stdout.splitlines()[0] == f"target: pitd serving ./pit-data at http://127.0.0.1:{port} (no PIT_DSN)"
    (run,) = list(results.iterdir())
    record = json.loads((run / "run.json").read_text())
    assert record["target"] == f"127.0.0.1:{port}"
    # Verified through the read API with the token from ./pit-data/admin-token.
    assert record["summary"]["verification"].startswith("api:")
    assert record["summary"]["missingEvents"] == 0
    assert server.token not in cp.stdout + cp.stderr


def test_default_target_spawns_without_pit_data(pit_bench_bin, tmp_path):
    results = tmp_path / "results"
    cp = run_bench(pit_bench_bin, "--rate", "20", "--duration", "2s", "--max-p99", "2000", "--results", str(results),
                   cwd=tmp_path)
    assert_recorded(cp)
    assert cp.stdout.splitlines()[0] == "target: spawned pitd (no PIT_DSN, no pitd serving ./pit-data)"
    (run,) = list(results.iterdir())
    record = json.loads((run / "run.json").read_text())
    assert record["target"] == "spawned pitd"
    # As with --spawn: every acknowledged event looked up through the spawned pitd's API.
    assert record["summary"]["verification"].startswith("api: every acknowledged event id")
    assert record["summary"]["storedEvents"] == record["summary"]["acceptedEvents"] == 40
    assert not (tmp_path / "pit-data").exists()
