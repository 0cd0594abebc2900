"""``pitd database create|size|drop``: the throw-away PostgreSQL databases pit-bench asks pitd for
when it spawns a server, so that the load generator never connects to a database itself."""

from __future__ import annotations

import subprocess

import pytest

from conftest import ADMIN_DATABASE_URL, _clean_env

pytestmark = pytest.mark.skipif(not ADMIN_DATABASE_URL, reason="PIT_TEST_DATABASE_URL names no PostgreSQL server")


def pitd(binary, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([str(binary), "database", *args], capture_output=True, text=True, timeout=60, env=_clean_env(),
                          check=check)


def test_create_measure_and_drop(pitd_bin):
    url = pitd(pitd_bin, "create", "--url", ADMIN_DATABASE_URL, "--prefix", "pit_cli_test").stdout.strip()
    try:
        assert "/pit_cli_test_" in url, url
        assert int(pitd(pitd_bin, "size", "--url", url).stdout) > 0
    finally:
        pitd(pitd_bin, "drop", "--url", url, "--via", ADMIN_DATABASE_URL)
    assert pitd(pitd_bin, "size", "--url", url, check=False).returncode != 0, "the database is still there"


def test_create_refuses_a_prefix_that_is_not_a_plain_name(pitd_bin):
    cp = pitd(pitd_bin, "create", "--url", ADMIN_DATABASE_URL, "--prefix", "x; DROP DATABASE pit", check=False)
    assert cp.returncode != 0
    assert "--prefix" in cp.stderr
