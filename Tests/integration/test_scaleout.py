"""PostgreSQL scale-out: several pitd instances sharing one database.

These run only when PIT_TEST_DATABASE_URL names a PostgreSQL server (``scripts/test`` starts one);
the restart test also needs PIT_TEST_POSTGRES_DIR, the directory ``scripts/postgres-test-server``
started it in, so it can restart that server mid-load.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

import conftest
import pit_helpers as H
from test_durability import Load, missing_events

pytestmark = pytest.mark.skipif(not conftest.ADMIN_DATABASE_URL, reason="PIT_TEST_DATABASE_URL is not set")

ENVELOPE_CT = "application/x-sentry-envelope"
FINGERPRINTS = [f"scale-{n}" for n in range(12)]


@pytest.fixture
def pg_factory(pitd_bin, tmp_path):
    created: list = []
    yield conftest._make_factory(pitd_bin, tmp_path, created, "postgres")
    conftest._teardown(created)


@pytest.fixture
def pair(pg_factory):
    """Two instances on one database, each with its own data directory."""
    a = pg_factory()
    b = pg_factory(init=False, start=False, database_url=a.database_url)
    info = b.cli("init", "--json")
    assert info["public_key"] == a.public_key, "both instances serve the same default project and key"
    b._adopt_init(info)
    b.token = a.token      # the token's hash lives in the shared database
    b.start()
    return a, b


def metric(server, name: str) -> float:
    text = server.api("GET", "/metrics", auth=False).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            total += float(line.rsplit(" ", 1)[1])
    return total


class FingerprintLoad:
    """Keep-alive senders cycling through shared fingerprints; remembers what was acknowledged."""

    def __init__(self, server, senders: int = 8, seconds: float = 3.0, tag: str = ""):
        self.server, self.senders, self.seconds, self.tag = server, senders, seconds, tag
        self.acked: list = []
        self.statuses: Counter = Counter()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(t,), daemon=True) for t in range(senders)]

    def _run(self, t: int):
        client = H.KeepAliveClient(self.server.host, self.server.port, timeout=30)
        headers = {"Content-Type": ENVELOPE_CT, **self.server.auth_headers()}
        deadline = time.monotonic() + self.seconds
        n = 0
        try:
            while time.monotonic() < deadline and n < 50_000:
                fingerprint = FINGERPRINTS[(t + n) % len(FINGERPRINTS)]
                i = H.new_event_id()
                body = H.make_envelope({"event_id": i}, [({"type": "event"}, {
                    "event_id": i, "message": f"scale {self.tag} {t}/{n}", "level": "error",
                    "fingerprint": [fingerprint], "user": {"id": f"u{n % 7}"},
                })])
                n += 1
                r = client.request("POST", self.server.envelope_path(), body, headers)
                with self.lock:
                    self.statuses[r.status] += 1
                    if r.status == 200:
                        self.acked.append((i, fingerprint))
                if r.status == 503:
                    time.sleep(0.01)
        finally:
            client.close()

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def join(self):
        for t in self.threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in self.threads), "sender threads hung"
        print(f"{self.tag}: acked={len(self.acked)} statuses={dict(self.statuses)}")


def test_two_instances_ingest_concurrently_with_exact_counts(pair):
    a, b = pair
    loads = [FingerprintLoad(a, tag="A").start(), FingerprintLoad(b, tag="B").start()]
    for load in loads:
        load.join()
    acked = [x for load in loads for x in load.acked]
    assert len(acked) > 200, "both instances took load"
    assert all(load.acked for load in loads)
    assert missing_events(a, [i for i, _ in acked]) == []
    expected = Counter(fp for _, fp in acked)
    issues = a.issues("")
    by_title = {}
    for issue in issues:
        assert issue["title"] not in by_title, f"two issues for one fingerprint: {issue['title']}"
        by_title[issue["title"]] = issue
    # One issue per fingerprint, and its count is exactly what both instances acknowledged.
    assert len(issues) == len(expected), [i["title"] for i in issues]
    counted = sorted(int(i["count"]) for i in issues)
    assert counted == sorted(expected.values())
    assert sum(counted) == len(acked)
    # Both instances read the same answers.
    assert {i["id"]: i["count"] for i in b.issues("")} == {i["id"]: i["count"] for i in issues}
    assert all(int(i["userCount"]) == 7 for i in issues if int(i["count"]) >= 100)
    # Read again once the background roll-up (every second, on either instance) has surely folded
    # in the counter deltas that may still have been pending above: nothing moves.
    time.sleep(2.5)
    for server in (a, b):
        assert {i["id"]: (i["count"], i["userCount"]) for i in server.issues("")} == \
            {i["id"]: (i["count"], i["userCount"]) for i in issues}


def test_key_created_on_one_instance_is_accepted_by_the_other_within_seconds(pair):
    a, b = pair
    key = a.cli("key", "create", "--project", "1", "--json")["public_key"]
    body, _ = H.event_envelope({"message": "new key"})
    started = time.monotonic()
    status = None
    while time.monotonic() - started < 10:
        status = b.send(body, headers={"X-Sentry-Auth": H.sentry_auth_header(key)}).status
        if status == 200:
            break
        time.sleep(0.2)
    assert status == 200, f"instance B still refuses a key created through A ({status})"
    # Disabled through A's API: B refuses it within seconds too.
    r = a.api("PUT", f"/api/0/projects/{a.org}/{a.project_slug}/keys/{key}/", json={"isActive": False})
    assert r.status_code == 200, r.text
    started = time.monotonic()
    while time.monotonic() - started < 10:
        status = b.send(body, headers={"X-Sentry-Auth": H.sentry_auth_header(key)}).status
        if status != 200:
            break
        time.sleep(0.2)
    assert status in (401, 403), f"instance B still accepts a key disabled through A ({status})"


def test_resolved_on_one_instance_regresses_once_when_both_receive_events(pair):
    a, b = pair
    first = a.send_event({"message": "regress me", "fingerprint": ["regress-me"], "level": "error"})
    issue = a.issue_of(first)
    a.api_json("PUT", f"/api/0/issues/{issue['id']}/", json={"status": "resolved"})
    assert b.issue(issue["id"])["status"] == "resolved"
    # Both instances receive the next events at once: the issue reopens exactly once.
    before = metric(a, "pit_issues_regressed_total") + metric(b, "pit_issues_regressed_total")
    threads = []
    for server in (a, b):
        for _ in range(4):
            threads.append(threading.Thread(target=lambda s=server: [s.send_event(
                {"message": "regress me", "fingerprint": ["regress-me"], "level": "error"}) for _ in range(5)]))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    after = metric(a, "pit_issues_regressed_total") + metric(b, "pit_issues_regressed_total")
    assert after - before == 1, "one regression, counted once across instances"
    reopened = b.issue(issue["id"])
    assert reopened["status"] == "unresolved" and reopened["substatus"] == "regressed", reopened
    assert int(reopened["count"]) == 41


def postgres_ctl(action: str):
    directory = os.environ.get("PIT_TEST_POSTGRES_DIR")
    script = conftest.REPO_ROOT / "scripts" / "postgres-test-server"
    cp = subprocess.run([str(script), action, directory], capture_output=True, text=True, timeout=120)
    assert cp.returncode == 0, f"postgres-test-server {action}: {cp.stderr}"


@pytest.mark.skipif(not os.environ.get("PIT_TEST_POSTGRES_DIR"), reason="PIT_TEST_POSTGRES_DIR is not set")
def test_database_restart_mid_load_loses_no_acknowledged_event(pg_factory):
    server = pg_factory()
    load = Load(server, "pg-restart").start()
    time.sleep(1.0)
    postgres_ctl("stop")
    time.sleep(1.5)
    # While the database is down the instance says so and acknowledges nothing.
    ready = server.api("GET", "/ready", auth=False)
    assert ready.status_code == 503 and ready.json()["status"] == "storage_unavailable", ready.text
    down_acks = len(load.acked)
    time.sleep(0.5)
    assert len(load.acked) == down_acks, "an event was acknowledged while the database was down"
    postgres_ctl("start")
    # It recovers on its own: acknowledgements resume within seconds.
    H.wait_until(lambda: len(load.acked) > down_acks, timeout=20, what="acks after the database returned")
    time.sleep(1.0)
    load.stop()
    statuses = Counter(st for st, _ in load.rejected)
    assert set(statuses) <= {503}, statuses
    assert statuses[503] > 0, "the outage was visible as 503s"
    assert load.retry_after_bad == []
    H.wait_until(lambda: server.api("GET", "/ready", auth=False).status_code == 200, timeout=20, what="/ready again")
    assert missing_events(server, load.acked) == []
    assert int(server.issue_of(load.acked[0])["count"]) >= len(load.acked)


@pytest.mark.skipif(not os.environ.get("PIT_TEST_POSTGRES_DIR"), reason="PIT_TEST_POSTGRES_DIR is not set")
def test_queued_ack_events_are_held_through_a_database_outage(pg_factory):
    """ack=queued answers before the commit: what it answered must still be stored when the
    database comes back, not dropped with the batch that failed."""
    server = pg_factory(env={"PIT_ACK": "queued"})
    server.send_event({"message": "before the outage"})
    postgres_ctl("stop")
    try:
        ids = [server.send_event({"message": f"during the outage {n}", "fingerprint": ["outage"]}) for n in range(20)]
    finally:
        postgres_ctl("start")
    H.wait_until(lambda: server.api("GET", "/ready", auth=False).status_code == 200, timeout=30, what="/ready again")
    H.wait_until(lambda: missing_events(server, ids) == [], timeout=30, what="events held through the outage")
    assert int(server.issue_of(ids[0])["count"]) == 20


@pytest.mark.skipif(not os.environ.get("PIT_TEST_POSTGRES_DIR"), reason="PIT_TEST_POSTGRES_DIR is not set")
def test_idle_instance_reports_ready_again_when_the_database_returns(pg_factory):
    """A load balancer stops sending events to an instance whose /ready says 503, so /ready itself
    must notice that the database is back."""
    server = pg_factory()
    postgres_ctl("stop")
    try:
        assert server.send_event(expect=503)
        assert server.api("GET", "/ready", auth=False).status_code == 503
    finally:
        postgres_ctl("start")
    H.wait_until(lambda: server.api("GET", "/ready", auth=False).status_code == 200, timeout=30, what="/ready without new events")
    server.send_event()


def test_alerts_notify_once_across_instances(pair):
    """Both instances evaluate their own writers' commits and send from one outbox: the same new
    issue hit through both at once notifies once, and a frequency rule whose count is reached by
    events split across the instances fires once."""
    from test_alerts import Receiver

    a, b = pair
    receiver = Receiver()
    try:
        hook = a.cli("alert", "channel", "create", "--type", "webhook", "--url", receiver.url(), "--json")["id"]
        a.cli("alert", "rule", "create", "--project", a.project_id, "--when", "new-issue", "--channel", str(hook), "--json")
        a.cli("alert", "rule", "create", "--project", a.project_id, "--when", "frequency", "--count", "30", "--window", "1h",
              "--channel", str(hook), "--json")
        time.sleep(1)  # both evaluators have read the rules
        threads = []
        for server in (a, b):
            for t in range(4):
                threads.append(threading.Thread(target=lambda s=server, t=t: [s.send_event(
                    {"message": f"pair {t}/{n}", "fingerprint": ["alert-pair"], "level": "error"}) for n in range(5)]))
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        # 40 events, 20 through each instance: the shared window reaches 30 whichever instance
        # counts last, and the issue is new once.
        H.wait_until(lambda: len(receiver.delivered()) >= 2, timeout=30, what="the new-issue and frequency notifications")
        time.sleep(3)
        assert sorted(n["action"] for n in receiver.delivered()) == ["frequency", "new-issue"], receiver.delivered()
        # More events inside the cooldown: nothing more from either instance.
        for n in range(10):
            b.send_event({"message": f"pair more {n}", "fingerprint": ["alert-pair"], "level": "error"})
            a.send_event({"message": f"pair more {n}", "fingerprint": ["alert-pair"], "level": "error"})
        time.sleep(3)
        assert len(receiver.delivered()) == 2
        # Each delivery was claimed and sent by exactly one instance.
        assert len(receiver.raw()) == 2
    finally:
        receiver.close()
