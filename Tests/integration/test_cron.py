"""Cron monitors (issue 12) end to end: check-ins from the real Python SDK (``capture_checkin``
and the ``@monitor`` decorator with ``monitor_config``), from ``sentry-cli monitors run`` and
from Sentry's HTTP check-in endpoint; missed check-ins and timeouts found by the scheduler after
a restart with its clock moved ahead (``cron_clock_offset_seconds``), the incident issue opened
at the failure threshold and resolved at the recovery threshold; Sentry's monitor API shapes and
the monitor pages in headless Chromium (screenshots in .build/screenshots)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request
import uuid

import pytest
from selenium.webdriver.common.by import By

import pit_helpers as H
from conftest import screenshot

PASSWORD = "correct horse battery staple"
FAST = {"PIT_CRON_INTERVAL_SECONDS": "1"}

SDK_SCRIPT = textwrap.dedent(
    """
    import sys, time
    import sentry_sdk
    from sentry_sdk.crons import capture_checkin, monitor

    dsn = sys.argv[1]
    sentry_sdk.init(dsn=dsn, environment="production")
    config = {"schedule": {"type": "crontab", "value": "0 3 * * MON-FRI"}, "timezone": "Europe/Vienna",
              "checkin_margin": 5, "max_runtime": 10, "failure_issue_threshold": 2, "recovery_threshold": 3}
    check_in_id = capture_checkin(monitor_slug="nightly-report", status="in_progress", monitor_config=config)
    time.sleep(0.2)
    capture_checkin(monitor_slug="nightly-report", check_in_id=check_in_id, status="ok", duration=1.5,
                    monitor_config=config)

    @monitor(monitor_slug="Hourly Sync", monitor_config={"schedule": {"type": "interval", "value": 2, "unit": "hour"}})
    def sync(fail):
        if fail:
            raise ValueError("sync failed")

    sync(False)
    try:
        sync(True)
    except ValueError:
        pass
    sentry_sdk.flush(timeout=15)
    print(check_in_id)
    """
)


def run_sdk(*args: str) -> str:
    cp = subprocess.run([sys.executable, "-c", SDK_SCRIPT, *args], capture_output=True, text=True, timeout=120)
    assert cp.returncode == 0, cp.stderr
    return cp.stdout.strip()


def cron_url(srv, slug: str, key=None, project=None, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{srv.url}/api/{project or srv.project_id}/cron/{slug}/{key or srv.public_key}/" + (f"?{query}" if query else "")


def http_checkin(srv, slug: str, method: str = "GET", body=None, key=None, project=None, **params) -> int:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(cron_url(srv, slug, key, project, **params), data=data, method=method,
                                     headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def monitors(srv, **params):
    return {m["slug"]: m for m in srv.api_json("GET", "/api/0/organizations/pit/monitors/", params=params)}


def checkins(srv, slug, **params):
    return srv.api_json("GET", f"/api/0/organizations/pit/monitors/{slug}/checkins/", params=params)


def sentry_cli() -> str:
    for candidate in (shutil.which("sentry-cli"), "/work/main/.venv/bin/sentry-cli",
                      os.path.join(os.path.dirname(sys.executable), "sentry-cli")):
        if candidate and os.path.exists(candidate):
            return candidate
    pytest.skip("sentry-cli not installed")


def run_cli(srv, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
    env.update({"SENTRY_DSN": srv.dsn, "SENTRY_DISABLE_UPDATE_CHECK": "1", "SENTRY_LOAD_DOTENV": "0"})
    return subprocess.run([sentry_cli(), *args], capture_output=True, text=True, timeout=60, env=env)


@pytest.fixture(scope="module")
def cron(module_server_factory):
    srv = module_server_factory(env=FAST)
    run_sdk(srv.dsn)
    return srv


def test_cron_sdk_checkins(cron):
    found = H.wait_until(lambda: (lambda m: m if {"nightly-report", "hourly-sync"} <= set(m) else None)(monitors(cron)),
                         timeout=20, what="monitors from the SDK")
    nightly = found["nightly-report"]
    assert nightly["name"] == "nightly-report" and nightly["status"] == "active", nightly
    assert nightly["config"] == {"schedule_type": "crontab", "schedule": "0 3 * * MON-FRI", "checkin_margin": 5,
                                 "max_runtime": 10, "timezone": "Europe/Vienna", "failure_issue_threshold": 2,
                                 "recovery_threshold": 3}, nightly["config"]
    assert nightly["project"]["id"] == str(cron.project_id), nightly["project"]
    (env,) = nightly["environments"]
    assert env["name"] == "production" and env["status"] == "ok", env
    assert env["lastCheckIn"] and env["nextCheckIn"], env
    # 03:00 in Vienna is 01:00 or 02:00 UTC, on a weekday.
    next_run = H.parse_timestamp(env["nextCheckIn"])
    import datetime as dt
    when = dt.datetime.fromtimestamp(next_run, dt.timezone.utc)
    assert when.hour in (1, 2) and when.minute == 0 and when.weekday() < 5, when
    (checkin,) = checkins(cron, "nightly-report")
    assert checkin["status"] == "ok" and checkin["duration"] == 1500 and checkin["environment"] == "production", checkin
    for key in ("id", "status", "duration", "dateCreated", "environment", "expectedTime"):
        assert key in checkin, key

    hourly = found["hourly-sync"]
    assert hourly["config"]["schedule_type"] == "interval" and hourly["config"]["schedule"] == [2, "hour"], hourly
    statuses = [c["status"] for c in checkins(cron, "hourly-sync")]
    assert statuses == ["error", "ok"], statuses
    assert hourly["environments"][0]["status"] == "error"


def test_cron_http_endpoint(cron):
    config = {"schedule": {"type": "crontab", "value": "@hourly"}, "checkin_margin": 1, "max_runtime": 5}
    assert http_checkin(cron, "http-job", "POST", body={"status": "ok", "monitor_config": config}) == 202
    check_in_id = uuid.uuid4().hex
    assert http_checkin(cron, "http-job", status="in_progress", check_in_id=check_in_id, environment="staging") == 202
    assert http_checkin(cron, "http-job", status="ok", check_in_id=check_in_id, environment="staging", duration="2.5") == 202
    # A finished check-in is final.
    assert http_checkin(cron, "http-job", status="error", check_in_id=check_in_id, environment="staging") == 202
    # Sentry's curl recipe, without ids: the ok completes the run the in_progress started.
    assert http_checkin(cron, "http-job", status="in_progress", environment="curl") == 202
    assert http_checkin(cron, "http-job", status="ok", environment="curl") == 202
    # Unknown monitor without a config: accepted and dropped, as Sentry does.
    assert http_checkin(cron, "nobody-knows", status="ok") == 202
    # Refusals: bad status, bad key, wrong project, not a number.
    assert http_checkin(cron, "http-job", status="exploded") == 400
    assert http_checkin(cron, "http-job", status="ok", key="0" * 32) in (401, 403)
    assert http_checkin(cron, "http-job", status="ok", project="999") in (401, 403)
    assert http_checkin(cron, "http-job", status="ok", project="abc") == 400
    assert http_checkin(cron, "http-job", "POST", body={"status": "ok", "monitor_config": {"schedule": {"type": "crontab",
                                                                                                       "value": "61 * * * *"}}}) == 400

    def ready():
        found = monitors(cron).get("http-job")
        return found if found and len(found["environments"]) == 3 else None
    job = H.wait_until(ready, timeout=20, what="http-job with three environments")
    assert job["config"]["schedule"] == "@hourly" and job["config"]["checkin_margin"] == 1, job
    assert "nobody-knows" not in monitors(cron)
    staging = checkins(cron, "http-job", environment="staging")
    assert [(c["status"], c["duration"]) for c in staging] == [("ok", 2500)], staging
    assert {e["name"]: e["status"] for e in job["environments"]} == {"production": "ok", "staging": "ok", "curl": "ok"}
    (curl,) = checkins(cron, "http-job", environment="curl")
    assert curl["status"] == "ok" and curl["duration"] is not None, curl


def test_cron_sentry_cli_monitors_run(cron):
    ok = run_cli(cron, "monitors", "run", "-s", "*/5 * * * *", "cli-job", "--", "true")
    assert ok.returncode == 0, ok.stderr
    failed = run_cli(cron, "monitors", "run", "-s", "*/5 * * * *", "cli-job", "--", "false")
    assert failed.returncode != 0
    found = H.wait_until(lambda: (lambda c: c if len(c) == 2 and all(x["status"] != "in_progress" for x in c) else None)(
        checkins(cron, "cli-job") if "cli-job" in monitors(cron) else []), timeout=20, what="cli-job check-ins")
    assert [c["status"] for c in found] == ["error", "ok"], found
    assert all(c["duration"] is not None for c in found), found
    job = monitors(cron)["cli-job"]
    assert job["config"]["schedule"] == "*/5 * * * *", job


def test_cron_api_scoping_and_pagination(cron):
    for i in range(5):
        assert http_checkin(cron, "paged", "POST", body={"status": "ok", "check_in_id": uuid.uuid4().hex,
                                                         "monitor_config": {"schedule": {"type": "interval", "value": 1,
                                                                                         "unit": "day"}}}) == 202
    H.wait_until(lambda: len(checkins(cron, "paged")) == 5 if "paged" in monitors(cron) else False, timeout=20,
                 what="5 check-ins")
    r = cron.api("GET", "/api/0/organizations/pit/monitors/paged/checkins/", params={"limit": 2})
    assert r.status_code == 200 and len(r.json()) == 2 and 'rel="next"' in r.headers.get("Link", ""), r.headers
    cursor = r.headers["Link"].split('cursor="')[1].split('"')[0]
    seen = [c["id"] for c in r.json()]
    while cursor:
        r = cron.api("GET", "/api/0/organizations/pit/monitors/paged/checkins/", params={"limit": 2, "cursor": cursor})
        assert r.status_code == 200, r.text
        seen += [c["id"] for c in r.json()]
        link = r.headers.get("Link", "")
        cursor = link.split('cursor="')[1].split('"')[0] if 'cursor="' in link else None
    assert len(seen) == 5 and len(set(seen)) == 5, seen
    created = [c["dateCreated"] for c in checkins(cron, "paged")]
    assert created == sorted(created, reverse=True)
    assert cron.api("GET", "/api/0/organizations/pit/monitors/").status_code == 200
    assert cron.api("GET", "/api/0/organizations/pit/monitors/", auth=False).status_code == 401
    assert cron.api("GET", "/api/0/organizations/other/monitors/").status_code == 404
    assert cron.api("GET", "/api/0/organizations/pit/monitors/", params={"project": "999"}).status_code == 403
    assert cron.api("GET", "/api/0/organizations/pit/monitors/missing/checkins/").status_code == 404
    assert cron.api("GET", "/api/0/organizations/pit/monitors/paged/checkins/", params={"cursor": "x"}).status_code == 400


def sign_in(srv, d, email):
    cp = subprocess.run([str(srv.bin), "user", "create", email, "--password-stdin", "--admin",
                         "--data-dir", str(srv.data_dir)], input=PASSWORD + "\n", text=True, capture_output=True,
                        timeout=60)
    assert cp.returncode == 0, cp.stderr
    d.delete_all_cookies()
    d.get(srv.url + "/login")
    d.find_element(By.NAME, "email").send_keys(email)
    d.find_element(By.NAME, "password").send_keys(PASSWORD)
    d.find_element(By.NAME, "password").submit()
    H.wait_until(lambda: "/login" not in d.current_url, timeout=20, what="signed in")


def test_cron_missed_timeout_incident_and_recovery(server_factory, chromium):
    srv = server_factory(env=FAST)
    every_minute = {"schedule": {"type": "interval", "value": 1, "unit": "minute"}, "checkin_margin": 1,
                    "max_runtime": 1, "failure_issue_threshold": 1, "recovery_threshold": 1}
    assert http_checkin(srv, "heartbeat", "POST", body={"status": "ok", "monitor_config": every_minute}) == 202
    running = uuid.uuid4().hex
    assert http_checkin(srv, "long-job", "POST", body={"status": "in_progress", "check_in_id": running,
                                                       "monitor_config": {**every_minute, "max_runtime": 3,
                                                                          "schedule": {"type": "interval", "value": 1,
                                                                                       "unit": "day"},
                                                                          "failure_issue_threshold": 5}}) == 202
    assert [c["status"] for c in checkins(srv, "heartbeat")] == ["ok"]
    # Down for ten minutes: the scheduler, from stored state alone, finds what was missed.
    srv.restart(env={"PIT_CRON_CLOCK_OFFSET_SECONDS": "600"})

    def missed():
        found = monitors(srv)
        heartbeat = found["heartbeat"]["environments"][0]
        long_job = checkins(srv, "long-job")
        return (heartbeat, long_job) if heartbeat["status"] == "missed_checkin" and any(
            c["status"] == "timeout" for c in long_job) else None
    heartbeat, long_job = H.wait_until(missed, timeout=30, what="missed check-ins and a timeout")
    statuses = [c["status"] for c in checkins(srv, "heartbeat", limit=100)]
    assert statuses[-1] == "ok" and 5 <= statuses.count("missed") <= 11, statuses
    assert all(c["expectedTime"] for c in checkins(srv, "heartbeat") if c["status"] == "missed")
    timed_out = next(c for c in long_job if c["id"] == running)
    assert timed_out["status"] == "timeout" and timed_out["duration"] == 180000, timed_out

    def incident():
        return [i for i in srv.issues() if i["title"].startswith("Cron failure: heartbeat")]
    (issue,) = H.wait_until(incident, timeout=30, what="the incident's issue")
    assert issue["status"] == "unresolved" and issue["level"] == "error", issue
    # long-job's threshold is 5 failures: its single timeout opens nothing.
    assert not [i for i in srv.issues() if "long-job" in i["title"]]
    sign_in(srv, chromium, "ops@example.com")
    chromium.get(srv.url + "/organizations/pit/monitors/")
    assert chromium.find_elements(By.CSS_SELECTOR, "table.list .ticks .tick.missed"), "no missed tick"
    assert chromium.find_elements(By.CSS_SELECTOR, "table.list .ticks .tick.timeout"), "no timeout tick"
    screenshot(chromium, "cron-03-missed")
    chromium.get(srv.url + "/organizations/pit/monitors/heartbeat/")
    assert "missed" in chromium.find_element(By.CSS_SELECTOR, "table.checkins").text
    screenshot(chromium, "cron-04-heartbeat")

    # Back to the real time: one ok check-in (threshold 1) resolves the issue.
    srv.restart(env={"PIT_CRON_CLOCK_OFFSET_SECONDS": "0"})
    assert http_checkin(srv, "heartbeat", status="ok") == 202
    H.wait_until(lambda: srv.issue(issue["id"])["status"] == "resolved", timeout=30, what="the issue resolved")
    assert monitors(srv)["heartbeat"]["environments"][0]["status"] == "ok"


def test_cron_pages(cron, chromium):
    cp = subprocess.run([str(cron.bin), "user", "create", "cron@example.com", "--password-stdin", "--admin",
                         "--data-dir", str(cron.data_dir)], input=PASSWORD + "\n", text=True, capture_output=True,
                        timeout=60)
    assert cp.returncode == 0, cp.stderr
    H.wait_until(lambda: "hourly-sync" in monitors(cron), timeout=20, what="monitors")
    d = chromium
    d.delete_all_cookies()
    d.get(cron.url + "/login")
    d.find_element(By.NAME, "email").send_keys("cron@example.com")
    d.find_element(By.NAME, "password").send_keys(PASSWORD)
    d.find_element(By.NAME, "password").submit()
    H.wait_until(lambda: "/login" not in d.current_url, timeout=20, what="signed in")
    d.get(cron.url + "/organizations/pit/monitors/")
    table = d.find_element(By.CSS_SELECTOR, "table.list").text
    for text in ("nightly-report", "hourly-sync", "0 3 * * MON-FRI", "every 2 hours"):
        assert text in table, (text, table)
    assert d.find_elements(By.CSS_SELECTOR, "table.list .ticks .tick.ok"), "no ok tick"
    assert d.find_elements(By.CSS_SELECTOR, "table.list .ticks .tick.error"), "no error tick"
    screenshot(d, "cron-01-monitors")
    d.find_element(By.LINK_TEXT, "hourly-sync").click()
    H.wait_until(lambda: "/monitors/hourly-sync/" in d.current_url, timeout=20, what="monitor page")
    body = d.find_element(By.TAG_NAME, "main").text
    for text in ("hourly-sync", "interval", "production", "error", "ok"):
        assert text in body, (text, body)
    rows = d.find_elements(By.CSS_SELECTOR, "table.checkins tbody tr")
    assert len(rows) == 2, [r.text for r in rows]
    screenshot(d, "cron-02-monitor")
    d.get(cron.url + f"/organizations/pit/projects/{cron.project_slug}/monitors/")
    assert "nightly-report" in d.find_element(By.CSS_SELECTOR, "table.list").text


def test_cron_hostile_check_ins(cron):
    """Hand-made check_in items Relay would drop are dropped alone (the envelope is answered 200
    and its event kept); a check_in that is not JSON is a 400, as for any JSON item."""
    def envelope(checkin):
        event_id = uuid.uuid4().hex
        body = H.make_envelope({"event_id": event_id}, [
            ({"type": "event"}, {"event_id": event_id, "message": "with a hostile check-in", "level": "error"}),
            ({"type": "check_in"}, checkin),
        ])
        return event_id, cron.send(body)
    config = {"schedule": {"type": "crontab", "value": "@daily"}}
    hostile = [
        {"monitor_slug": "x" * 10_000, "status": "ok", "monitor_config": config, "environment": "e" * 10_000,
         "duration": 1e308, "check_in_id": uuid.uuid4().hex},
        {"monitor_slug": "nul\u0000slug", "status": "ok", "monitor_config": config},
        {"monitor_slug": 12, "status": "ok", "monitor_config": config},
        {"monitor_slug": "typed", "status": ["ok"], "monitor_config": config},
        {"monitor_slug": "typed", "status": "ok", "monitor_config": {"schedule": {"type": "crontab", "value": {"a": 1}}}},
        {"monitor_slug": "typed", "status": "ok", "monitor_config": {"schedule": {"type": "interval", "value": 10**30,
                                                                                  "unit": "minute"}}},
        {"monitor_slug": "typed", "status": "ok", "monitor_config": {**config, "checkin_margin": 10**12}},
        {"monitor_slug": "typed", "status": "ok", "monitor_config": {**config, "timezone": "../../etc/passwd"}},
        {"monitor_slug": "typed", "status": "missed", "monitor_config": config},
        {"monitor_slug": "deep", "status": "ok", "monitor_config": config, "contexts": json.loads("[" * 100 + "]" * 100)},
    ]
    for checkin in hostile:
        event_id, r = envelope(checkin)
        assert r.status == 200, (checkin.get("monitor_slug"), r)
        assert cron.event_status(event_id) == 200
    found = monitors(cron)
    long_slug = "x" * 50
    assert long_slug in found and "x" * 51 not in found, list(found)
    (long_env,) = found[long_slug]["environments"]
    assert len(long_env["name"]) == 64, long_env
    assert checkins(cron, long_slug)[0]["duration"] is None
    assert "nul-slug" in found and "typed" not in found, list(found)
    assert "deep" in found
    r = cron.send(H.make_envelope({}, [({"type": "check_in"}, b"{not json")]))
    assert r.status == 400, r
    # A check-in body over the item limit (100 KiB) is refused by the endpoint.
    assert http_checkin(cron, "big", "POST", body={"status": "ok", "padding": "x" * 200_000}) == 413
