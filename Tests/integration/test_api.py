"""pitd's read API, health/ready/metrics and issue status changes (raw events)."""

from __future__ import annotations

import time

import pytest

import pit_helpers as H


def test_health_ready_metrics(server):
    assert server.api("GET", "/health", auth=False).status_code == 200
    r = server.api("GET", "/ready", auth=False)
    assert r.status_code == 200, r.text
    assert isinstance(r.json(), dict), r.text
    server.send_event()
    r = server.api("GET", "/metrics", auth=False)
    assert r.status_code == 200, r.text
    lines = r.text.splitlines()
    assert any(line.startswith("# TYPE pit_") for line in lines), r.text[:3000]
    assert any(line.startswith("pit_") for line in lines), r.text[:3000]


@pytest.fixture(scope="module")
def ro_server(module_server_factory):
    """Shared by read-only tests that never store anything."""
    return module_server_factory()


@pytest.mark.parametrize("path", [
    "/api/0/projects/",
    "/api/0/projects/pit/default/issues/",
    "/api/0/projects/pit/default/events/0123456789abcdef0123456789abcdef/",
    "/api/0/issues/1/",
])
@pytest.mark.parametrize("auth", [None, "Bearer wrong-token", "Basic Zm9vOmJhcg=="])
def test_read_api_requires_admin_token(ro_server, path, auth):
    headers = {"Authorization": auth} if auth else {}
    r = ro_server.api("GET", path, auth=False, headers=headers)
    assert r.status_code == 401, f"GET {path} with {auth!r} -> {r.status_code}: {r.text[:500]}"


def test_ingest_key_is_not_an_admin_token(ro_server):
    r = ro_server.api("GET", "/api/0/projects/", headers={"Authorization": f"Bearer {ro_server.public_key}"})
    assert r.status_code == 401, r.text


def test_projects_endpoint(ro_server):
    projects = ro_server.api_json("GET", "/api/0/projects/")
    assert isinstance(projects, list) and len(projects) == 1, projects
    p = projects[0]
    assert p["id"] == "1" and p["slug"] == "default", p
    assert p["organization"]["slug"] == "pit", p
    assert "name" in p, p


def test_unknown_event_and_issue_404(ro_server):
    assert ro_server.event_status(H.new_event_id()) == 404
    r = ro_server.api("GET", "/api/0/issues/987654321/")
    assert r.status_code == 404, r.text


def test_event_roundtrip_fields(server):
    before = time.time()
    eid = H.new_event_id()
    ev_in = {
        "event_id": eid,
        "level": "warning",
        "platform": "python",
        "logger": "pit.e2e",
        "logentry": {"message": "Payment %s declined", "params": ["p-1"]},
        "tags": {"shop": "eu", "tier": "gold"},
        "user": {"id": "u-9", "email": "u9@example.com"},
        "release": "api@1.0",
        "environment": "qa",
        "fingerprint": ["payments", "declined"],
        "extra": {"amount": 12.5},
        "exception": {"values": [{"type": "PaymentError", "value": "declined",
                                  "stacktrace": {"frames": [{"function": "pay", "module": "shop.pay",
                                                             "filename": "shop/pay.py", "lineno": 10,
                                                             "in_app": True}]}}]},
    }
    server.send_event(ev_in)
    ev = server.event(eid)
    assert ev["eventID"] == eid
    assert ev.get("groupID"), H.short(ev)
    assert H.ev_tags(ev).get("shop") == "eu" and H.ev_tags(ev).get("tier") == "gold", H.short(ev)
    assert (ev.get("user") or {}).get("id") == "u-9", H.short(ev)
    assert H.ev_release(ev) == "api@1.0", H.short(ev)
    assert H.ev_environment(ev) == "qa", H.short(ev)
    assert H.ev_fingerprint(ev) == ["payments", "declined"], H.short(ev)
    assert (ev.get("logentry") or {}).get("params") == ["p-1"], H.short(ev)
    assert [e["type"] for e in H.ev_exceptions(ev)] == ["PaymentError"], H.short(ev)
    issue = server.issue(ev["groupID"])
    assert issue["level"] == "warning", issue
    assert issue["userCount"] == 1, issue
    assert issue["count"] == "1", issue
    assert abs(H.parse_timestamp(issue["firstSeen"]) - before) < 120, issue
    events = server.issue_events(issue["id"])
    assert [e["eventID"] for e in events] == [eid], events


def test_issue_status_transitions(server):
    eid = server.send_event({"message": "status me", "fingerprint": ["status-me"]})
    gid = server.event(eid)["groupID"]
    for status in ("resolved", "ignored", "unresolved"):
        updated = server.api_json("PUT", f"/api/0/issues/{gid}/", json={"status": status})
        assert updated["status"] == status, updated
        assert server.issue(gid)["status"] == status
    r = server.api("PUT", f"/api/0/issues/{gid}/", json={"status": "bogus"})
    assert r.status_code == 400, r.text
    r = server.api("PUT", f"/api/0/issues/{gid}/", auth=False, json={"status": "resolved"})
    assert r.status_code == 401, r.text
    assert server.issue(gid)["status"] == "unresolved"


def test_regression_with_raw_events(server):
    eid = server.send_event({"message": "regress me", "fingerprint": ["regress-me"]})
    gid = server.event(eid)["groupID"]
    server.api_json("PUT", f"/api/0/issues/{gid}/", json={"status": "resolved"})
    eid2 = server.send_event({"message": "regress me", "fingerprint": ["regress-me"]})
    assert server.event(eid2)["groupID"] == gid
    issue = server.issue(gid)
    assert issue["status"] == "unresolved" and issue["count"] == "2", issue
