"""Minified JavaScript errors resolved through source maps uploaded with `sentry-cli sourcemaps upload`.

The upload side (chunk upload, artifact bundle assembly and its index) is the `cli` branch's; these
tests need it merged and skip, saying so, against a pitd without it. The fixture (minified bundle,
its map, the original sources and the frames they resolve to) is Tests/EngineTests/Fixtures/sourcemaps,
written by its make-fixture.py.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import pit_helpers as H
from large_bundle import large_bundle_event, write_large_bundle
from conftest import screenshot

FIXTURE = Path(__file__).resolve().parents[1] / "EngineTests" / "Fixtures" / "sourcemaps"
EXPECTED = json.loads((FIXTURE / "expected.json").read_text())
RELEASE = "fixture-app@1.0.0"
MINIFIED_URL = "http://localhost:8000/static/app.min.js"
# What resolution does is asserted with a deadline no loaded test machine reaches; the deadline
# itself has its own test below.
PATIENT = {"PIT_SOURCEMAP_RESOLVE_DEADLINE_MS": "60000"}


@pytest.fixture
def server(server_factory):
    return server_factory(env=PATIENT)


def sentry_cli_bin() -> str:
    cand = Path(sys.executable).parent / "sentry-cli"
    if cand.exists():
        return str(cand)
    found = shutil.which("sentry-cli")
    if not found:
        pytest.fail("sentry-cli not installed (pip install -r Tests/integration/requirements.txt)", pytrace=False)
    return found


def upload_fixture(server, tmp_path: Path) -> None:
    probe = server.api("GET", f"/api/0/organizations/{server.org}/chunk-upload/")
    if probe.status_code == 404:
        pytest.skip("this pitd has no artifact bundle upload (the `cli` branch) to upload source maps with")
    bundle = tmp_path / "static"
    bundle.mkdir()
    for name in ("app.min.js", "app.min.js.map"):
        shutil.copy(FIXTURE / name, bundle / name)
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
    env.update({"SENTRY_DISABLE_UPDATE_CHECK": "1", "SENTRY_LOAD_DOTENV": "0", "HOME": str(home)})
    cp = subprocess.run(
        [sentry_cli_bin(), "--url", server.url, "--auth-token", server.token, "sourcemaps", "upload",
         "--org", server.org, "--project", server.project_slug, "--release", RELEASE, "--url-prefix", "~/static",
         str(bundle)],
        capture_output=True, text=True, timeout=120, env=env)
    assert cp.returncode == 0, f"sentry-cli exited {cp.returncode}: {cp.stdout}{cp.stderr}"


def browser_event(minified_names=None, with_debug_id=True) -> dict:
    """A browser SDK's error event for the fixture's bundle: minified frames, oldest first."""
    frames = []
    for position, frame in enumerate(EXPECTED["frames"]):
        name = frame["minified"]["function"] if minified_names is None else minified_names[position]
        frames.append({"abs_path": MINIFIED_URL, "filename": MINIFIED_URL, "function": name, "lineno": 1,
                       "colno": frame["minified"]["colno"], "in_app": True})
    event = {
        "event_id": H.new_event_id(), "platform": "javascript", "level": "error", "release": RELEASE,
        "sdk": {"name": "sentry.javascript.browser", "version": "8.0.0"},
        "exception": {"values": [{"type": "Error", "value": "config has no endpoint",
                                  "mechanism": {"type": "onerror", "handled": False},
                                  "stacktrace": {"frames": frames}}]},
    }
    if with_debug_id:
        event["debug_meta"] = {"images": [{"type": "sourcemap", "code_file": MINIFIED_URL,
                                           "debug_id": EXPECTED["debug_id"]}]}
    return event


def exception_of(event: dict) -> dict:
    values = event["exception"]["values"]
    return values[0]


def test_minified_error_is_resolved_and_grouped_by_original_source(server, tmp_path):
    upload_fixture(server, tmp_path)
    # By debug id; then another build (other minified names) by release + URL only.
    first = server.send_event(browser_event())
    second = server.send_event(browser_event(minified_names=["?", "q", "r", "s"], with_debug_id=False))

    event = server.event(first)
    exception = exception_of(event)
    frames = exception["stacktrace"]["frames"]
    for frame, want in zip(frames, EXPECTED["frames"]):
        original = want["original"]
        assert frame["abs_path"] == original["abs_path"], H.short(frame)
        assert frame["lineno"] == original["lineno"], H.short(frame)
        assert frame["colno"] == original["colno"], H.short(frame)
        assert frame["function"] == original["function"], H.short(frame)
        assert frame["context_line"] == original["context_line"], H.short(frame)
    assert frames[-1]["data"]["resolved_with"] == "debug-id"
    raw = exception["raw_stacktrace"]["frames"]
    assert [f["function"] for f in raw] == [f["minified"]["function"] for f in EXPECTED["frames"]]
    assert "parseConfig" in event["culprit"], event["culprit"]

    other = server.event(second)
    assert exception_of(other)["stacktrace"]["frames"][-1]["data"]["resolved_with"] == "release"
    assert other["groupID"] == event["groupID"], "both builds group by their original frames"
    assert len(server.issues()) == 1


def test_event_page_toggles_original_and_minified_frames(server, tmp_path, chromium):
    upload_fixture(server, tmp_path)
    event_id = server.send_event(browser_event())
    from selenium.webdriver.common.by import By

    H.browser_sign_in(chromium, server)
    chromium.get(f"{server.url}/organizations/{server.org}/projects/{server.project_slug}/events/{event_id}/")
    original = chromium.find_element(By.CSS_SELECTOR, ".original-frames")
    minified = chromium.find_element(By.CSS_SELECTOR, ".minified-frames")
    assert original.is_displayed() and not minified.is_displayed()
    assert "parseConfig" in original.text and "app.js" in original.text
    screenshot(chromium, f"sourcemaps-original-{server.backend}")
    chromium.find_element(By.CSS_SELECTOR, "label[for$='-minified']").click()
    assert minified.is_displayed() and not original.is_displayed()
    assert "app.min.js" in minified.text
    screenshot(chromium, f"sourcemaps-minified-{server.backend}")


def test_event_page_shows_a_stored_raw_stacktrace_behind_the_toggle(server, chromium):
    """The page's toggle alone, on an event that carries both stacks as stored (no upload needed)."""
    event = browser_event(with_debug_id=False)
    event["release"] = "no-artifacts@1"
    exception = exception_of(event)
    exception["raw_stacktrace"] = exception["stacktrace"]
    exception["stacktrace"] = {"frames": [
        {"abs_path": f["original"]["abs_path"], "filename": "/src/app.js", "function": f["original"]["function"],
         "lineno": f["original"]["lineno"], "colno": f["original"]["colno"], "context_line": f["original"]["context_line"],
         "in_app": True}
        for f in EXPECTED["frames"]]}
    event_id = server.send_event(event)
    stored = exception_of(server.event(event_id))
    assert [f["function"] for f in stored["raw_stacktrace"]["frames"]] == ["?", "i", "f", "c"]
    from selenium.webdriver.common.by import By

    H.browser_sign_in(chromium, server)
    chromium.get(f"{server.url}/organizations/{server.org}/projects/{server.project_slug}/events/{event_id}/")
    original = chromium.find_element(By.CSS_SELECTOR, ".original-frames")
    minified = chromium.find_element(By.CSS_SELECTOR, ".minified-frames")
    assert original.is_displayed() and not minified.is_displayed()
    assert "parseConfig" in original.text
    screenshot(chromium, f"sourcemaps-toggle-original-{server.backend}")
    chromium.find_element(By.CSS_SELECTOR, "label[for$='-minified']").click()
    assert minified.is_displayed() and not original.is_displayed()
    assert "app.min.js" in minified.text
    screenshot(chromium, f"sourcemaps-toggle-minified-{server.backend}")


def _metric(server, name: str) -> float:
    text = server.api("GET", "/metrics", auth=False).text
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name) and not line.startswith("#"))


def test_past_the_deadline_the_event_is_acknowledged_at_once_and_written_resolved(server_factory, tmp_path):
    """With `sourcemap_resolve_deadline_ms` 0 no answer waits for a map: the event is held
    durably and acknowledged, then written resolved and grouped by its original frames when its
    map is parsed, as Sentry shows an event once it is processed."""
    server = server_factory(env={"PIT_SOURCEMAP_RESOLVE_DEADLINE_MS": "0"})
    upload_fixture(server, tmp_path)
    started = time.monotonic()
    event_id = server.send_event(browser_event())
    assert time.monotonic() - started < 5

    H.wait_until(lambda: server.event_status(event_id) == 200, timeout=30, what="the held event written")
    exception = exception_of(server.event(event_id))
    assert [f["function"] for f in exception["stacktrace"]["frames"]] == [f["original"]["function"] for f in EXPECTED["frames"]]
    assert [f["function"] for f in exception["raw_stacktrace"]["frames"]] == [f["minified"]["function"] for f in EXPECTED["frames"]]
    assert _metric(server, "pit_sourcemap_late_total") == 1
    assert len(server.issues()) == 1
    assert "parseConfig" in server.issues()[0]["culprit"]


def upload_large_bundle(server, tmp_path: Path) -> str:
    """Injects debug ids into the large bundle and uploads it; returns the map's debug id."""
    bundle = tmp_path / "big"
    write_large_bundle(bundle)
    home = tmp_path / "home-big"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
    env.update({"SENTRY_DISABLE_UPDATE_CHECK": "1", "SENTRY_LOAD_DOTENV": "0", "HOME": str(home)})
    for command in (["sourcemaps", "inject", str(bundle)],
                    ["sourcemaps", "upload", "--org", server.org, "--project", server.project_slug, str(bundle)]):
        cp = subprocess.run([sentry_cli_bin(), "--url", server.url, "--auth-token", server.token, *command],
                            capture_output=True, text=True, timeout=300, env=env)
        assert cp.returncode == 0, f"sentry-cli {command[:2]} exited {cp.returncode}: {cp.stdout}{cp.stderr}"
    source_map = json.loads((bundle / "big.min.js.map").read_text())
    return source_map.get("debug_id") or source_map["debugId"]


def test_kill9_while_held_events_resolve_loses_none(server_factory, tmp_path):
    """Events acknowledged while their (large, cold) map is still being parsed survive a
    `kill -9` in the middle of it: the next run claims their holds (at start on SQLite, when
    the lease is over on PostgreSQL) and writes them resolved."""
    env = {"PIT_SOURCEMAP_RESOLVE_DEADLINE_MS": "0", "PIT_HELD_EVENT_LEASE_SECONDS": "2",
           "PIT_HELD_EVENT_SWEEP_SECONDS": "1"}
    server = server_factory(env=env)
    debug_id = upload_large_bundle(server, tmp_path)
    acked = [server.send_event(large_bundle_event(debug_id, H.new_event_id())) for _ in range(3)]
    # Stopped at once: the map's first parse takes far longer than three acknowledgements.
    os.kill(server.pid, signal.SIGSTOP)
    server.kill9()

    server.restart()
    for event_id in acked:
        H.wait_until(lambda: server.event_status(event_id) == 200, timeout=60, what=f"held event {event_id} written")
        exception = exception_of(server.event(event_id))
        frame = exception["stacktrace"]["frames"][-1]
        assert frame["abs_path"].endswith(".js") and "module" in frame["abs_path"], H.short(frame)
        assert exception["raw_stacktrace"]["frames"][-1]["function"] == "a"
    assert _metric(server, "pit_sourcemap_held_resolved_total") >= 1, "the restart's sweep wrote them"
    assert len(server.issues()) == 1
