"""The browsing API (issue 4): tokens and scopes, accounts from the CLI, tags, releases,
project events, keys and per-key rate limits, and project isolation."""

from __future__ import annotations

import os
import subprocess

import pytest

import pit_helpers as H


def _event(message="boom", *, environment="production", release=None, tags=None, user=None, level="error",
           exc_type="ValueError"):
    event = {
        "event_id": H.new_event_id(),
        "platform": "python",
        "level": level,
        "environment": environment,
        "exception": {"values": [{"type": exc_type, "value": message,
                                  "stacktrace": {"frames": [{"function": "handler", "module": "app.views",
                                                             "filename": "app/views.py", "lineno": 10,
                                                             "in_app": True}]}}]},
    }
    if release:
        event["release"] = release
    if tags:
        event["tags"] = tags
    if user:
        event["user"] = user
    return event


def _token(server, *scopes, label="test"):
    out = server.cli("token", "create", "--label", label, "--scopes", *scopes, "--json")
    assert out["token"].startswith("pit_tok_"), out
    assert set(out["scopes"]) == set(scopes), out
    return out


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def browse(module_server_factory):
    """One server with two projects and a few grouped events."""
    srv = module_server_factory()
    a = [srv.send_event(_event("db down", environment="production", release="app@1.0", tags={"browser": "Firefox"},
                               user={"id": "7", "email": "a@example.com"})) for _ in range(3)]
    b = [srv.send_event(_event("db down", environment="staging", release="app@1.1", tags={"browser": "Chrome"},
                               user={"id": "8", "email": "b@example.com"})) for _ in range(2)]
    other = srv.send_event(_event("cache miss", exc_type="KeyError", level="warning", release="app@1.1"))
    srv.other_project = srv.api_json("POST", "/api/0/teams/pit/pit/projects/", expect=201,
                                     json={"name": "Checkout Service", "platform": "python"})
    srv.ids = {"a": a, "b": b, "other": other}
    srv.issue_id = srv.issue_of(a[0])["id"]
    return srv


def test_scopes_read_write_admin(browse):
    read = _token(browse, "read")["token"]
    write = _token(browse, "write")["token"]
    admin = _token(browse, "admin")["token"]
    issue = browse.issue_id

    assert browse.api("GET", "/api/0/projects/", headers=_bearer(read)).status_code == 200
    r = browse.api("PUT", f"/api/0/issues/{issue}/", headers=_bearer(read), json={"status": "unresolved"})
    assert r.status_code == 403 and "detail" in r.json(), r.text

    r = browse.api("PUT", f"/api/0/issues/{issue}/", headers=_bearer(write), json={"status": "unresolved"})
    assert r.status_code == 200, r.text
    r = browse.api("POST", "/api/0/projects/pit/default/keys/", headers=_bearer(write), json={"name": "x"})
    assert r.status_code == 403, r.text
    assert browse.api("GET", "/api/0/api-tokens/", headers=_bearer(write)).status_code == 403

    tokens = browse.api_json("GET", "/api/0/api-tokens/", headers=_bearer(admin))
    assert all("token" not in t for t in tokens), "a token list must never show secrets"
    assert {t["name"] for t in tokens} >= {"test"}


def test_revoked_token_is_refused_at_once(browse):
    created = _token(browse, "read", label="short-lived")
    assert browse.api("GET", "/api/0/projects/", headers=_bearer(created["token"])).status_code == 200
    browse.cli("token", "revoke", created["id"], json_out=False)
    r = browse.api("GET", "/api/0/projects/", headers=_bearer(created["token"]))
    assert r.status_code == 401, r.text
    listed = browse.cli("token", "list", "--json")
    assert any(t["id"] == created["id"] and t["revoked"] for t in listed), listed


def test_token_created_over_api_is_shown_once(browse):
    out = browse.api_json("POST", "/api/0/api-tokens/", expect=201, json={"name": "ci", "scopes": ["project:read"]})
    assert out["token"].startswith("pit_tok_") and out["scopes"] == ["read"], out
    assert browse.api("GET", "/api/0/projects/", headers=_bearer(out["token"])).status_code == 200
    r = browse.api("DELETE", f"/api/0/api-tokens/{out['id']}/")
    assert r.status_code == 204, r.text
    assert browse.api("GET", "/api/0/projects/", headers=_bearer(out["token"])).status_code == 401


def _pitd_stdin(server, args, stdin):
    # The server's own environment, so the command reaches its database (PIT_DATABASE_URL).
    return subprocess.run([str(server.bin), *args, "--data-dir", str(server.data_dir)], input=stdin, text=True,
                          capture_output=True, timeout=60, env={**os.environ, **server.env_extra})


def test_user_accounts_from_the_cli(browse):
    cp = _pitd_stdin(browse, ["user", "create", "dev@example.com", "--password-stdin"], "")
    assert cp.returncode != 0 and "no password" in cp.stderr, cp.stderr
    cp = _pitd_stdin(browse, ["user", "create", "weak@example.com", "--password-stdin"], "short\n")
    assert cp.returncode != 0 and "8 characters" in cp.stderr, cp.stderr
    cp = _pitd_stdin(browse, ["user", "create", "not-an-email", "--password-stdin"], "correct horse battery\n")
    assert cp.returncode != 0 and "email" in cp.stderr, cp.stderr
    cp = _pitd_stdin(browse, ["user", "create", "ops@example.com", "--password-stdin", "--json"], "correct horse battery\n")
    assert cp.returncode == 0, cp.stderr
    assert '"ops@example.com"' in cp.stdout
    cp = _pitd_stdin(browse, ["user", "create", "OPS@example.com", "--password-stdin"], "correct horse battery\n")
    assert cp.returncode != 0 and "already exists" in cp.stderr, "emails are case-insensitive"
    users = browse.cli("user", "list", "--json")
    assert "ops@example.com" in {u["email"] for u in users}
    assert all(not any("password" in k for k in u) for u in users)


def test_issue_tags_and_values(browse):
    tags = browse.api_json("GET", f"/api/0/issues/{browse.issue_id}/tags/")
    by_key = {t["key"]: t for t in tags}
    assert by_key["browser"]["totalValues"] == 5 and by_key["browser"]["uniqueValues"] == 2, by_key["browser"]
    top = by_key["browser"]["topValues"]
    assert [(v["value"], v["count"]) for v in top] == [("Firefox", 3), ("Chrome", 2)], top
    assert by_key["environment"]["totalValues"] == 5
    assert "user.email" in by_key and by_key["user.email"]["uniqueValues"] == 2

    # counts scoped to one environment
    staging = browse.api_json("GET", f"/api/0/issues/{browse.issue_id}/tags/", params={"environment": "staging"})
    browser = {t["key"]: t for t in staging}["browser"]
    assert [(v["value"], v["count"]) for v in browser["topValues"]] == [("Chrome", 2)], browser

    one = browse.api_json("GET", f"/api/0/issues/{browse.issue_id}/tags/browser/")
    assert one["key"] == "browser" and one["totalValues"] == 5
    values = browse.api_json("GET", f"/api/0/issues/{browse.issue_id}/tags/release/values/")
    assert {(v["value"], v["count"]) for v in values} == {("app@1.0", 3), ("app@1.1", 2)}, values
    assert browse.api("GET", f"/api/0/issues/{browse.issue_id}/tags/nope/").status_code == 404


def test_issue_search_by_user_email_tag_and_time(browse):
    hits = browse.issues("is:unresolved user.email:b@example.com")
    assert [i["id"] for i in hits] == [browse.issue_id], hits
    assert browse.issues("browser:Safari") == []
    assert [i["id"] for i in browse.issues("environment:staging browser:Chrome")] == [browse.issue_id]
    assert browse.issues("environment:staging browser:Firefox") == [], "tag terms match within the environment"
    assert len(browse.issues("lastSeen:-1h")) == 2
    r = browse.api("GET", "/api/0/projects/pit/default/issues/", params={"query": "lastSeen:-1h"})
    assert r.headers["X-Hits"] == "2" and r.headers["X-Max-Hits"] == "1000", r.headers
    r = browse.api("GET", "/api/0/projects/pit/default/issues/", params={"query": "lastSeen:yesterday"})
    assert r.status_code == 400 and "detail" in r.json()


def test_releases(browse):
    releases = browse.api_json("GET", "/api/0/organizations/pit/releases/")
    by_version = {r["version"]: r for r in releases}
    assert by_version["app@1.0"]["count"] == 3 and by_version["app@1.0"]["newGroups"] == 1, by_version["app@1.0"]
    assert by_version["app@1.1"]["count"] == 3 and by_version["app@1.1"]["newGroups"] == 1, by_version["app@1.1"]
    assert by_version["app@1.0"]["shortVersion"] == "1.0"
    detail = browse.api_json("GET", "/api/0/organizations/pit/releases/app@1.1/")
    assert detail["projects"][0]["slug"] == "default" and detail["projects"][0]["count"] == 3
    assert browse.api("GET", "/api/0/organizations/pit/releases/nope/").status_code == 404
    scoped = browse.api_json("GET", "/api/0/projects/pit/default/releases/")
    assert {r["version"] for r in scoped} == {"app@1.0", "app@1.1"}


def test_project_events_filters_and_paging(browse):
    events = browse.api_json("GET", "/api/0/projects/pit/default/events/")
    assert len(events) == 6
    staging = browse.api_json("GET", "/api/0/projects/pit/default/events/", params={"environment": "staging"})
    assert sorted(e["eventID"] for e in staging) == sorted(H.normalize_event_id(i) for i in browse.ids["b"])
    warnings = browse.api_json("GET", "/api/0/projects/pit/default/events/", params={"level": "warning"})
    assert [e["eventID"] for e in warnings] == [H.normalize_event_id(browse.ids["other"])]
    r = browse.api("GET", "/api/0/projects/pit/default/events/", params={"limit": 4})
    page = r.json()
    assert len(page) == 4 and r.links["next"]["results"] == "true"
    rest = browse.api_json("GET", "/api/0/projects/pit/default/events/", params={"cursor": r.links["next"]["cursor"]})
    assert len(rest) == 2 and not {e["eventID"] for e in rest} & {e["eventID"] for e in page}


def test_issue_event_by_id_latest_oldest(browse):
    first, last = browse.ids["a"][0], browse.ids["b"][-1]
    oldest = browse.api_json("GET", f"/api/0/issues/{browse.issue_id}/events/oldest/")
    latest = browse.api_json("GET", f"/api/0/issues/{browse.issue_id}/events/latest/")
    assert oldest["eventID"] == H.normalize_event_id(first)
    assert latest["eventID"] == H.normalize_event_id(last)
    one = browse.api_json("GET", f"/api/0/issues/{browse.issue_id}/events/{browse.ids['a'][1]}/")
    assert one["eventID"] == H.normalize_event_id(browse.ids["a"][1])
    # an event of another issue is not shown through this issue
    r = browse.api("GET", f"/api/0/issues/{browse.issue_id}/events/{browse.ids['other']}/")
    assert r.status_code == 404


def test_project_isolation(browse):
    other = browse.other_project
    assert other["slug"] == "checkout-service", other
    # the other project's URLs do not show this project's issue or events
    r = browse.api("GET", f"/api/0/projects/pit/{other['slug']}/events/{browse.ids['a'][0]}/")
    assert r.status_code == 404
    assert browse.api_json("GET", f"/api/0/projects/pit/{other['slug']}/issues/") == []
    assert browse.api_json("GET", f"/api/0/projects/pit/{other['slug']}/events/") == []
    # a bulk update through the other project's URL does not touch this project's issue
    out = browse.api_json("PUT", f"/api/0/projects/pit/{other['slug']}/issues/", params={"id": browse.issue_id},
                          json={"status": "resolved"})
    assert out["updated"] == 0
    assert browse.issue(browse.issue_id)["status"] == "unresolved"
    assert browse.api("GET", "/api/0/projects/pit/nope/issues/").status_code == 404


def test_keys_create_disable_and_rate_limit(browse):
    key = browse.api_json("POST", "/api/0/projects/pit/default/keys/", expect=201,
                          json={"name": "limited", "rateLimit": {"count": 2, "window": 60}})
    assert key["rateLimit"] == {"count": 2, "window": 60} and key["isActive"], key
    public = key["public"]
    assert key["dsn"]["public"].startswith("http://" + public + "@")
    headers = {"X-Sentry-Auth": H.sentry_auth_header(public)}

    def send():
        body, _ = H.event_envelope(_event("limited"))
        return browse.send(body, headers=headers, auth=False)

    H.wait_until(lambda: send().status == 200, timeout=10, what="new key accepted")
    statuses = [send().status for _ in range(3)]
    assert 429 in statuses, statuses
    limited = send()
    assert limited.status == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.headers["x-sentry-rate-limits"].endswith("::key:key_quota"), limited.headers

    # lift the limit, then disable the key
    updated = browse.api_json("PUT", f"/api/0/projects/pit/default/keys/{public}/", json={"rateLimit": None})
    assert updated["rateLimit"] is None
    H.wait_until(lambda: send().status == 200, timeout=10, what="limit lifted")
    assert browse.api("DELETE", f"/api/0/projects/pit/default/keys/{public}/").status_code == 204
    H.wait_until(lambda: send().status == 403, timeout=10, what="disabled key refused")
    keys = browse.api_json("GET", "/api/0/projects/pit/default/keys/")
    assert any(k["public"] == public and not k["isActive"] for k in keys)


def test_project_rename_requires_admin(browse):
    read = _token(browse, "read")["token"]
    r = browse.api("PUT", "/api/0/projects/pit/checkout-service/", headers=_bearer(read), json={"name": "X"})
    assert r.status_code == 403
    out = browse.api_json("PUT", "/api/0/projects/pit/checkout-service/", json={"name": "Checkout"})
    assert out["name"] == "Checkout" and out["slug"] == "checkout-service"


def test_stats_and_environments(browse):
    detail = browse.issue(browse.issue_id)
    series = detail["stats"]["24h"]
    # every event of the module arrived within the last two hours
    assert len(series) == 24 and sum(n for _, n in series) == int(detail["count"]), series[-3:]
    assert all(isinstance(ts, int) and ts % 3600 == 0 for ts, _ in series)
    listed = browse.api_json("GET", "/api/0/projects/pit/default/issues/", params={"groupStatsPeriod": "24h", "query": ""})
    assert all(len(i["stats"]["24h"]) == 24 for i in listed)
    assert sum(sum(n for _, n in i["stats"]["24h"]) for i in listed) == sum(int(i["count"]) for i in listed)
    received = browse.api_json("GET", "/api/0/projects/pit/default/stats/")
    assert len(received) == 24 and sum(n for _, n in received) >= 6
    new = browse.api_json("GET", "/api/0/projects/pit/default/stats/", params={"stat": "new_issues"})
    assert sum(n for _, n in new) == len(listed)
    assert browse.api("GET", "/api/0/projects/pit/default/stats/", params={"stat": "bogus"}).status_code == 400
    envs = browse.api_json("GET", "/api/0/projects/pit/default/environments/")
    assert [e["name"] for e in envs] == ["production", "staging"], envs
