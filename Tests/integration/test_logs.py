"""Logs (issue 12) sent by the official Python SDK (``enable_logs=True`` and
``sentry_sdk.logger``) and as a hand-made ``otel_log`` envelope: one row per log, served by
``GET /api/0/organizations/{org}/events/?dataset=logs`` in Sentry's shape, and shown by the log
explorer (checked in headless Chromium, screenshots in .build/screenshots)."""

from __future__ import annotations

import json
import re
import time

import requests
import sentry_sdk
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

import pit_helpers as H
from conftest import screenshot

FIELDS = ("timestamp", "message", "severity", "trace", "sentry.message.parameter.name", "sentry.sdk.name", "release")


def _send_sdk_logs(dsn: str) -> None:
    sentry_sdk.init(dsn=dsn, enable_logs=True, release="shop@1.2.3", environment="staging", max_breadcrumbs=0)
    try:
        sentry_sdk.logger.info("user {name} logged in", name="bob")
        sentry_sdk.logger.warning("disk at {pct}%", pct=91)
        sentry_sdk.logger.error("payment failed for order {order}", order=42)
    finally:
        sentry_sdk.flush(timeout=15)
        sentry_sdk.get_client().close(timeout=15)


def _logs(server, query: str = "", fields=FIELDS, **params) -> requests.Response:
    args = [("dataset", params.pop("dataset", "logs"))] + [("field", f) for f in fields]
    args += [("project", server.project_id), ("statsPeriod", params.pop("statsPeriod", "24h")), ("query", query)]
    args += params.pop("params_extra", [])
    args += list(params.items())
    return server.api("GET", "/api/0/organizations/pit/events/", params=args)


def _messages(server, query: str = "", **params) -> list:
    r = _logs(server, query, **params)
    assert r.status_code == 200, r.text
    return [row["message"] for row in r.json()["data"]]


def _post_envelope(server, body: bytes) -> requests.Response:
    return requests.post(server.url + server.envelope_path(), data=body, timeout=30, headers={
        "X-Sentry-Auth": H.sentry_auth_header(server.public_key), "Content-Type": "application/x-sentry-envelope"})


def test_sdk_logs_are_served_in_sentrys_shape(server):
    _send_sdk_logs(server.dsn)
    H.wait_until(lambda: len(_messages(server)) >= 3, timeout=30, what="three logs stored")
    r = _logs(server)
    body = r.json()
    data = body["data"]
    assert [row["message"] for row in data] == [
        "payment failed for order 42", "disk at 91%", "user bob logged in"], data
    assert [row["severity"] for row in data] == ["error", "warn", "info"], data
    bob = data[2]
    assert re.fullmatch(r"[0-9a-f]{32}", bob["trace"] or ""), bob
    assert bob["sentry.message.parameter.name"] == "bob", bob
    assert bob["sentry.sdk.name"] == "sentry.python" and bob["release"] == "shop@1.2.3", bob
    assert re.fullmatch(r"[0-9a-f]{32}", bob["id"]) and str(bob["project.id"]) == server.project_id, bob
    assert H.parse_timestamp(bob["timestamp"]) > time.time() - 300, bob
    assert body["meta"]["fields"]["timestamp"] == "date" and body["meta"]["fields"]["severity"] == "string", body["meta"]
    assert body["meta"]["fields"]["project.id"] == "integer", body["meta"]

    # The query syntax; `ourlogs` is the same dataset.
    assert _messages(server, "severity:error") == ["payment failed for order 42"]
    assert _messages(server, "severity:[info,warn]", dataset="ourlogs") == ["disk at 91%", "user bob logged in"]
    assert _messages(server, "sentry.message.parameter.name:bob") == ["user bob logged in"]
    assert _messages(server, "sentry.message.parameter.order:42") == ["payment failed for order 42"]
    assert _messages(server, 'message:"*LOGGED*"') == ["user bob logged in"]
    assert _messages(server, "payment") == ["payment failed for order 42"]
    assert _messages(server, f"trace:{bob['trace']} severity:info") == ["user bob logged in"]
    assert _messages(server, "environment:production") == []
    assert _messages(server, "!severity:[info,warn] !environment:dev") == ["payment failed for order 42"]
    assert _messages(server, "!sentry.message.parameter.name:bob !has:sentry.message.parameter.order") == ["disk at 91%"]
    assert _messages(server, "environment:staging severity:warn") == ["disk at 91%"]
    assert _messages(server, "severity:warn", environment="staging") == ["disk at 91%"]
    r = _logs(server, "severity:warn", params_extra=[("environment", "production"), ("environment", "staging")])
    assert [row["message"] for row in r.json()["data"]] == ["disk at 91%"], r.text
    assert _messages(server, "", environment="production") == []

    # Paging with Sentry's Link header, the other parameters kept.
    first = _logs(server, per_page="2")
    assert len(first.json()["data"]) == 2
    nxt = first.links["next"]
    assert nxt["results"] == "true" and "field=sentry.sdk.name" in nxt["url"], first.headers["Link"]
    second = server.api("GET", nxt["url"].replace(server.url, ""))
    assert [row["message"] for row in second.json()["data"]] == ["user bob logged in"], second.text
    assert second.links["next"]["results"] == "false"

    # Same auth as the other organisation routes.
    assert server.api("GET", "/api/0/organizations/pit/events/?dataset=logs", auth=False).status_code == 401
    assert server.api("GET", "/api/0/organizations/pit/events/?dataset=logs&project=999").status_code == 403
    assert server.api("GET", "/api/0/organizations/pit/events/?dataset=spans").status_code == 400


def test_hand_made_otel_log_and_bad_containers(server):
    now_ns = time.time_ns()
    record = {
        "timeUnixNano": str(now_ns), "observedTimeUnixNano": str(now_ns + 1000), "severityNumber": 13, "severityText": "WARN",
        "body": {"stringValue": "queue depth high"}, "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174", "attributes": [
            {"key": "queue", "value": {"stringValue": "emails"}}, {"key": "depth", "value": {"intValue": "1200"}},
            {"key": "ratio", "value": {"doubleValue": 0.75}}, {"key": "paused", "value": {"boolValue": False}}]}
    payload = json.dumps(record).encode()
    body = b'{"sent_at":"2026-01-01T00:00:00Z"}\n' + json.dumps(
        {"type": "otel_log", "length": len(payload)}).encode() + b"\n" + payload + b"\n"
    r = _post_envelope(server, body)
    assert r.status_code == 200, r.text
    H.wait_until(lambda: _messages(server) == ["queue depth high"], timeout=30, what="otel log stored")
    row = _logs(server, fields=("message", "severity", "severity_number", "trace", "span_id", "queue", "depth", "ratio",
                                "paused")).json()
    log = row["data"][0]
    assert log["severity"] == "warn" and log["severity_number"] == 13, log
    assert log["trace"] == "5b8efff798038103d269b633813fc60c" and log["span_id"] == "eee19b7ec3c1b174", log
    assert log["queue"] == "emails" and log["depth"] == 1200 and log["ratio"] == 0.75 and log["paused"] is False, log
    assert row["meta"]["fields"]["depth"] == "integer" and row["meta"]["fields"]["ratio"] == "number", row["meta"]
    assert row["meta"]["fields"]["paused"] == "boolean", row["meta"]
    assert _messages(server, "depth:1200 queue:emails") == ["queue depth high"]

    # A container whose item_count does not match, and two containers in one envelope: refused, with the reason.
    container = json.dumps({"items": [{"timestamp": time.time(), "level": "info", "body": "x"}]}).encode()

    def log_item(count: int) -> bytes:
        return json.dumps({"type": "log", "item_count": count, "content_type": "application/vnd.sentry.items.log+json",
                           "length": len(container)}).encode() + b"\n" + container + b"\n"
    r = _post_envelope(server, b"{}\n" + log_item(2))
    assert r.status_code == 400 and "item_count 2 does not match the 1 logs" in r.text, r.text
    r = _post_envelope(server, b"{}\n" + log_item(1) + log_item(1))
    assert r.status_code == 400 and "one log container per envelope" in r.text, r.text
    assert _messages(server) == ["queue depth high"]


def test_log_explorer_in_chromium(server, chromium):
    _send_sdk_logs(server.dsn)
    H.wait_until(lambda: len(_messages(server)) >= 3, timeout=30, what="three logs stored")
    d = chromium
    H.browser_sign_in(d, server)
    d.get(server.url + "/organizations/pit/issues/")
    d.find_element(By.CSS_SELECTOR, "nav.main").find_element(By.LINK_TEXT, "Logs").click()
    H.wait_until(lambda: "/logs/" in d.current_url, timeout=20, what="log explorer")
    rows = d.find_elements(By.CSS_SELECTOR, "table.logs tbody tr")
    assert [r.find_element(By.CSS_SELECTOR, ".log-text").text for r in rows] == [
        "payment failed for order 42", "disk at 91%", "user bob logged in"], [r.text for r in rows]
    rows[2].find_element(By.TAG_NAME, "summary").click()
    assert "sentry.message.parameter.name" in rows[2].text and "bob" in rows[2].text, rows[2].text
    screenshot(d, "logs-01-explorer")

    Select(d.find_element(By.NAME, "level")).select_by_value("error")
    d.find_element(By.CSS_SELECTOR, "form.toolbar button[type=submit]").click()
    H.wait_until(lambda: "level=error" in d.current_url, timeout=20, what="level filter")
    rows = d.find_elements(By.CSS_SELECTOR, "table.logs tbody tr")
    assert len(rows) == 1 and "payment failed" in rows[0].text, [r.text for r in rows]

    d.get(server.url + "/organizations/pit/projects/default/logs/?attr=sentry.message.parameter.name%3Abob")
    rows = d.find_elements(By.CSS_SELECTOR, "table.logs tbody tr")
    assert len(rows) == 1 and "user bob logged in" in rows[0].text, [r.text for r in rows]
    screenshot(d, "logs-02-attribute-filter")

    # The live tail reloads the page by itself; a log sent meanwhile shows up without a click.
    d.get(server.url + "/organizations/pit/projects/default/logs/")
    d.find_element(By.LINK_TEXT, "Live tail").click()
    H.wait_until(lambda: "live=1" in d.current_url, timeout=20, what="live tail on")
    assert "Live, every 5 s" in d.page_source
    container = json.dumps({"items": [{"timestamp": time.time(), "level": "fatal", "body": "kernel panic <tail>",
                                       "attributes": {"host": {"value": "db-1", "type": "string"}}}]}).encode()
    item = json.dumps({"type": "log", "item_count": 1, "content_type": "application/vnd.sentry.items.log+json",
                       "length": len(container)}).encode()
    assert _post_envelope(server, b"{}\n" + item + b"\n" + container + b"\n").status_code == 200
    H.wait_until(lambda: "kernel panic &lt;tail&gt;" in d.page_source, timeout=20, what="live tail reloaded")
    screenshot(d, "logs-03-live-tail")
    d.find_element(By.LINK_TEXT, "Pause").click()
    H.wait_until(lambda: "live=1" not in d.current_url, timeout=20, what="live tail paused")


def test_log_retention_at_ingest_and_through_the_purge_api_and_cli(server_factory):
    srv = server_factory({"PIT_LOG_RETENTION_DAYS": "7", "PIT_RETENTION_INTERVAL_SECONDS": "1"})
    path = f"/api/0/projects/{srv.org}/{srv.project_slug}/retention/"
    body = srv.api_json("GET", path)
    assert body["logRetentionDays"] is None and body["effectiveLogRetentionDays"] == 7, body
    assert body["serverLogRetentionDays"] == 7 and body["effectiveRetentionDays"] == 90, body

    def send(text: str, age_days: float) -> None:
        container = json.dumps({"items": [{"timestamp": time.time() - age_days * 86400, "level": "info", "body": text}]}).encode()
        item = json.dumps({"type": "log", "item_count": 1, "content_type": "application/vnd.sentry.items.log+json",
                           "length": len(container)}).encode()
        assert _post_envelope(srv, b"{}\n" + item + b"\n" + container + b"\n").status_code == 200

    def messages() -> list:
        return _messages(srv, statsPeriod="90d")

    send("ten days old", 10)
    send("fresh", 0)
    # Already past the 7 days: dropped at ingest (answered 200), as an expired event is.
    H.wait_until(lambda: messages() == ["fresh"], timeout=30, what="the fresh log")

    # The project's own log retention, set by the CLI, is applied at the next pass; events' stays.
    cp = srv.cli("project", "retention", srv.project_id, "20", "--logs", json_out=False)
    assert "keeps logs 20 days (project override)" in cp.stdout, cp.stdout
    H.wait_until(lambda: srv.api_json("GET", path)["logRetentionDays"] == 20, timeout=20,
                 what="the server to reload the override at its next pass")
    assert srv.api_json("GET", path)["retentionDays"] is None
    send("ten days old again", 10)
    time.sleep(3)
    assert messages() == ["fresh", "ten days old again"]
    body = srv.api_json("PUT", path, json={"logRetentionDays": 5})
    assert body["effectiveLogRetentionDays"] == 5 and body["effectiveRetentionDays"] == 90, body
    # Stored under 20 days, it is past the API's 5: the next purge pass deletes it.
    H.wait_until(lambda: messages() == ["fresh"], timeout=30, what="the purge past the API's 5 days")
    assert srv.api("PUT", path, json={"logRetentionDays": -1}).status_code == 400
