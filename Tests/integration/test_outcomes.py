"""Client reports and outcomes (issue 12): what the official Python SDK drops itself
(``before_send``, ``sample_rate``) arrives in its client reports and is counted as
``client_discard``; the server counts what it accepted per data category, and what it refused
(429 over a key's rate limit, 413, 400) with Relay's reason codes. Served by
``/api/0/organizations/{org}/stats_v2/`` in Sentry's shape and shown on the project's stats page
(checked in headless Chromium, screenshots in .build/screenshots)."""

from __future__ import annotations

import json

import sentry_sdk
from selenium.webdriver.common.by import By

import pit_helpers as H
from conftest import screenshot

STATS = ("/api/0/organizations/pit/stats_v2/?field=sum(quantity)&field=sum(times_seen)"
         "&groupBy=outcome&groupBy=category&groupBy=reason&statsPeriod=24h&interval=1h")


def _totals(server, query: str = "") -> dict:
    body = server.api_json("GET", STATS + query)
    assert len(body["intervals"]) == 24 and body["start"] and body["end"], body
    totals = {}
    for group in body["groups"]:
        by = group["by"]
        series = group["series"]["sum(quantity)"]
        assert len(series) == 24 and sum(series) == group["totals"]["sum(quantity)"], group
        totals[(by["outcome"], by["category"], by["reason"])] = group["totals"]["sum(quantity)"]
    return totals


def _sdk_session(dsn: str, send, **options) -> None:
    """Runs ``send`` under a fresh SDK client; flush and close send its pending client report."""
    sentry_sdk.init(dsn=dsn, max_breadcrumbs=0, default_integrations=False, **options)
    try:
        send()
    finally:
        sentry_sdk.flush(timeout=15)
        sentry_sdk.get_client().close(timeout=15)


def _send_sdk_traffic(server) -> None:
    def before_send(event, hint):
        return None if "drop me" in (event.get("message") or event.get("logentry", {}).get("message") or "") else event

    def keep_and_drop():
        for text in ["kept 1", "kept 2", "drop me 1", "drop me 2", "drop me 3"]:
            sentry_sdk.capture_message(text)
    _sdk_session(server.dsn, keep_and_drop, before_send=before_send)

    def sampled_out():
        for _ in range(2):
            try:
                {}["missing"]
            except KeyError:
                sentry_sdk.capture_exception()
    _sdk_session(server.dsn, sampled_out, sample_rate=0.0)


def _refuse_some(server) -> int:
    """A 429 over a key's rate limit, a 413 and a 400; returns how many 429s there were."""
    key = server.api_json("POST", "/api/0/projects/pit/default/keys/", expect=201,
                          json={"name": "limited", "rateLimit": {"count": 1, "window": 300}})
    headers = {"X-Sentry-Auth": H.sentry_auth_header(key["public"])}

    def send():
        body, _ = H.event_envelope({"message": "limited", "level": "error"})
        return server.send(body, headers=headers, auth=False)
    statuses = [send().status]
    # The key cache picks the new key up within a couple of seconds: until then, 403.
    H.wait_until(lambda: statuses.append(send().status) or statuses[-1] in (200, 429), timeout=15, what="key known")
    statuses += [send().status for _ in range(3)]
    limited = [s for s in statuses if s == 429]
    assert len(limited) >= 3 and statuses.count(200) <= 1, statuses

    big, _ = H.event_envelope({"message": "x" * (1100 * 1024)})
    assert server.send(big).status == 413
    assert server.send(b"").status == 400
    return len(limited)


def test_client_reports_and_server_outcomes_in_stats_v2(server):
    _send_sdk_traffic(server)
    refused = _refuse_some(server)
    # Refusals are counted in memory and flushed by the writer within seconds.
    H.wait_until(lambda: ("invalid", "error", "too_large") in _totals(server), timeout=40, what="refusals flushed")
    totals = _totals(server)
    expected = {
        ("accepted", "error", "none"): 3,  # the two kept messages and the one admitted by the limited key
        ("client_discard", "error", "before_send"): 3,
        ("client_discard", "error", "sample_rate"): 2,
        ("rate_limited", "error", "key_quota"): refused,
        ("invalid", "error", "too_large"): 1,
        ("invalid", "error", "empty_envelope"): 1,
    }
    assert totals == expected, json.dumps({"/".join(k): v for k, v in totals.items()})

    # Filters and other groupings, Sentry's way.
    accepted = server.api_json(
        "GET", "/api/0/organizations/pit/stats_v2/?field=sum(quantity)&category=error&outcome=accepted&statsPeriod=24h"
        f"&interval=1h&project={server.project_id}&groupBy=project")
    assert [(g["by"], g["totals"]) for g in accepted["groups"]] == [
        ({"project": int(server.project_id)}, {"sum(quantity)": 3})]
    start = accepted["start"]
    end = accepted["end"]
    absolute = server.api_json("GET", f"/api/0/organizations/pit/stats_v2/?field=sum(quantity)&start={start}&end={end}"
                                      "&interval=1h&outcome=client_discard")
    assert absolute["groups"][0]["totals"] == {"sum(quantity)": 5}
    # Client reports are counted, not stored as raw items.
    raw = server.api_json("GET", "/api/0/organizations/pit/stats_v2/?field=sum(times_seen)&groupBy=outcome&statsPeriod=1d")
    assert {g["by"]["outcome"] for g in raw["groups"]} == {"accepted", "client_discard", "rate_limited", "invalid"}

    assert server.api("GET", "/api/0/organizations/pit/stats_v2/?field=sum(quantity)&project=999999").status_code == 403
    bad = server.api("GET", "/api/0/organizations/pit/stats_v2/?field=sum(bytes)")
    assert bad.status_code == 400 and "Invalid field" in bad.json()["detail"], bad.text
    assert server.api("GET", STATS, auth=False).status_code == 401


def test_bad_client_report_is_refused_with_its_reason(server):
    report = {"discarded_events": [{"reason": "before_send", "category": "error", "quantity": "many"}]}
    body = H.make_envelope({}, [({"type": "client_report"}, report)])
    r = server.send(body)
    assert r.status == 400, r
    assert r.json()["detail"] == "invalid client_report item: discarded_events[0].quantity must be an integer from 0 to 4294967295"


def test_stats_page_in_chromium(server, chromium):
    _send_sdk_traffic(server)
    _refuse_some(server)
    # An attachment counts its bytes.
    with_file = H.make_envelope({}, [({"type": "event"}, {"message": "with a file"}),
                                     ({"type": "attachment", "filename": "a.txt"}, b"x" * 2048)])
    assert server.send(with_file).status == 200
    H.wait_until(lambda: ("invalid", "error", "too_large") in _totals(server), timeout=40, what="refusals flushed")

    d = chromium
    H.browser_sign_in(d, server)
    d.get(server.url + "/")
    d.find_element(By.LINK_TEXT, "Stats").click()
    H.wait_until(lambda: "/stats/" in d.current_url, timeout=20, what="stats page")
    rows = d.find_elements(By.CSS_SELECTOR, "table.outcomes tbody tr")
    cells = {r.find_elements(By.TAG_NAME, "td")[0].text: [c.text for c in r.find_elements(By.TAG_NAME, "td")[1:]] for r in rows}
    assert cells["error"][0] == "4" and cells["error"][4] == "5", cells
    assert cells["attachment"][0] == "2,048", cells
    text = d.find_element(By.TAG_NAME, "main").text
    for reason in ["before_send", "sample_rate", "key_quota", "too_large", "empty_envelope"]:
        assert reason in text, text
    screenshot(d, "outcomes-01-stats-24h")
    d.find_element(By.LINK_TEXT, "7d").click()
    H.wait_until(lambda: "statsPeriod=7d" in d.current_url, timeout=20, what="7 days")
    assert "before_send" in d.find_element(By.TAG_NAME, "main").text
    screenshot(d, "outcomes-02-stats-7d")
