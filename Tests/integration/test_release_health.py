"""Release health (issue 12) end to end: sessions sent by the real Python SDK in application
mode (healthy, errored, a crash through an unhandled exception) and request mode (WSGI requests
aggregated by the SDK), plus hand-made ``session``/``sessions`` envelopes in Relay's documented
shape; read back through Sentry's API shapes and the release pages (headless Chromium, with
screenshots in .build/screenshots)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import textwrap
import uuid

import pytest
import requests
from selenium.webdriver.common.by import By

import pit_helpers as H
from conftest import screenshot

RELEASE = "health-app@1.0.0"
REQUEST_RELEASE = "health-web@2.0.0"
PASSWORD = "correct horse battery staple"

APP_SCRIPT = textwrap.dedent(
    """
    import sys
    import sentry_sdk

    dsn, release, user, mode = sys.argv[1:5]
    sentry_sdk.init(dsn=dsn, release=release, environment="production", auto_session_tracking=True)
    sentry_sdk.get_isolation_scope().set_user({"id": user})
    sentry_sdk.get_isolation_scope().start_session(session_mode="application")
    if mode == "errored":
        try:
            1 / 0
        except ZeroDivisionError:
            sentry_sdk.capture_exception()
    if mode == "crash":
        raise RuntimeError("health crash")
    sentry_sdk.get_isolation_scope().end_session()
    sentry_sdk.flush(timeout=15)
    """
)

REQUEST_SCRIPT = textwrap.dedent(
    """
    import io
    import sys
    import sentry_sdk
    from sentry_sdk.integrations.wsgi import SentryWsgiMiddleware

    dsn, release, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    sentry_sdk.init(dsn=dsn, release=release, environment="production", auto_session_tracking=True)

    def app(environ, start_response):
        if environ["PATH_INFO"] == "/fail":
            raise ValueError("request failed")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    wrapped = SentryWsgiMiddleware(app)
    def call(path):
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "SERVER_NAME": "localhost", "SERVER_PORT": "80",
                   "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""), "QUERY_STRING": "", "REMOTE_ADDR": "10.0.0.1"}
        try:
            body = wrapped(environ, lambda status, headers: None)
            list(body)
            getattr(body, "close", lambda: None)()
        except ValueError:
            pass
    for i in range(count):
        call("/ok")
    call("/fail")
    sentry_sdk.flush(timeout=15)
    sentry_sdk.get_client().close(timeout=15)
    """
)


def run_sdk(script: str, *args: str, expect_failure: bool = False):
    cp = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=120)
    if expect_failure:
        assert cp.returncode != 0 and "health crash" in cp.stderr, cp.stderr
    else:
        assert cp.returncode == 0, cp.stderr


def iso(seconds_ago: float) -> str:
    t = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=seconds_ago)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def send_items(server, items):
    r = server.send(H.make_envelope({}, items))
    assert r.status == 200, r


@pytest.fixture(scope="module")
def health(module_server_factory):
    srv = module_server_factory()
    # Application mode: 4 users; u1 healthy twice, u2 errored, u3 crashed, u4 healthy.
    for user, mode in (("u1", "ok"), ("u1", "ok"), ("u2", "errored"), ("u4", "ok")):
        run_sdk(APP_SCRIPT, srv.dsn, RELEASE, user, mode)
    run_sdk(APP_SCRIPT, srv.dsn, RELEASE, "u3", "crash", expect_failure=True)
    # Request mode through the SDK's WSGI middleware: 5 good requests and a failing one.
    run_sdk(REQUEST_SCRIPT, srv.dsn, REQUEST_RELEASE, "5")
    # Hand-made, Relay's shapes: an aggregate, a too-old bucket, and sessions Relay drops.
    send_items(srv, [
        ({"type": "sessions"}, {"attrs": {"release": REQUEST_RELEASE, "environment": "production"},
                                "aggregates": [{"started": iso(120), "did": "agg-user", "exited": 3, "errored": 1, "crashed": 1},
                                               {"started": iso(6 * 86400), "exited": 50}]}),
        ({"type": "session"}, {"sid": str(uuid.uuid4()), "started": iso(60), "status": "exited"}),
        ({"type": "session"}, {"sid": str(uuid.uuid4()), "started": iso(6 * 86400), "status": "crashed",
                               "attrs": {"release": RELEASE}}),
        ({"type": "session"}, {"sid": str(uuid.uuid4()), "started": iso(-3600), "status": "crashed",
                               "attrs": {"release": RELEASE}}),
    ])
    # One session updated step by step: ok, then errored twice, then crashed, then a late
    # "exited" that must change nothing.
    sid = str(uuid.uuid4())
    for status, errors in (("ok", 0), ("ok", 1), ("ok", 2), ("crashed", 2), ("exited", 0)):
        send_items(srv, [({"type": "session"}, {"sid": sid, "did": "u5", "init": status == "ok" and errors == 0,
                                                "started": iso(30), "timestamp": iso(0), "status": status, "errors": errors,
                                                "duration": 12.0, "attrs": {"release": RELEASE, "environment": "production"}})])
    return srv


def release_detail(srv, version, **params):
    return srv.api_json("GET", f"/api/0/organizations/pit/releases/{version}/", params={"health": "1", **params})


def test_health_application_mode(health):
    release = release_detail(health, RELEASE)
    data = release["projects"][0]["healthData"]
    # u1 x2, u2, u4, u3 (crash) and the stepped session (u5, crash): 6 sessions, 5 users.
    assert data["hasHealthData"] is True, data
    assert data["totalSessions"] == 6, data
    assert data["sessionsCrashed"] == 2, data
    assert data["sessionsErrored"] == 1, data
    assert data["totalUsers"] == 5, data
    assert abs(data["crashFreeSessions"] - 100 * 4 / 6) < 0.01, data
    assert abs(data["crashFreeUsers"] - 100 * 3 / 5) < 0.01, data
    assert data["adoption"] is not None and 0 < data["adoption"] <= 100, data
    assert data["durationP50"] is not None and data["durationP90"] >= data["durationP50"], data
    assert len(data["stats"]["24h"]) == 24 and sum(n for _, n in data["stats"]["24h"]) == 6, data["stats"]
    for key in ("hasHealthData", "crashFreeSessions", "crashFreeUsers", "totalSessions", "totalUsers", "sessionsCrashed",
                "sessionsErrored", "adoption", "durationP50", "durationP90"):
        assert key in data, key


def test_health_request_mode(health):
    data = release_detail(health, REQUEST_RELEASE)["projects"][0]["healthData"]
    # The SDK's 6 requests (one failed) plus the hand-made bucket of 5 (1 errored, 1 crashed).
    assert data["totalSessions"] == 11, data
    assert data["sessionsCrashed"] + data["sessionsErrored"] >= 3, data
    assert data["sessionsCrashed"] >= 1, data


def test_health_release_list_and_plain_release(health):
    releases = health.api_json("GET", "/api/0/organizations/pit/releases/", params={"health": "1"})
    versions = {r["version"]: r for r in releases}
    assert RELEASE in versions and REQUEST_RELEASE in versions, list(versions)
    assert versions[RELEASE]["projects"][0]["healthData"]["totalSessions"] == 6
    plain = health.api_json("GET", f"/api/0/organizations/pit/releases/{RELEASE}/")
    assert "healthData" not in plain["projects"][0]


def test_health_sessions_api(health):
    params = [("field", "sum(session)"), ("field", "count_unique(user)"), ("groupBy", "session.status"),
              ("groupBy", "release"), ("project", str(health.project_id)), ("statsPeriod", "24h"), ("interval", "1h")]
    body = health.api_json("GET", "/api/0/organizations/pit/sessions/", params=params)
    assert len(body["intervals"]) == 24 and body["start"] and body["end"] and body["query"] == "", body
    groups = {(g["by"]["release"], g["by"]["session.status"]): g for g in body["groups"]}
    crashed = groups[(RELEASE, "crashed")]
    assert crashed["totals"] == {"sum(session)": 2, "count_unique(user)": 2}, crashed
    assert sum(crashed["series"]["sum(session)"]) == 2 and len(crashed["series"]["sum(session)"]) == 24
    assert groups[(RELEASE, "healthy")]["totals"]["sum(session)"] == 3
    assert groups[(RELEASE, "errored")]["totals"]["sum(session)"] == 1
    assert groups[(RELEASE, "abnormal")]["totals"]["sum(session)"] == 0
    total = sum(g["totals"]["sum(session)"] for (release, _), g in groups.items() if release == REQUEST_RELEASE)
    assert total == 11, groups

    rates = health.api_json("GET", "/api/0/organizations/pit/sessions/", params=[
        ("field", "crash_free_rate(session)"), ("field", "crash_free_rate(user)"), ("query", f"release:{RELEASE}"),
        ("project", str(health.project_id)), ("statsPeriod", "1d"), ("interval", "1d")])
    assert len(rates["groups"]) == 1 and rates["groups"][0]["by"] == {}, rates
    assert abs(rates["groups"][0]["totals"]["crash_free_rate(session)"] - 4 / 6) < 1e-9, rates
    assert abs(rates["groups"][0]["totals"]["crash_free_rate(user)"] - 3 / 5) < 1e-9, rates


def test_health_sessions_api_refuses(health):
    path = "/api/0/organizations/pit/sessions/"
    for params, status in (
        ([("field", "sum(transaction)")], 400),
        ([("field", "sum(session)"), ("interval", "5m")], 400),
        ([("field", "sum(session)"), ("statsPeriod", "365d"), ("interval", "1h")], 400),
        ([("field", "crash_free_rate(session)"), ("groupBy", "session.status")], 400),
        ([("field", "sum(session)"), ("project", "999")], 403),
    ):
        r = health.api("GET", path, params=params)
        assert r.status_code == status and "detail" in r.json(), (params, r.status_code, r.text)
    assert health.api("GET", path, params=[("field", "sum(session)")], auth=False).status_code == 401
    assert health.api("GET", "/api/0/organizations/other-org/sessions/", params=[("field", "sum(session)")]).status_code == 404
    token = health.api_json("POST", "/api/0/api-tokens/", expect=201, json={"name": "ro", "scopes": ["project:read"]})["token"]
    r = requests.get(health.url + path, params=[("field", "sum(session)")], headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert r.status_code == 200, r.text


def test_health_pages(health, chromium):
    cp = subprocess.run([str(health.bin), "user", "create", "ada@example.com", "--password-stdin", "--admin",
                         "--data-dir", str(health.data_dir)], input=PASSWORD + "\n", text=True, capture_output=True,
                        timeout=60)
    assert cp.returncode == 0, cp.stderr
    d = chromium
    d.delete_all_cookies()
    d.get(health.url + "/login")
    d.find_element(By.NAME, "email").send_keys("ada@example.com")
    d.find_element(By.NAME, "password").send_keys(PASSWORD)
    d.find_element(By.NAME, "password").submit()
    H.wait_until(lambda: "/login" not in d.current_url, timeout=20, what="signed in")
    d.get(health.url + "/organizations/pit/releases/")
    table = d.find_element(By.CSS_SELECTOR, "table.list").text.lower()
    assert "crash-free sessions" in table and "crash-free users" in table and "adoption" in table, table
    row = next(r for r in d.find_elements(By.CSS_SELECTOR, "table.list tbody tr") if RELEASE in r.text)
    assert "66.7%" in row.text and "60%" in row.text, row.text
    screenshot(d, "health-01-releases")
    d.get(health.url + f"/organizations/pit/releases/{RELEASE}/")
    section = d.find_element(By.CSS_SELECTOR, "section.release-health").text
    for text in ("crash-free sessions", "66.7%", "crash-free users", "60%", "errored", "abnormal", "crashed", "adoption"):
        assert text in section.lower(), (text, section)
    assert len(d.find_elements(By.CSS_SELECTOR, "section.release-health svg.chart")) == 3
    screenshot(d, "health-02-release-detail")


def test_health_hostile_sessions_are_dropped_not_fatal(server):
    """Bad session payloads cost only themselves: the envelope is answered 200 and the server
    keeps serving; only the valid session of the lot is counted."""
    huge = 10 ** 30
    items = [
        ({"type": "session"}, {"sid": "x" * 10000, "started": iso(10), "attrs": {"release": "hostile@1"}}),
        ({"type": "session"}, {"sid": "nul", "started": iso(10), "attrs": {"release": "host\u0000ile@1"}, "did": "a\u0000b",
                               "errors": huge, "duration": -5}),
        ({"type": "session"}, {"sid": [1, 2], "started": {"a": 1}, "attrs": []}),
        ({"type": "session"}, {"sid": "n", "started": huge, "attrs": {"release": "hostile@1"}}),
        ({"type": "session"}, {"sid": "t", "started": "not a time", "attrs": {"release": "hostile@1"}}),
        ({"type": "sessions"}, {"attrs": {"release": "hostile@1"}, "aggregates": [{"started": iso(10), "exited": 2 ** 40,
                                                                                    "errored": -1}] * 100}),
        ({"type": "sessions"}, {"attrs": {"release": "hostile@1"}, "aggregates": "nope"}),
        ({"type": "session"}, b"[" * 100 + b"]" * 100),
    ]
    items += [({"type": "session"}, {"sid": f"s{i}", "started": iso(10), "status": "bogus", "attrs": {"release": "hostile@1"}})
              for i in range(80)]
    r = server.send(H.make_envelope({}, items))
    assert r.status == 200, r
    assert server.health_ok()
    data = server.api_json("GET", "/api/0/organizations/pit/releases/hostile@1/", params={"health": "1"})
    health = data["projects"][0]["healthData"]
    # The NUL release is stored without its NUL (the one valid session); the 100 buckets count
    # at most u32 each (Relay's type), negative counts as none.
    assert health["totalSessions"] == 1 + 100 * (2 ** 32 - 1), health
    assert health["sessionsErrored"] == 0, health
    # Invalid JSON is refused as for any JSON item.
    assert server.send(H.make_envelope({}, [({"type": "session"}, b"{not json")])).status == 400
