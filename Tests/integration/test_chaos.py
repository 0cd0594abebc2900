"""Chaos, in short: pitd killed with -9 again and again under load and started on the same port
while the senders keep reconnecting; the data directory's file system running full (a real
ENOSPC, not the free-disk guard) and getting space back without a restart. The long versions
are scripts/chaos-soak and scripts/disk-full-soak (results/*-chaos-*, *-disk-full)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time

import pytest

import pit_helpers as H
from test_durability import Load, missing_events

KILL_CYCLES = 4
LOAD_BETWEEN_KILLS = 1.5


def integrity(srv) -> str:
    db = sqlite3.connect(str(srv.data_dir / "pit.sqlite"))
    try:
        return db.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        db.close()


def test_repeated_kill9_with_restart_under_load_loses_nothing(server_factory, backend):
    srv = server_factory({"PIT_ACK": "committed"})
    load = Load(srv, "chaos-kill9", senders=8).start()
    acked_at_kill = []
    for _ in range(KILL_CYCLES):
        time.sleep(LOAD_BETWEEN_KILLS)
        with load.lock:
            acked_at_kill.append(len(load.acked))
        srv.kill9()
        # Same port: the senders' reconnects reach the new process, as clients of a restarted
        # service would.
        srv.start(port=srv.port)
    time.sleep(LOAD_BETWEEN_KILLS)
    load.stop()

    counts = acked_at_kill + [len(load.acked)]
    assert all(b > a for a, b in zip(counts, counts[1:])), f"ingest did not resume after every restart: {counts}"
    other = [(s, r) for s, r in load.rejected if s != 503]
    assert not other, f"answers other than 200/503 across kill -9 and restart: {other[:5]}"
    assert not load.retry_after_bad, f"503 without integer Retry-After: {load.retry_after_bad[:3]}"
    missing = missing_events(srv, load.acked)
    assert not missing, (f"{len(missing)}/{len(load.acked)} acknowledged events lost over {KILL_CYCLES} kill -9 "
                         f"cycles, e.g. {missing[:5]}")
    srv.stop()
    if backend == "sqlite":
        assert integrity(srv) == "ok"


def test_disk_full_answers_503_and_recovers_when_space_returns(server_factory, backend, tmp_path):
    if backend != "sqlite":
        pytest.skip("the file system that fills is SQLite's data directory")
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mnt = tmp_path / "small"
    mnt.mkdir()
    cp = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if cp.returncode != 0:
        pytest.skip(f"cannot mount tmpfs: {cp.stderr.strip()}")
    srv = None
    try:
        # The guard off, so SQLite itself runs into ENOSPC.
        srv = server_factory({"PIT_ACK": "committed", "PIT_MIN_FREE_DISK_BYTES": "0"}, data_dir=mnt / "data", start=False)
        # The log stays outside: refused requests are logged, and a log on the full disk would
        # keep it full.
        srv.log_path = tmp_path / "pitd-disk-full.log"
        srv.start()
        st = os.statvfs(mnt)
        filler = mnt / "filler"
        subprocess.run(["fallocate", "-l", str(st.f_bavail * st.f_frsize - 2 * 1024 * 1024), str(filler)], check=True)

        load = Load(srv, "chaos-disk-full", senders=4).start()
        H.wait_until(lambda: any(s == 503 for s, _ in list(load.rejected)), 20, what="a 503 once the disk is full")
        time.sleep(1.0)  # stays full for a while under load
        assert srv.running, f"pitd exited on a full disk\n{srv.log_tail()}"
        filler.unlink()
        freed = time.monotonic()

        def accepted() -> bool:
            body, _ = H.event_envelope()
            return srv.send(body).status == 200

        H.wait_until(accepted, 15, what="ingest answering 200 after space returned, without a restart")
        recovered_after = time.monotonic() - freed
        time.sleep(0.5)
        load.stop()
        print(f"recovered {recovered_after:.2f}s after the filler was deleted")

        other = [(s, r) for s, r in load.rejected if s != 503]
        assert not other, f"answers other than 200/503 on a full disk: {other[:5]}"
        assert not load.retry_after_bad, f"503 without integer Retry-After: {load.retry_after_bad[:3]}"
        for _, r in load.rejected[:20]:
            assert isinstance(r.json().get("detail"), str), repr(r)
        assert srv.running
        missing = missing_events(srv, load.acked)
        assert not missing, f"{len(missing)}/{len(load.acked)} acknowledged events lost on a full disk, e.g. {missing[:5]}"
        assert srv.stop() == 0
        assert integrity(srv) == "ok"
    finally:
        if srv is not None:
            srv.stop()
        subprocess.run(["umount", str(mnt)], check=False)
