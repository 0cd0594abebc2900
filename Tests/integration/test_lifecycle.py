"""Data lifecycle (issue 10): retention purge, the free-disk guardrail, backup and restore."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time

import pytest

import pit_helpers as H
from test_durability import Load, missing_events

DAY_MS = 86_400_000


def sql(srv, statement: str):
    """Runs one statement on the server's database (the server is stopped, or only reads)."""
    if srv.backend == "postgres":
        cp = subprocess.run(["psql", srv.database_url, "-v", "ON_ERROR_STOP=1", "-qAtc", statement],
                            capture_output=True, text=True, timeout=60)
        assert cp.returncode == 0, cp.stderr
        return cp.stdout.strip()
    db = sqlite3.connect(str(srv.data_dir / "pit.sqlite"), timeout=30)
    try:
        rows = db.execute(statement).fetchall()
        db.commit()
        return "\n".join("|".join(str(v) for v in row) for row in rows)
    finally:
        db.close()


def event_filter(srv, event_id: str) -> str:
    column = "encode(event_id, 'hex')" if srv.backend == "postgres" else "lower(hex(event_id))"
    return f"{column} = '{event_id}'"


def send(srv, fingerprint: str, **extra) -> str:
    return srv.send_event({"message": f"lifecycle {fingerprint}", "fingerprint": [fingerprint], **extra})


def test_event_older_than_retention_is_dropped_at_ingest(server_factory):
    srv = server_factory({"PIT_RETENTION_DAYS": "2"})
    old = send(srv, "too-old", timestamp=time.time() - 5 * 86400)
    fresh = send(srv, "fresh", timestamp=time.time() - 1 * 86400)
    H.wait_until(lambda: srv.event_status(fresh) == 200, 10, what="the fresh event")
    assert srv.event_status(old) == 404, "an event older than the retention was stored"


def test_purge_removes_expired_events_and_what_counted_them(server_factory):
    srv = server_factory({"PIT_RETENTION_INTERVAL_SECONDS": "1", "PIT_RETENTION_BATCH_SIZE": "2"})
    old_ids = [send(srv, "gone", environment="staging") for _ in range(3)]
    mixed_old = send(srv, "mixed", environment="staging", release="1.0")
    mixed_new = send(srv, "mixed", environment="staging", release="1.0")
    keep = send(srv, "kept")
    H.wait_until(lambda: srv.event_status(keep) == 200, 10, what="the last event")
    gone_issue = srv.issue_of(old_ids[0])["id"]
    mixed_issue = srv.issue_of(mixed_new)["id"]
    assert int(srv.issue(mixed_issue)["count"]) == 2
    srv.stop()

    # Age the rows as if they had arrived 100 days ago.
    age = 100 * DAY_MS
    for event_id in old_ids + [mixed_old]:
        sql(srv, f"UPDATE events SET received = received - {age}, timestamp = timestamp - {age} WHERE {event_filter(srv, event_id)}")
    sql(srv, f"UPDATE issues SET first_seen = first_seen - {age}, last_seen = last_seen - {age} WHERE id = {gone_issue}")
    sql(srv, f"UPDATE issue_tag_values SET first_seen = first_seen - {age}, last_seen = last_seen - {age} WHERE issue_id = {gone_issue}")

    srv.start()
    H.wait_until(lambda: srv.event_status(mixed_old) == 404, 30, what="the purge of the expired events")
    for event_id in old_ids:
        assert srv.event_status(event_id) == 404
    assert srv.event_status(mixed_new) == 200 and srv.event_status(keep) == 200
    # The issue whose events are all gone goes too (as Sentry drops issues after retention);
    # the other one counts only what is left.
    H.wait_until(lambda: srv.api("GET", f"/api/0/issues/{gone_issue}/").status_code == 404, 15,
                 what="the emptied issue to be deleted")
    assert str(gone_issue) not in {str(i["id"]) for i in srv.issues()}
    assert int(srv.issue(mixed_issue)["count"]) == 1
    tags = srv.api_json("GET", f"/api/0/issues/{mixed_issue}/tags/environment/")
    counts = {v["value"]: v["count"] for v in tags.get("topValues", [])}
    assert counts.get("staging") == 1, tags
    # Ingest of the dropped fingerprint starts a new issue.
    again = send(srv, "gone")
    H.wait_until(lambda: srv.event_status(again) == 200, 10, what="a new event of the purged issue's fingerprint")
    assert int(srv.issue_of(again)["count"]) == 1


def test_project_retention_override_through_api_and_cli(server_factory):
    srv = server_factory({"PIT_RETENTION_DAYS": "30"})
    path = f"/api/0/projects/{srv.org}/{srv.project_slug}/retention/"
    body = srv.api_json("GET", path)
    assert body["retentionDays"] is None and body["effectiveRetentionDays"] == 30
    body = srv.api_json("PUT", path, json={"retentionDays": 7})
    assert body["retentionDays"] == 7 and body["effectiveRetentionDays"] == 7
    assert srv.api("PUT", path, json={"retentionDays": -1}).status_code == 400
    # Applied to ingest at once: an event 10 days old is past 7 days.
    old = send(srv, "override-old", timestamp=time.time() - 10 * 86400)
    fresh = send(srv, "override-fresh")
    H.wait_until(lambda: srv.event_status(fresh) == 200, 10, what="the fresh event")
    assert srv.event_status(old) == 404
    cp = srv.cli("project", "retention", srv.project_id, "default", json_out=False)
    assert "30 days" in cp.stdout, cp.stdout
    cp = srv.cli("project", "retention", srv.project_id, json_out=False)
    assert "server setting" in cp.stdout, cp.stdout


def test_low_free_disk_answers_503_and_not_ready(server_factory):
    srv = server_factory({"PIT_MIN_FREE_DISK_BYTES": str(10 ** 18)})
    body, _ = H.event_envelope()
    r = srv.send(body)
    assert r.status == 503, r
    assert r.header("retry-after") is not None, r
    assert "disk" in r.text, r
    ready = srv.api("GET", "/ready", auth=False)
    assert ready.status_code == 503 and ready.json()["status"] == "disk_low", ready.text


def test_backup_under_load_then_restore_into_fresh_dir(server_factory, backend, tmp_path):
    if backend == "postgres":
        pytest.skip("PostgreSQL is backed up with pg_dump (README)")
    srv = server_factory({"PIT_ACK": "committed"})
    load = Load(srv, "backup-under-load", senders=8).start()
    time.sleep(1.5)
    with load.lock:
        acked_before = list(load.acked)
    backup = tmp_path / "pit-backup.sqlite"
    started = time.monotonic()
    cp = srv.cli("backup", str(backup), json_out=False, timeout=300)
    took = time.monotonic() - started
    time.sleep(0.5)
    with load.lock:
        acked_during = len(load.acked) - len(acked_before)
    load.stop()
    print(f"backup took {took:.2f}s: {cp.stdout.strip()}; {len(acked_before)} acknowledged before, "
          f"{acked_during} while/after")
    assert len(acked_before) >= 50, f"only {len(acked_before)} events acknowledged before the backup"
    assert acked_during > 0, "ingest stopped while the backup ran"
    assert not [s for s, _ in load.rejected if s != 503], load.rejected[:5]

    # A running server's data is never overwritten.
    refused = srv.cli("restore", str(backup), check=False, json_out=False)
    assert refused.returncode != 0 and "stop it" in (refused.stderr + refused.stdout), refused

    fresh = server_factory(init=False, start=False, data_dir=tmp_path / "restored" / "data")
    restored = fresh.cli("restore", str(backup), json_out=False)
    assert "Restored" in restored.stdout, restored.stdout
    fresh.token, fresh.public_key, fresh.project_id = srv.token, srv.public_key, srv.project_id
    fresh.start()
    missing = missing_events(fresh, acked_before)
    assert not missing, f"{len(missing)}/{len(acked_before)} acknowledged events missing from the restored copy: {missing[:5]}"

    # A damaged file is refused before anything is replaced.
    fresh.stop()
    damaged = tmp_path / "damaged.sqlite"
    data = bytearray(backup.read_bytes())
    data[len(data) // 2: len(data) // 2 + 65536] = os.urandom(65536)
    damaged.write_bytes(bytes(data))
    cp = fresh.cli("restore", str(damaged), check=False, json_out=False)
    assert cp.returncode != 0, cp.stdout
    fresh.start()
    assert not missing_events(fresh, acked_before[:20])
