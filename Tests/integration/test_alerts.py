"""Alerts (issue 15) end to end on both back ends: channels and rules made with the CLI and the
API, events from the real Python SDK and raw envelopes, and a local webhook receiver (a Python
http.server thread) that records exactly what pitd sends: one notification for a new issue and
none for its next 100 events inside the cooldown, one for its regression after resolve, a
threshold rule firing once at N, the HMAC signature, a failing receiver retried until it
succeeds (and a restart resuming a pending delivery), a digest batching several issues, the
storm bound (the hourly ceiling plus one "and N more" notice), Slack/Discord/Mattermost payload
shapes, the delivery log in the API. Email channels against an aiosmtpd sink in this process:
STARTTLS with AUTH and a certificate trusted through smtp_ca_file, implicit TLS, an untrusted
certificate refused, a 554 retried and logged, a digest, the Settings → Alerts form."""

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
    # The receiver has the body before pitd records the attempt's answer.
    H.wait_until(lambda: deliveries(server, hook)[0]["status"] == "delivered", timeout=15,
                 what="the delivery recorded as delivered")
    log = deliveries(server, hook)
    assert log[0]["attempts"] == 3
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
    # The receiver has the body before pitd records the attempt's answer.
    H.wait_until(lambda: [d["status"] for d in deliveries(server, hook)] == ["delivered", "delivered"], timeout=15,
                 what="both deliveries recorded as delivered")


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
    # Email needs SMTP, which this server has not been given: refused, not accepted and never sent.
    refused = server.cli("alert", "channel", "create", "--type", "email", "--to", "ops@example.com", check=False, json_out=False)
    assert refused.returncode != 0 and "need an SMTP server" in refused.stderr


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

    # A crash-free-rate rule and a monitor-failure rule from the same form, and a project ceiling.
    chromium.get(server.url + "/settings/alerts/")
    form = chromium.find_element(By.ID, "new-rule")
    Select(form.find_element(By.NAME, "when")).select_by_value("crash-free-rate")
    form.find_element(By.NAME, "below").send_keys("99.5")
    form.find_element(By.NAME, "window").send_keys("1h")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    H.wait_until(lambda: "below 99.5 % over 1 h" in chromium.find_element(By.ID, "alert-rules").text, timeout=15,
                 what="the crash-free rule listed")
    form = chromium.find_element(By.ID, "new-rule")
    Select(form.find_element(By.NAME, "when")).select_by_value("monitor-failure")
    form.find_element(By.NAME, "monitor").send_keys("nightly")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    H.wait_until(lambda: "monitor.slug = nightly" in chromium.find_element(By.ID, "alert-rules").text, timeout=15,
                 what="the monitor rule listed")
    form = chromium.find_element(By.ID, "set-ceiling")
    form.find_element(By.NAME, "per_hour").send_keys("25")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    H.wait_until(lambda: "25 (own)" in chromium.find_element(By.ID, "alert-ceilings").text, timeout=15, what="the ceiling")
    assert server.cli("alert", "ceiling", "--project", server.project_id, "--json")["per_hour"] == 25
    screenshot(chromium, "alerts-03-rules-and-ceiling")


# --- Email channels over SMTP, received by an aiosmtpd sink in this process ---------------------

import datetime
import email
import email.policy
import ipaddress
import re
import socket
import ssl

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


class SMTPSink:
    """Keeps every message it accepts; refuses the first `fail_first` at DATA with 554."""

    def __init__(self):
        self.messages: list = []
        self.refused = 0
        self.fail_first = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.fail_first > 0:
                self.fail_first -= 1
                self.refused += 1
                return "554 5.3.0 sink refuses this one"
            self.messages.append({
                "mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos),
                "message": email.message_from_bytes(envelope.original_content, policy=email.policy.default),
                "raw": envelope.original_content,
                "login": session.auth_data.login if session.authenticated and session.auth_data else None,
                # session.ssl is set by STARTTLS; an implicit TLS connection shows on the transport.
                "tls": session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None,
            })
        return "250 2.0.0 queued"

    def received(self) -> list:
        with self.lock:
            return list(self.messages)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def self_signed(tmp_path) -> tuple:
    """A certificate for 127.0.0.1 that pitd is told to trust with smtp_ca_file."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pit test smtp")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "smtp-cert.pem", tmp_path / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_path, key_path


SMTP_USER, SMTP_PASSWORD = "pit-alerts", "correct horse battery"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == SMTP_USER.encode() and auth_data.password == SMTP_PASSWORD.encode()
    return AuthResult(success=ok, auth_data=auth_data if ok else None)


def email_server(server_factory, smtp: dict, env: dict):
    """A pitd with SMTP settings in its pit.json (the password stays out of every command line and environment)."""
    server = server_factory(env=env, start=False)
    config_path = server.data_dir / "pit.json"
    config = json.loads(config_path.read_text()) if config_path.exists() else {}
    config.update(smtp)
    config_path.write_text(json.dumps(config))
    server.start()
    return server


def parts(message) -> dict:
    return {p.get_content_type(): p.get_content() for p in message.iter_parts()}


def test_email_channel_over_starttls_with_auth(server_factory, tmp_path):
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    sink = SMTPSink()
    port = _free_port()
    controller = Controller(
        sink, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
        authenticator=authenticate, auth_require_tls=True)
    controller.start()
    try:
        server = email_server(server_factory, {
            "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "starttls", "smtp_username": SMTP_USER,
            "smtp_password": SMTP_PASSWORD, "smtp_from": "alerts@pit.test", "smtp_ca_file": str(cert),
        }, FAST)
        mail = channel(server, "--type", "email", "--to", "ops@example.com", "--name", "on-call")
        rule(server, "--when", "new-issue", "--channel", str(mail))
        sdk_exception(server)
        H.wait_until(lambda: sink.received(), timeout=30, what="the new-issue email")
        time.sleep(2)
        received = sink.received()
        assert len(received) == 1
        got = received[0]
        assert got["tls"] and got["login"] == SMTP_USER.encode()
        assert got["mail_from"] == "alerts@pit.test" and got["rcpt_tos"] == ["ops@example.com"]
        message = got["message"]
        assert message["To"] == "ops@example.com" and message["From"] == "alerts@pit.test"
        assert message["Message-ID"].startswith("<") and message["Date"]
        assert message.get_content_type() == "multipart/alternative"
        issues = server.api_json("GET", f"/api/0/projects/{server.org}/{server.project_slug}/issues/")
        assert len(issues) == 1
        issue = issues[0]
        assert str(message["Subject"]) == f"[{issue['shortId']}] New issue in {server.project_slug}: {issue['title']}"
        body = parts(message)
        assert set(body) == {"text/plain", "text/html"}
        link = f"{server.url}/organizations/{server.org}/issues/{issue['id']}/"
        assert f"Open the issue: {link}" in body["text/plain"]
        assert f'<a href="{link}">' in body["text/html"]
        assert issue["title"].replace("'", "&#39;") in body["text/html"] or issue["title"] in body["text/html"]

        # A title that is not ASCII: an RFC 2047 subject that decodes back to it.
        server.send_event({"message": "Zahlung fehlgeschlagen — Überweisung ✓", "fingerprint": ["unicode"]})
        H.wait_until(lambda: len(sink.received()) == 2, timeout=30, what="the second email")
        second = sink.received()[1]["message"]
        assert "Zahlung fehlgeschlagen — Überweisung ✓" in str(second["Subject"])
        assert b"\r\nSubject: =?UTF-8?B?" in sink.received()[1]["raw"]

        # "send test" through the API: one more message, logged as delivered with the server's 250.
        server.api_json("POST", f"/api/0/organizations/{server.org}/alert-channels/{mail}/test/", expect=202)
        H.wait_until(lambda: len(sink.received()) == 3, timeout=30, what="the test email")
        assert str(sink.received()[2]["message"]["Subject"]) == "Test notification from Pit"
        # The sink has the message before pitd has read the 250 and logged it: wait for the log.
        H.wait_until(lambda: [d["status"] for d in deliveries(server, mail)] == ["delivered"] * 3,
                     timeout=30, what="three deliveries logged as delivered")
        log = deliveries(server, mail)
        assert all(d["responseCode"] == 250 and d["attempts"] == 1 for d in log)

        # The channel shows its address, never the SMTP password; nor does pitd's log.
        listed = server.api_json("GET", f"/api/0/organizations/{server.org}/alert-channels/")
        assert listed[0]["type"] == "email" and listed[0]["to"] == "ops@example.com"
        assert SMTP_PASSWORD not in json.dumps(listed)
        assert SMTP_PASSWORD not in server.log_path.read_text(errors="replace")
    finally:
        controller.stop()


def test_failing_smtp_server_is_retried_and_logged(server_factory):
    sink = SMTPSink()
    sink.fail_first = 2
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        server = email_server(server_factory, {
            "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none", "smtp_from": "alerts@pit.test",
        }, FAST)
        mail = channel(server, "--type", "email", "--to", "ops@example.com")
        rule(server, "--when", "new-issue", "--channel", str(mail))
        server.send_event({"message": "retry my email", "fingerprint": ["smtp-retry"]})
        H.wait_until(lambda: sink.received(), timeout=30, what="the email after two refusals")
        assert sink.refused == 2 and len(sink.received()) == 1
        # The sink has the message before pitd has read the 250 and logged it: wait for the log.
        H.wait_until(lambda: deliveries(server, mail)[0]["status"] == "delivered",
                     timeout=30, what="the delivery logged as delivered")
        log = deliveries(server, mail)
        assert log[0]["attempts"] == 3
        attempts = log[0]["attemptLog"]
        assert [a["responseCode"] for a in attempts] == [554, 554, 250]
        assert "554" in attempts[0]["error"] and attempts[0]["nextAttemptAt"] is not None
        assert attempts[2]["ok"]
    finally:
        controller.stop()


def test_email_digest(server_factory):
    sink = SMTPSink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        server = email_server(server_factory, {
            "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none", "smtp_from": "alerts@pit.test",
        }, FAST)
        mail = channel(server, "--type", "email", "--to", "ops@example.com", "--digest", "5s")
        rule(server, "--when", "new-issue", "--channel", str(mail))
        for name in ("billing", "checkout"):
            server.send_event({"message": f"{name} broke", "fingerprint": [name]})
        H.wait_until(lambda: sink.received(), timeout=30, what="the digest email")
        time.sleep(6)
        assert len(sink.received()) == 1
        message = sink.received()[0]["message"]
        assert str(message["Subject"]).startswith("2 new issues")
        text = parts(message)["text/plain"]
        assert "new-issue: billing broke" in text and "new-issue: checkout broke" in text
    finally:
        controller.stop()


def test_email_channel_from_settings_page(server_factory, chromium):
    sink = SMTPSink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        server = email_server(server_factory, {
            "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none", "smtp_from": "alerts@pit.test",
        }, FAST)
        H.browser_sign_in(chromium, server)
        chromium.get(server.url + "/settings/alerts/")
        form = chromium.find_element(By.ID, "new-channel")
        Select(form.find_element(By.NAME, "type")).select_by_value("email")
        form.find_element(By.NAME, "name").send_keys("on-call mail")
        form.find_element(By.NAME, "to").send_keys("oncall@example.com")
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        H.wait_until(lambda: chromium.find_elements(By.ID, "alert-channels"), timeout=15, what="the channel listed")
        listed = chromium.find_element(By.ID, "alert-channels").text
        assert "on-call mail" in listed and "email" in listed and "oncall@example.com" in listed
        screenshot(chromium, "alerts-03-email-channel")

        chromium.find_element(By.CSS_SELECTOR, "#alert-channels button[value=test]").click()
        H.wait_until(lambda: sink.received(), timeout=30, what="the test email")
        got = sink.received()[0]
        assert got["rcpt_tos"] == ["oncall@example.com"]
        assert str(got["message"]["Subject"]) == "Test notification from Pit"
    finally:
        controller.stop()


def test_email_over_implicit_tls(server_factory, tmp_path):
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    sink = SMTPSink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, ssl_context=context)
    controller.start()
    try:
        server = email_server(server_factory, {
            "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "tls", "smtp_from": "alerts@pit.test",
            "smtp_ca_file": str(cert),
        }, FAST)
        mail = channel(server, "--type", "email", "--to", "ops@example.com")
        server.cli("alert", "channel", "test", str(mail), json_out=False)
        H.wait_until(lambda: sink.received(), timeout=30, what="the test email over TLS")
        assert sink.received()[0]["tls"]
        H.wait_until(lambda: deliveries(server, mail)[0]["responseCode"] == 250, timeout=30,
                     what="the server's 250 logged")
    finally:
        controller.stop()


def test_untrusted_smtp_certificate_is_refused(server_factory, tmp_path):
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    sink = SMTPSink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True)
    controller.start()
    try:
        # No smtp_ca_file: the self-signed certificate is not trusted, so nothing is sent in the clear either.
        server = email_server(server_factory, {
            "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "starttls", "smtp_from": "alerts@pit.test",
        }, FAST)
        mail = channel(server, "--type", "email", "--to", "ops@example.com")
        server.cli("alert", "channel", "test", str(mail), json_out=False)
        H.wait_until(lambda: deliveries(server, mail)[0]["attemptLog"], timeout=30, what="a failed attempt")
        attempt = deliveries(server, mail)[0]["attemptLog"][0]
        assert not attempt["ok"] and attempt["error"]
        assert sink.received() == []
    finally:
        controller.stop()


CRON_SCRIPT = textwrap.dedent(
    """
    import sys
    import sentry_sdk
    from sentry_sdk.crons import capture_checkin
    from sentry_sdk.crons.consts import MonitorStatus
    sentry_sdk.init(dsn=sys.argv[1], environment="production")
    config = {"schedule": {"type": "crontab", "value": "0 3 * * *"}, "checkin_margin": 5, "max_runtime": 10,
              "failure_issue_threshold": 1, "recovery_threshold": 1}
    capture_checkin(monitor_slug=sys.argv[2], status=MonitorStatus.ERROR, monitor_config=config)
    sentry_sdk.flush(timeout=15)
    """
)


def test_monitor_failure_rule(server_factory, receiver):
    """A cron job that fails (a check-in with status error from the real SDK) opens its monitor's
    incident; the rule naming that monitor notifies once, and another monitor's failure does not."""
    server = server_factory(env={**FAST, "PIT_CRON_INTERVAL_SECONDS": "1"})
    hook = channel(server, "--type", "webhook", "--url", receiver.url())
    rule(server, "--when", "monitor-failure", "--monitor", "nightly-backup", "--channel", str(hook))
    for slug in ("nightly-backup", "hourly-sync"):
        cp = subprocess.run([sys.executable, "-c", CRON_SCRIPT, server.dsn, slug], capture_output=True, text=True, timeout=60)
        assert cp.returncode == 0, cp.stderr
    sent = H.wait_until(lambda: receiver.delivered(), timeout=30, what="the monitor-failure notification")
    # Both incidents open within a scheduler pass or two; only the named monitor's notifies.
    H.wait_until(
        lambda: len([i for i in server.api_json("GET", f"/api/0/projects/{server.org}/{server.project_slug}/issues/")
                     if i["title"].startswith("Cron failure")]) == 2,
        timeout=30, what="both incidents' issues")
    time.sleep(2)
    sent = receiver.delivered()
    assert [n["action"] for n in sent] == ["monitor-failure"], sent
    assert sent[0]["issue"]["title"] == "Cron failure: nightly-backup"
    assert sent[0]["message"].startswith("Cron monitor failing in")
    listed = server.cli("alert", "rule", "list", "--json")
    assert listed[0]["when"] == "monitor-failure"


def session_envelope(status: str, environment: str = "production") -> bytes:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return H.make_envelope({}, [({"type": "session"}, {
        "sid": H.new_event_id(), "did": f"user-{H.new_event_id()[:6]}", "init": True, "started": now, "timestamp": now,
        "status": status, "errors": 1 if status == "crashed" else 0, "duration": 3.0,
        "attrs": {"release": "shop@2.0.0", "environment": environment}})])


def test_crash_free_rate_rule(server_factory, receiver):
    """Sessions of the last hour: 3 exited and 1 crashed in production (75 % crash-free) fire a
    rule at 99.5 % once; a rule on staging (no sessions there) stays silent; the rule's API shape."""
    server = server_factory(env={**FAST, "PIT_ALERT_HEALTH_INTERVAL_SECONDS": "1"})
    hook = channel(server, "--type", "webhook", "--url", receiver.url())
    made = server.cli("alert", "rule", "create", "--project", server.project_id, "--when", "crash-free-rate", "--below", "99.5",
                      "--window", "1h", "--environment", "production", "--channel", str(hook), "--json")
    assert made["below"] == 99.5 and made["window_seconds"] == 3600
    rule(server, "--when", "crash-free-rate", "--below", "90", "--window", "2h", "--environment", "staging", "--channel", str(hook))
    refused = server.cli("alert", "rule", "create", "--project", server.project_id, "--when", "crash-free-rate",
                         "--channel", str(hook), check=False, json_out=False)
    assert refused.returncode != 0 and "--below" in refused.stderr
    for status in ("exited", "exited", "exited", "crashed"):
        assert server.send(session_envelope(status)).status == 200
    sent = H.wait_until(lambda: receiver.delivered(), timeout=30, what="the crash-free notification")
    time.sleep(3)
    sent = receiver.delivered()
    assert [n["action"] for n in sent] == ["crash-free-rate"], sent
    assert sent[0]["crash_free_rate"] == 75.0 and sent[0]["threshold"] == 99.5 and sent[0]["count"] == 4
    assert sent[0]["environment"] == "production" and "75.00 %" in sent[0]["message"]
    # Still below: nothing more.
    assert server.send(session_envelope("crashed")).status == 200
    time.sleep(3)
    assert len(receiver.delivered()) == 1

    rules = server.api_json("GET", f"/api/0/projects/{server.org}/{server.project_slug}/rules/")
    crash = next(r for r in rules if r["id"] == str(made["id"]))
    assert crash["conditions"] == [{"id": "pit.rules.conditions.crash_free_rate.CrashFreeRateBelowCondition", "value": 99.5,
                                    "interval": "1h"}]
    body = {"name": "Crash-free", "conditions": [{"id": crash["conditions"][0]["id"], "value": "98.25", "interval": "1d"}],
            "actions": [{"channel": str(hook)}]}
    created = server.api_json("POST", f"/api/0/projects/{server.org}/{server.project_slug}/rules/", expect=201, json=body)
    assert created["conditions"][0]["value"] == 98.25 and created["conditions"][0]["interval"] == "1d"


def test_project_ceiling_override(server_factory, receiver):
    """A project's own ceiling (CLI, API, settings) replaces alert_ceiling_per_hour: 6 new issues
    with a ceiling of 2 give 2 notifications and one "and 4 more"."""
    server = server_factory(env=FAST)
    hook = channel(server, "--type", "webhook", "--url", receiver.url())
    rule(server, "--when", "new-issue", "--channel", str(hook))
    shown = server.cli("alert", "ceiling", "--project", server.project_id, "--json")
    assert shown == {"project_id": int(server.project_id), "per_hour": None, "effective_per_hour": 100, "server_per_hour": 100}
    assert server.cli("alert", "ceiling", "--project", server.project_id, "--per-hour", "2", "--json")["effective_per_hour"] == 2
    path = f"/api/0/projects/{server.org}/{server.project_slug}/alert-ceiling/"
    assert server.api_json("GET", path) == {"project": server.project_slug, "perHour": 2, "effectivePerHour": 2, "serverPerHour": 100}
    assert server.api("PUT", path, json={"perHour": 0}).status_code == 400
    assert server.api("PUT", path, json={}).status_code == 400
    bad = server.cli("alert", "ceiling", "--project", "999", "--per-hour", "5", check=False, json_out=False)
    assert bad.returncode != 0 and "no project 999" in bad.stderr

    for n in range(6):
        server.send_event({"message": f"ceiling {n}", "fingerprint": [f"ceiling-{n}"]})
    H.wait_until(lambda: len(receiver.delivered()) >= 3, timeout=30, what="two notifications and the notice")
    time.sleep(3)
    sent = receiver.delivered()
    assert [n["action"] for n in sent] == ["new-issue", "new-issue", "suppressed"], sent
    assert sent[-1]["count"] == 4

    cleared = server.api_json("PUT", path, json={"perHour": None})
    assert cleared["perHour"] is None and cleared["effectivePerHour"] == 100
    assert server.cli("alert", "ceiling", "--project", server.project_id, "--json")["per_hour"] is None
