"""User feedback (issue 12) sent through the official Python SDK's envelope classes and
transport, and CSP / Expect-CT / HPKP reports posted as browsers send them: stored, linked and
grouped, served by /api/0 in Sentry's shapes, and shown on the feedback and issue pages (checked
in headless Chromium, screenshots in .build/screenshots)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid

import pytest
import requests
import sentry_sdk
from selenium.webdriver.common.by import By
from sentry_sdk.envelope import Envelope, Item, PayloadRef

import pit_helpers as H
from conftest import screenshot


def _sdk_send(dsn: str, build) -> None:
    """Initialises the SDK, lets ``build`` send through it, then flushes its transport."""
    # No breadcrumbs: the SDK would record this process's earlier HTTP calls on every event.
    sentry_sdk.init(dsn=dsn, release="shop@3.0.0", environment="production", max_breadcrumbs=0)
    try:
        build(sentry_sdk.get_client())
    finally:
        sentry_sdk.flush(timeout=15)
        sentry_sdk.get_client().close(timeout=15)


def _feedback_envelope(message: str, *, name: str, email: str, associated: str | None = None,
                       url: str | None = None) -> tuple:
    feedback_id = uuid.uuid4().hex
    context = {"message": message, "name": name, "contact_email": email}
    if associated:
        context["associated_event_id"] = associated
    if url:
        context["url"] = url
    payload = {"event_id": feedback_id, "timestamp": time.time(), "platform": "python", "level": "info",
               "contexts": {"feedback": context}, "user": {"id": "u-7", "email": email}}
    envelope = Envelope(headers={"event_id": feedback_id, "sent_at": "2026-01-01T00:00:00Z"})
    envelope.add_item(Item(payload=PayloadRef(json=payload), type="feedback"))
    return envelope, feedback_id


def _user_report_envelope(event_id: str, comments: str, name: str, email: str) -> Envelope:
    envelope = Envelope(headers={"event_id": event_id})
    envelope.add_item(Item(payload=PayloadRef(json={"event_id": event_id, "name": name, "email": email,
                                                   "comments": comments}), type="user_report"))
    return envelope


def _feedback(server, path_suffix: str = "") -> requests.Response:
    return server.api("GET", f"/api/0/projects/pit/{server.project_slug}/user-feedback/{path_suffix}")



# ---------------------------------------------------------------- feedback

def test_feedback_through_the_sdk_is_linked_to_its_issue(server):
    ids = {}

    def send(client):
        # The report before its event: linked once the event arrives.
        ids["event"] = uuid.uuid4().hex
        client.transport.capture_envelope(
            _user_report_envelope(ids["event"], "Checkout <b>broke</b>", "Ada", "ada@example.com"))
        client.transport.flush(timeout=10)
        try:
            1 / 0
        except ZeroDivisionError:
            with sentry_sdk.new_scope() as scope:
                scope.set_tag("page", "checkout")
                sent = sentry_sdk.capture_exception()
        ids["exception"] = sent
        envelope, ids["feedback"] = _feedback_envelope("The pay button spins forever", name="Grace",
                                                       email="grace@example.com", associated=sent,
                                                       url="https://shop.example/checkout")
        client.transport.capture_envelope(envelope)
        client.transport.capture_envelope(
            _user_report_envelope(ids["event"], "Checkout <b>broke</b>", "Ada", "ada@example.com"))
        unlinked, ids["unlinked"] = _feedback_envelope("Love the new design", name="", email="anon@example.com")
        client.transport.capture_envelope(unlinked)

    _sdk_send(server.dsn, send)
    H.wait_until(lambda: len(_feedback(server).json()) >= 3, timeout=20, what="feedback stored")
    # The report's own event, sent afterwards as an SDK would on the next page load.
    body, _ = H.event_envelope({"event_id": ids["event"], "message": "checkout failed for order 7", "level": "error"})
    assert H.raw_request(server.host, server.port, "POST", server.envelope_path(), body,
                         {**server.auth_headers(), "Content-Type": "application/x-sentry-envelope"}).status == 200

    rows = _feedback(server).json()
    assert [r["comments"] for r in rows] == ["Love the new design", "The pay button spins forever", "Checkout <b>broke</b>"], \
        "newest first; the resent report replaced, not duplicated"
    for row in rows:
        assert set(row) >= {"id", "eventID", "name", "email", "comments", "dateCreated", "issue", "user"}, row
        H.parse_timestamp(row["dateCreated"])
    unlinked, feedback, report = rows
    assert unlinked["issue"] is None and unlinked["eventID"] == ids["unlinked"] and unlinked["name"] == ""
    assert feedback["eventID"] == ids["exception"] and feedback["name"] == "Grace"
    assert feedback["email"] == "grace@example.com" and feedback["user"]["id"] == "u-7"
    assert feedback["issue"]["title"].startswith("ZeroDivisionError")
    assert feedback["issue"]["id"] == server.issue_of(ids["exception"])["id"]
    assert report["eventID"] == ids["event"] and report["issue"]["title"] == "checkout failed for order 7"
    assert report["name"] == "Ada" and report["email"] == "ada@example.com" and report["user"] is None

    # Paginated like the other lists: limit, then the Link cursor.
    first = _feedback(server, "?limit=2")
    assert len(first.json()) == 2 and 'rel="next"' in first.headers["Link"]
    cursor = first.headers["Link"].split("cursor=")[1].split(">")[0]
    assert [r["comments"] for r in _feedback(server, f"?limit=2&cursor={cursor}").json()] == ["Checkout <b>broke</b>"]

    # Scoped to the project and to tokens.
    other = server.api_json("POST", "/api/0/teams/pit/pit/projects/", expect=201, json={"name": "Other"})
    assert server.api_json("GET", f"/api/0/projects/pit/{other['slug']}/user-feedback/") == []
    assert requests.get(server.url + "/api/0/projects/pit/default/user-feedback/").status_code == 401

    # Pages: the project's feedback list and the issue's feedback section, escaped.
    s = H.sign_in_session(server)
    page = s.get(server.url + "/organizations/pit/projects/default/feedback/")
    assert page.status_code == 200
    assert "The pay button spins forever" in page.text and "Checkout &lt;b&gt;broke&lt;/b&gt;" in page.text
    assert "<b>broke</b>" not in page.text
    issue_page = s.get(server.url + f"/organizations/pit/issues/{report['issue']['id']}/")
    assert "User feedback" in issue_page.text and "Checkout &lt;b&gt;broke&lt;/b&gt;" in issue_page.text
    assert "Love the new design" not in issue_page.text


def test_invalid_feedback_is_refused_with_a_reason(server):
    # A user report names its event in its payload or, failing that, in the envelope header.
    for item_type, payload in (("user_report", {"name": "no event id"}),
                               ("user_report", {"event_id": "not-an-id", "comments": "x"}),
                               ("feedback", {"contexts": {"feedback": {"name": "no message"}}}),
                               ("feedback", b"{not json")):
        body = H.make_envelope({}, [({"type": item_type}, payload)])
        r = H.raw_request(server.host, server.port, "POST", server.envelope_path(), body,
                          {**server.auth_headers(), "Content-Type": "application/x-sentry-envelope"})
        assert r.status == 400, (item_type, r.status, r.text)
        assert item_type in r.json()["detail"], r.json()
    assert _feedback(server).json() == []


# ---------------------------------------------------------------- CSP and security reports

CSP_REPORT = {"csp-report": {
    "document-uri": "https://shop.example/checkout",
    "referrer": "https://shop.example/",
    "violated-directive": "script-src 'self'",
    "effective-directive": "script-src",
    "original-policy": "default-src 'self'; script-src 'self'; report-uri /api/1/security/",
    "disposition": "enforce",
    "blocked-uri": "https://evil.example/steal.js",
    "line-number": 12, "column-number": 4, "source-file": "https://shop.example/checkout",
    "status-code": 200, "script-sample": "",
}}


def _security_url(server, key=None, **params) -> str:
    query = "&".join([f"sentry_key={key or server.public_key}"] + [f"{k}={v}" for k, v in params.items()])
    return f"{server.url}/api/{server.project_id}/security/?{query}"


def _post(url: str, body, content_type: str):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": content_type, "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0"})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_csp_reports_become_grouped_issues(server):
    url = _security_url(server, sentry_environment="production", sentry_release="shop%403.0.0")
    for blocked in ("https://evil.example/steal.js", "https://evil.example/other.js?x=1"):
        report = json.loads(json.dumps(CSP_REPORT))
        report["csp-report"]["blocked-uri"] = blocked
        status, _ = _post(url, report, "application/csp-report")
        assert status == 200
    # report-to: a batch of reports from the Reporting API, only CSP violations become events.
    batch = [
        {"type": "csp-violation", "age": 3, "url": "https://shop.example/", "user_agent": "Chrome",
         "body": {"documentURL": "https://shop.example/", "blockedURL": "https://evil.example/x.js",
                  "effectiveDirective": "script-src-elem", "originalPolicy": "script-src 'self'",
                  "disposition": "enforce", "statusCode": 200, "sample": ""}},
        {"type": "csp-violation", "age": 3, "url": "https://shop.example/",
         "body": {"documentURL": "https://shop.example/", "blockedURL": "https://fonts.example/f.woff2",
                  "effectiveDirective": "font-src", "disposition": "report"}},
        {"type": "deprecation", "age": 1, "url": "https://shop.example/", "body": {"id": "Foo", "message": "gone"}},
    ]
    status, _ = _post(_security_url(server), batch, "application/reports+json")
    assert status == 200
    status, _ = _post(_security_url(server), {"expect-ct-report": {
        "date-time": "2026-01-01T00:00:00Z", "hostname": "shop.example", "port": 443,
        "effective-expiration-date": "2026-02-01T00:00:00Z"}}, "application/expect-ct-report+json")
    assert status == 200
    status, _ = _post(_security_url(server), {"date-time": "2026-01-01T00:00:00Z", "hostname": "pins.example",
                                              "port": 443, "include-subdomains": False, "known-pins": ['pin-sha256="x"']},
                      "application/json")
    assert status == 200

    # Grouped by directive and blocked host: script-src and script-src-elem from one host are two issues.
    listed = server.issues("")
    assert len(listed) == 5, [(i["title"], i["metadata"]) for i in listed]
    by_directive = {i["metadata"].get("directive") or i["type"]: i for i in listed}
    script = by_directive["script-src"]
    assert script["title"] == "Blocked 'script' from 'evil.example'"
    assert script["type"] == "csp" and script["count"] == "2", script
    assert script["culprit"] == "script-src 'self'" and script["metadata"]["uri"] == "evil.example"
    assert by_directive["script-src-elem"]["title"] == "Blocked 'script' from 'evil.example'"
    assert by_directive["script-src-elem"]["count"] == "1"
    assert by_directive["font-src"]["title"] == "Blocked 'font' from 'fonts.example'"
    assert by_directive["expectct"]["title"] == "Expect-CT failed for 'shop.example'"
    assert by_directive["hpkp"]["title"] == "Public key pinning validation failed for 'pins.example'"

    event = server.api_json("GET", f"/api/0/issues/{script['id']}/events/latest/")
    assert event["type"] == "csp" and event["environment"] == "production"
    assert H.ev_release(event) == "shop@3.0.0"
    assert event["csp"]["blocked_uri"].startswith("https://evil.example/")
    tags = H.ev_tags(event)
    assert tags["effective-directive"] == "script-src" and tags["blocked-host"] == "evil.example", tags

    s = H.sign_in_session(server)
    page = s.get(server.url + f"/organizations/pit/issues/{script['id']}/")
    assert "CSP report" in page.text and "effective_directive" in page.text


def test_security_endpoint_refusals(server):
    good = CSP_REPORT
    assert _post(_security_url(server), good, "text/plain")[0] == 415
    status, body = _post(_security_url(server), {"no": "report"}, "application/json")
    assert status == 400 and b"invalid security report" in body
    assert _post(_security_url(server), b"", "application/csp-report")[0] == 400
    assert _post(_security_url(server), b"{broken", "application/csp-report")[0] == 400
    assert _post(_security_url(server, key="0" * 32), good, "application/csp-report")[0] == 403
    assert _post(f"{server.url}/api/{server.project_id}/security/", good, "application/csp-report")[0] == 401
    huge = {"csp-report": {"effective-directive": "img-src", "blocked-uri": "https://x.example/" + "a" * (1200 * 1024)}}
    assert _post(_security_url(server), huge, "application/csp-report")[0] == 413
    assert server.issues("") == []


# ---------------------------------------------------------------- pages in Chromium

def test_feedback_and_csp_pages_in_chromium(server, chromium):
    def send(client):
        try:
            {}["cart"]
        except KeyError:
            sent = sentry_sdk.capture_exception()
        envelope, _ = _feedback_envelope("The cart empties itself when I reload the page.", name="Grace Hopper",
                                         email="grace@example.com", associated=sent, url="https://shop.example/cart")
        client.transport.capture_envelope(envelope)
        client.transport.capture_envelope(_user_report_envelope(sent, "Same here <script>alert(1)</script>", "Ada",
                                                                "ada@example.com"))
    _sdk_send(server.dsn, send)
    H.wait_until(lambda: len(_feedback(server).json()) >= 2, timeout=20, what="feedback stored")
    assert _post(_security_url(server), CSP_REPORT, "application/csp-report")[0] == 200

    d = chromium
    H.browser_sign_in(d, server)
    d.get(server.url + "/organizations/pit/projects/default/feedback/")
    cards = d.find_elements(By.CSS_SELECTOR, ".card.feedback")
    assert len(cards) == 2, [c.text for c in cards]
    assert "Same here <script>alert(1)</script>" in cards[0].text
    assert "The cart empties itself" in cards[1].text
    screenshot(d, "feedback-01-list")
    d.find_element(By.PARTIAL_LINK_TEXT, "DEFAULT-").click()
    H.wait_until(lambda: "/issues/" in d.current_url, timeout=20, what="issue page")
    assert "User feedback" in d.page_source and "Grace Hopper" in d.page_source
    screenshot(d, "feedback-02-issue")
    csp = next(i for i in server.issues("") if i["type"] == "csp")
    d.get(server.url + f"/organizations/pit/issues/{csp['id']}/")
    assert "Blocked 'script' from 'evil.example'" in d.page_source and "CSP report" in d.page_source
    screenshot(d, "feedback-03-csp-issue")
