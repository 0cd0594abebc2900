"""Alerts (issue 15) end to end on both back ends: channels and rules made with the CLI and the
API, events from the real Python SDK and raw envelopes, and a local webhook receiver (a Python
http.server thread) that records exactly what pitd sends: one notification for a new issue and
none for its next 100 events inside the cooldown, one for its regression after resolve, a
threshold rule firing once at N, the HMAC signature, a failing receiver retried until it
succeeds (and a restart resuming a pending delivery), a digest batching several issues, the
storm bound (the hourly ceiling plus one "and N more" notice), Slack/Discord/Mattermost payload
shapes, the delivery log in the API."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

import pit_helpers as H
from conftest import screenshot

FAST = {"PIT_ALERT_RETRY_BASE_SECONDS": "1", "PIT_ALERT_QUIET_SECONDS": "2"}


class Receiver:
    """Records every POST; answers `fail_first` of them with 500."""

    def __init__(self):
        self.requests: list = []
        self.fail_first = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    failing = receiver.fail_first > 0
                    if failing:
                        receiver.fail_first -= 1
                    receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body, "failed": failing})
                self.send_response(500 if failing else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def delivered(self, path: str = "/hook") -> list:
        with self.lock:
            return [json.loads(r["body"]) for r in self.requests if r["path"] == path and not r["failed"]]

    def raw(self, path: str = "/hook") -> list:
        with self.lock:
            return [r for r in self.requests if r["path"] == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


SDK_SCRIPT = textwrap.dedent(
    """
    import sys
    import sentry_sdk
    sentry_sdk.init(dsn=sys.argv[1], environment="production", release="shop@1.0.0")
    sentry_sdk.set_user({"id": "user-1"})
    with sentry_sdk.new_scope() as scope:
        scope.fingerprint = ["alert-e2e"]
        try:
            raise ValueError("payment failed")
        except ValueError:
            sentry_sdk.capture_exception()
    sentry_sdk.flush(timeout=15)
    """
)


def sdk_exception(server) -> None:
    cp = subprocess.run([sys.executable, "-c", SDK_SCRIPT, server.dsn], capture_output=True, text=True, timeout=60)
    assert cp.returncode == 0, cp.stderr


def same_issue_event(n: int) -> dict:
    return {"message": f"payment failed #{n}", "level": "error", "fingerprint": ["alert-e2e"], "environment": "production"}


def channel(server, *args: str) -> int:
    out = server.cli("alert", "channel", "create", *args, "--json")
    assert isinstance(out["id"], int)
    return out["id"]


def rule(server, *args: str) -> int:
    out = server.cli("alert", "rule", "create", "--project", server.project_id, *args, "--json")
    assert isinstance(out["id"], int)
    return out["id"]


def deliveries(server, channel_id: int) -> list:
    return server.api_json("GET", f"/api/0/organizations/{server.org}/alert-channels/{channel_id}/deliveries/")


def test_rules_notify_exactly_as_decided(server_factory, receiver):
    server = server_factory(env=FAST)
    hook = channel(server, "--type", "webhook", "--url", receiver.url(), "--secret", "hunter2", "--name", "ops")
    rule(server, "--when", "new-issue", "--channel", str(hook), "--level", "error", "--environment", "production")
    rule(server, "--when", "regression", "--channel", str(hook))
    rule(server, "--when", "frequency", "--count", "50", "--window", "1h", "--channel", str(hook), "--cooldown", "30m")

    sdk_exception(server)
    first = H.wait_until(lambda: receiver.delivered(), timeout=30, what="the new-issue notification")
    assert len(first) == 1
    note = first[0]
    assert note["action"] == "new-issue"
    assert note["project"]["slug"] == server.project_slug
    assert note["issue"]["title"].startswith("ValueError")
    assert note["issue"]["shortId"].endswith("-1")
    assert note["issue"]["level"] == "error"
    assert note["issue"]["url"].endswith(f"/issues/{note['issue']['id']}/")
    assert note["rule"]["name"] == "new-issue"
    assert len(note["event_id"]) == 32
    raw = receiver.raw()[0]
    expected = hmac.new(b"hunter2", raw["body"], hashlib.sha256).hexdigest()
    assert raw["headers"]["X-Pit-Signature"] == expected

    # The next 100 events of the same issue: no new-issue notification, the threshold fires once.
    for n in range(100):
        server.send_event(same_issue_event(n))
    H.wait_until(lambda: len(receiver.delivered()) >= 2, timeout=30, what="the frequency notification")
    time.sleep(2)
    actions = [n["action"] for n in receiver.delivered()]
    assert actions == ["new-issue", "frequency"], actions
    assert receiver.delivered()[1]["count"] >= 50

    # Resolved, then seen again: one regression.
    issue_id = note["issue"]["id"]
    server.api_json("PUT", f"/api/0/issues/{issue_id}/", json={"status": "resolved"})
    H.wait_until(lambda: server.issue(issue_id)["status"] == "resolved", timeout=15, what="the issue resolved")
    server.send_event(same_issue_event(1000))
    H.wait_until(lambda: len(receiver.delivered()) >= 3, timeout=30, what="the regression notification")
    time.sleep(2)
    assert [n["action"] for n in receiver.delivered()] == ["new-issue", "frequency", "regression"]

    # The delivery log: every one delivered at the first attempt, with its status code and latency.
    log = deliveries(server, hook)
    assert [d["status"] for d in log] == ["delivered"] * 3
    assert all(d["responseCode"] == 204 and d["attempts"] == 1 and d["latencyMs"] >= 0 for d in log)
    assert all(len(d["attemptLog"]) == 1 and d["attemptLog"][0]["ok"] for d in log)
    # The secret is never shown back.
    listed = server.api_json("GET", f"/api/0/organizations/{server.org}/alert-channels/")
    assert listed[0]["hasSecret"] is True and "hunter2" not in json.dumps(listed)
    assert "hunter2" not in json.dumps(server.cli("alert", "channel", "list", "--json"))


def test_failing_receiver_is_retried_and_restart_resumes(server_factory, receiver):
    server = server_factory(env=FAST)
    hook = channel(server, "--type", "webhook", "--url", receiver.url())
    rule(server, "--when", "new-issue", "--channel", str(hook))
    receiver.fail_first = 2
    server.send_event({"message": "retry me", "fingerprint": ["retry"]})
    H.wait_until(lambda: receiver.delivered(), timeout=30, what="the delivery after two failures")
    assert [r["failed"] for r in receiver.raw()] == [True, True, False]
    log = deliveries(server, hook)
    assert log[0]["status"] == "delivered" and log[0]["attempts"] == 3
    assert [a["responseCode"] for a in log[0]["attemptLog"]] == [500, 500, 204]
    assert log[0]["attemptLog"][0]["nextAttemptAt"] is not None

    # A delivery still pending when pitd stops is sent after it starts again.
    receiver.fail_first = 1000
    server.send_event({"message": "while down", "fingerprint": ["down"]})
    H.wait_until(lambda: len(receiver.raw()) >= 4, timeout=30, what="a failed attempt")
    server.stop()
    receiver.fail_first = 0
    server.start()
    H.wait_until(lambda: len(receiver.delivered()) == 2, timeout=30, what="the pending delivery after restart")
    statuses = [d["status"] for d in deliveries(server, hook)]
    assert statuses == ["delivered", "delivered"]


def test_digest_batches_several_issues(server_factory, receiver):
    server = server_factory(env=FAST)
    hook = channel(server, "--type", "webhook", "--url", receiver.url(), "--digest", "5s")
    rule(server, "--when", "new-issue", "--channel", str(hook))
    for name in ("billing", "checkout", "search"):
        server.send_event({"message": f"{name} broke", "fingerprint": [name]})
    digest = H.wait_until(lambda: receiver.delivered(), timeout=30, what="the digest")
    time.sleep(6)
    assert len(receiver.delivered()) == 1
    assert digest[0]["action"] == "digest"
    assert sorted(i["title"] for i in digest[0]["issues"]) == ["billing broke", "checkout broke", "search broke"]
    assert digest[0]["message"].startswith("3 new issues")
    log = deliveries(server, hook)
    assert sorted(d["status"] for d in log) == ["delivered", "digested", "digested", "digested"]


def test_storm_is_bounded(server_factory, receiver):
    server = server_factory(env={**FAST, "PIT_ALERT_CEILING_PER_HOUR": "20", "PIT_ALERT_QUIET_SECONDS": "5"})
    hook = channel(server, "--type", "webhook", "--url", receiver.url())
    rule(server, "--when", "new-issue", "--channel", str(hook))
    client = H.KeepAliveClient(server.host, server.port)
    try:
        for n in range(2000):
            body, _ = H.event_envelope({"message": f"storm {n % 500}", "fingerprint": [f"storm-{n % 500}"]})
            r = client.request("POST", server.envelope_path(), body, server.auth_headers())
            assert r.status == 200, r
    finally:
        client.close()
    H.wait_until(lambda: len(receiver.delivered()) >= 21, timeout=60, what="the ceiling and its notice")
    time.sleep(4)
    sent = receiver.delivered()
    assert len(sent) == 21
    assert [n["action"] for n in sent].count("new-issue") == 20
    assert sent[-1]["action"] == "suppressed" and sent[-1]["count"] == 480


def test_chat_payload_shapes_and_send_test(server_factory, receiver):
    server = server_factory(env=FAST)
    org = server.org
    ids = {}
    for kind in ("slack", "discord", "mattermost"):
        created = server.api_json(
            "POST", f"/api/0/organizations/{org}/alert-channels/", expect=201,
            json={"type": kind, "url": receiver.url(f"/{kind}"), "name": kind})
        assert created["type"] == kind and created["hasSecret"] is False
        ids[kind] = created["id"]
        rule(server, "--when", "new-issue", "--channel", created["id"])
    server.send_event({"message": "checkout <broke> & stayed", "fingerprint": ["chat"], "level": "fatal"})
    for kind in ids:
        H.wait_until(lambda: receiver.delivered(f"/{kind}"), timeout=30, what=f"the {kind} message")

    slack = receiver.delivered("/slack")[0]
    assert isinstance(slack["text"], str) and slack["text"]
    section, context = slack["blocks"]
    assert section["type"] == "section" and section["text"]["type"] == "mrkdwn"
    assert "&lt;broke&gt; &amp; stayed" in section["text"]["text"] and len(section["text"]["text"]) <= 3000
    assert context["type"] == "context" and all(e["type"] == "mrkdwn" for e in context["elements"])

    discord = receiver.delivered("/discord")[0]
    assert isinstance(discord["content"], str) and len(discord["content"]) <= 2000
    assert len(discord["embeds"]) == 1
    embed = discord["embeds"][0]
    assert len(embed["title"]) <= 256 and len(embed["description"]) <= 4096
    assert isinstance(embed["color"], int) and embed["url"].startswith("http")

    mattermost = receiver.delivered("/mattermost")[0]
    assert mattermost["text"] and mattermost["attachments"][0]["color"].startswith("#")

    # "send test" through the API and the CLI: each one message, logged.
    server.api_json("POST", f"/api/0/organizations/{org}/alert-channels/{ids['slack']}/test/", expect=202)
    server.cli("alert", "channel", "test", ids["discord"], json_out=False)
    H.wait_until(lambda: len(receiver.delivered("/slack")) == 2, timeout=30, what="the Slack test")
    H.wait_until(lambda: len(receiver.delivered("/discord")) == 2, timeout=30, what="the Discord test")
    assert receiver.delivered("/slack")[1]["text"] == "Test notification from Pit"
    assert deliveries(server, ids["slack"])[0]["action"] == "test"


def test_rules_api_in_sentry_shape(server_factory, receiver):
    server = server_factory()
    org, slug = server.org, server.project_slug
    hook = channel(server, "--type", "webhook", "--url", receiver.url())
    body = {
        "name": "Checkout errors",
        "actionMatch": "all",
        "filterMatch": "all",
        "conditions": [{"id": "sentry.rules.conditions.event_frequency.EventFrequencyCondition", "value": 10, "interval": "1h"}],
        "filters": [
            {"id": "sentry.rules.filters.level.LevelFilter", "match": "gte", "level": "40"},
            {"id": "sentry.rules.filters.tagged_event.TaggedEventFilter", "key": "area", "match": "eq", "value": "checkout"},
        ],
        "actions": [{"id": "pit.rules.actions.notify_channel.NotifyChannelAction", "channel": str(hook)}],
        "frequency": 60,
        "environment": "production",
    }
    created = server.api_json("POST", f"/api/0/projects/{org}/{slug}/rules/", expect=201, json=body)
    assert created["name"] == "Checkout errors" and created["frequency"] == 60 and created["environment"] == "production"
    assert created["conditions"] == [body["conditions"][0]]
    assert created["filters"] == body["filters"]
    assert created["actions"][0]["channel"] == str(hook) and created["projects"] == [slug]
    listed = server.api_json("GET", f"/api/0/projects/{org}/{slug}/rules/")
    assert [r["id"] for r in listed] == [created["id"]]

    body["name"] = "Renamed"
    body["conditions"] = [{"id": "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition"}]
    updated = server.api_json("PUT", f"/api/0/projects/{org}/{slug}/rules/{created['id']}/", json=body)
    assert updated["name"] == "Renamed" and updated["conditions"] == body["conditions"]

    bad = server.api("POST", f"/api/0/projects/{org}/{slug}/rules/", json={**body, "actions": [{"channel": "999"}]})
    assert bad.status_code == 404 and "does not exist" in bad.json()["detail"]
    bad = server.api("POST", f"/api/0/projects/{org}/{slug}/rules/", json={**body, "conditions": []})
    assert bad.status_code == 400 and "detail" in bad.json()

    # Another project's URL does not reach the rule.
    other = server.api_json("POST", f"/api/0/teams/{org}/default/projects/", expect=201, json={"name": "Other"})
    assert server.api("GET", f"/api/0/projects/{org}/{other['slug']}/rules/{created['id']}/").status_code == 404
    assert server.api("DELETE", f"/api/0/projects/{org}/{other['slug']}/rules/{created['id']}/").status_code == 404
    assert server.api("GET", f"/api/0/organizations/elsewhere/alert-channels/").status_code == 404

    assert server.api("DELETE", f"/api/0/projects/{org}/{slug}/rules/{created['id']}/").status_code == 202
    assert server.api_json("GET", f"/api/0/projects/{org}/{slug}/rules/") == []
    assert server.cli("alert", "rule", "list", "--json") == []
    # Email needs SMTP, which this server does not have: refused, not accepted and never sent.
    refused = server.cli("alert", "channel", "create", "--type", "email", "--to", "ops@example.com", check=False, json_out=False)
    assert refused.returncode != 0 and "not supported" in refused.stderr


def test_settings_alerts_pages(server_factory, receiver, chromium):
    server = server_factory(env=FAST)
    H.browser_sign_in(chromium, server)
    chromium.get(server.url + "/settings/alerts/")
    assert "No channels yet" in chromium.page_source

    # A channel and a rule from the forms.
    form = chromium.find_element(By.ID, "new-channel")
    Select(form.find_element(By.NAME, "type")).select_by_value("webhook")
    form.find_element(By.NAME, "name").send_keys("ops hook")
    form.find_element(By.NAME, "url").send_keys(receiver.url())
    form.find_element(By.NAME, "secret").send_keys("topsecret")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    H.wait_until(lambda: chromium.find_elements(By.ID, "alert-channels"), timeout=15, what="the channel listed")
    assert "ops hook" in chromium.find_element(By.ID, "alert-channels").text
    assert "topsecret" not in chromium.page_source
    form = chromium.find_element(By.ID, "new-rule")
    Select(form.find_element(By.NAME, "when")).select_by_value("new-issue")
    Select(form.find_element(By.NAME, "level")).select_by_value("error")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    H.wait_until(lambda: chromium.find_elements(By.ID, "alert-rules"), timeout=15, what="the rule listed")
    assert "level ≥ error" in chromium.find_element(By.ID, "alert-rules").text
    screenshot(chromium, "alerts-01-settings")

    # The rule notifies the channel; "send test" adds a second delivery; both are in the log.
    server.send_event({"message": "shown in the log", "fingerprint": ["ui"], "level": "error"})
    H.wait_until(lambda: receiver.delivered(), timeout=30, what="the notification")
    chromium.find_element(By.CSS_SELECTOR, "#alert-channels a").click()
    chromium.find_element(By.CSS_SELECTOR, "button[value=test]").click()
    H.wait_until(lambda: len(receiver.delivered()) == 2, timeout=30, what="the test notification")
    chromium.refresh()
    log = chromium.find_element(By.ID, "deliveries").text
    assert "new-issue" in log and "test" in log and "delivered" in log and "204" in log
    screenshot(chromium, "alerts-02-delivery-log")
