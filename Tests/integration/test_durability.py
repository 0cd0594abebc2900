"""Acknowledged means durable: crash (kill -9) and graceful (SIGTERM) variants."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

import pit_helpers as H

ENVELOPE_CT = "application/x-sentry-envelope"
SENDERS = 16
LOAD_SECONDS = 2.0
MAX_RUN_SECONDS = 30.0      # hard bound on the load loop
MAX_EVENTS_PER_THREAD = 20_000


class Load:
    """16 keep-alive sender threads posting distinct events until stopped."""

    def __init__(self, server, fingerprint: str, senders: int = SENDERS):
        self.server = server
        self.host, self.port = server.host, server.port
        self.path = server.envelope_path()
        self.headers = {"Content-Type": ENVELOPE_CT, **server.auth_headers()}
        self.fingerprint = fingerprint
        self.stop_flag = threading.Event()
        self.lock = threading.Lock()
        self.acked: list = []
        self.rejected: list = []       # (status, response) other than 200
        self.retry_after_bad: list = []
        self.conn_errors = 0
        self.threads = [threading.Thread(target=self._run, args=(t,), daemon=True) for t in range(senders)]

    def _run(self, t: int):
        client = H.KeepAliveClient(self.host, self.port, timeout=30)
        deadline = time.monotonic() + MAX_RUN_SECONDS
        try:
            for n in range(MAX_EVENTS_PER_THREAD):
                if self.stop_flag.is_set() or time.monotonic() > deadline:
                    return
                i = H.new_event_id()
                body = H.make_envelope({"event_id": i}, [({"type": "event"}, {
                    "event_id": i, "message": f"durable {t}/{n}", "level": "error",
                    "fingerprint": [self.fingerprint], "extra": {"thread": t, "n": n},
                })])
                try:
                    r = client.request("POST", self.path, body, self.headers)
                except Exception:
                    with self.lock:
                        self.conn_errors += 1
                    if self.stop_flag.wait(0.02):
                        return
                    continue
                with self.lock:
                    if r.status == 200:
                        self.acked.append(i)
                    else:
                        self.rejected.append((r.status, r))
                        if r.status == 503:
                            ra = r.header("Retry-After")
                            if ra is None or not ra.strip().isdigit():
                                self.retry_after_bad.append(r)
                if r.status == 503:
                    time.sleep(0.01)
        finally:
            client.close()

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self):
        self.stop_flag.set()
        for t in self.threads:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in self.threads), "sender threads hung"
        statuses: dict = {}
        for st, _ in self.rejected:
            statuses[st] = statuses.get(st, 0) + 1
        print(f"load: acked={len(self.acked)} rejected={statuses} connection_errors={self.conn_errors}")


def missing_events(server, ids, workers: int = 8) -> list:
    """Per-id GET of every event (parallel, keep-alive); returns ids not readable."""
    ids = list(ids)
    headers = {"Authorization": f"Bearer {server.token}"}
    local = threading.local()

    def check(i):
        s = getattr(local, "s", None)
        if s is None:
            s = local.s = requests.Session()
        r = s.get(server.url + server.event_path(i), headers=headers, timeout=30)
        return None if r.status_code == 200 else (i, r.status_code, r.text[:200])

    with ThreadPoolExecutor(max_workers=workers) as ex:
        return [m for m in ex.map(check, ids) if m is not None]


def issue_count_for(server, fingerprint_event_id) -> int:
    return int(server.issue_of(fingerprint_event_id)["count"])


def test_kill9_mid_load_loses_no_acknowledged_event(server_factory):
    srv = server_factory({"PIT_ACK": "committed"})
    load = Load(srv, "durability-kill9").start()
    time.sleep(LOAD_SECONDS)
    srv.kill9()
    load.stop()
    assert not load.rejected, f"non-200 answers before the crash: {load.rejected[:5]}"
    assert len(load.acked) >= 50, f"only {len(load.acked)} events acknowledged in {LOAD_SECONDS}s"

    srv.restart()
    missing = missing_events(srv, load.acked)
    assert not missing, (f"{len(missing)}/{len(load.acked)} acknowledged events lost after kill -9, "
                         f"e.g. {missing[:5]}")
    count = issue_count_for(srv, load.acked[0])
    assert count >= len(load.acked), f"issue count {count} < {len(load.acked)} acknowledged"
    srv.send_event()  # and it still ingests


def test_sigterm_mid_load_stores_everything_acknowledged(server_factory):
    srv = server_factory({"PIT_ACK": "committed"})
    load = Load(srv, "durability-sigterm").start()
    time.sleep(LOAD_SECONDS)
    t0 = time.monotonic()
    rc = srv.stop(timeout=15)
    took = time.monotonic() - t0
    load.stop()
    assert rc == 0, f"pitd exited with {rc} on SIGTERM (took {took:.1f}s); expected a clean exit 0"
    assert took < 15, f"graceful shutdown took {took:.1f}s"
    bad = [(s, r) for s, r in load.rejected if s != 503]
    assert not bad, f"unexpected answers during shutdown: {bad[:5]}"
    assert len(load.acked) >= 50, f"only {len(load.acked)} acknowledged"

    srv.restart()
    missing = missing_events(srv, load.acked)
    assert not missing, f"{len(missing)}/{len(load.acked)} acknowledged events lost after SIGTERM, e.g. {missing[:5]}"
    assert issue_count_for(srv, load.acked[0]) >= len(load.acked)


def test_queued_ack_full_queue_503_and_drain_on_sigterm(server_factory):
    """ack=queued with a tiny queue: answers are 200 or 503 + integer Retry-After;
    everything answered 200 is stored, also across a SIGTERM right after the load."""
    srv = server_factory({"PIT_ACK": "queued", "PIT_QUEUE_MAX_EVENTS": "2", "PIT_INGEST_BATCH_SIZE": "1"})
    ready = srv.api("GET", "/ready", auth=False)
    assert ready.status_code == 200, ready.text
    load = Load(srv, "durability-queued").start()
    time.sleep(LOAD_SECONDS)
    load.stop()
    rc = srv.stop(timeout=15)
    assert rc == 0, f"pitd exited with {rc} on SIGTERM"
    other = [(s, r) for s, r in load.rejected if s != 503]
    assert not other, f"answers other than 200/503: {other[:5]}"
    assert not load.retry_after_bad, f"503 without integer Retry-After: {load.retry_after_bad[:3]}"
    for status, r in load.rejected[:20]:
        doc = r.json()
        assert isinstance(doc.get("detail"), str), repr(r)
    assert load.acked, "nothing was acknowledged"

    srv.restart()
    missing = missing_events(srv, load.acked)
    assert not missing, (f"{len(missing)}/{len(load.acked)} events acknowledged with ack=queued were lost "
                         f"across SIGTERM, e.g. {missing[:5]}")
