"""Performance monitoring (issue 13): transactions with nested spans sent by the official Python
SDK (``traces_sample_rate=1.0``, an error inside a transaction, ``profiles_sample_rate=1.0``),
a browser-shaped transaction with Web Vitals built to Relay's measurements schema, span v2
containers, and sampled traces. Read back through Sentry's API shapes: the transactions table of
``GET /api/0/organizations/{org}/events/?dataset=transactions``, the trace of
``events-trace/{trace_id}/`` and ``events-trace-light/{trace_id}/?event_id=``, and a
transaction's detail on ``GET /api/0/projects/{org}/{project}/events/{event_id}/``."""

from __future__ import annotations

import time
import uuid

import requests
import sentry_sdk

import pit_helpers as H

TABLE_FIELDS = ("transaction", "project", "count()", "p50(transaction.duration)", "p95(transaction.duration)",
                "failure_rate()", "apdex()", "epm()")


def _table(server, query: str = "", fields=TABLE_FIELDS, **params) -> requests.Response:
    args = [("dataset", "transactions")] + [("field", f) for f in fields]
    args += [("project", server.project_id), ("statsPeriod", params.pop("statsPeriod", "24h")), ("query", query)]
    args += [("sort", params.pop("sort", "-count()"))] + list(params.items())
    return server.api("GET", "/api/0/organizations/pit/events/", params=args)


def _rows(server, query: str = "", **params) -> dict:
    r = _table(server, query, **params)
    assert r.status_code == 200, r.text
    return {row["transaction"]: row for row in r.json()["data"]}


def _trace(server, trace_id: str, light_event: str | None = None) -> dict:
    path = f"/api/0/organizations/pit/events-trace{'-light' if light_event else ''}/{trace_id}/"
    params = {"project": "-1"}
    if light_event:
        params["event_id"] = light_event
    return server.api_json("GET", path, params=params)


def _post_envelope(server, body: bytes) -> requests.Response:
    return requests.post(server.url + server.envelope_path(), data=body, timeout=30, headers={
        "X-Sentry-Auth": H.sentry_auth_header(server.public_key), "Content-Type": "application/x-sentry-envelope"})


def _send_sdk_trace(dsn: str, profiles: bool = False) -> str:
    """A checkout transaction with nested spans (an N+1 of queries, an HTTP call inside one of
    them) and an error captured inside it; returns its trace id."""
    options = {"profiles_sample_rate": 1.0} if profiles else {}
    sentry_sdk.init(dsn=dsn, traces_sample_rate=1.0, release="shop@2.0.0", environment="production", max_breadcrumbs=0,
                    send_client_reports=False, **options)
    try:
        with sentry_sdk.start_transaction(op="http.server", name="POST /checkout") as transaction:
            trace_id = transaction.trace_id
            for order in (41, 42, 43):
                with sentry_sdk.start_span(op="db", name=f"SELECT * FROM orders WHERE id = {order}"):
                    time.sleep(0.005)
            with sentry_sdk.start_span(op="db", name="UPDATE carts SET total = 10 WHERE id = 7"):
                with sentry_sdk.start_span(op="http.client", name="GET https://payments.example.com/charges/12345"):
                    time.sleep(0.01)
            try:
                1 / 0
            except ZeroDivisionError:
                sentry_sdk.capture_exception()
        with sentry_sdk.start_transaction(op="task", name="send receipt"):
            time.sleep(0.002)
    finally:
        sentry_sdk.flush(timeout=15)
        sentry_sdk.get_client().close(timeout=15)
    return trace_id


def test_sdk_transactions_are_summarised_traced_and_detailed(server):
    trace_id = _send_sdk_trace(server.dsn)
    H.wait_until(lambda: {"POST /checkout", "send receipt"} <= set(_rows(server)), timeout=30, what="two transactions stored")
    body = _table(server).json()
    checkout = next(row for row in body["data"] if row["transaction"] == "POST /checkout")
    assert checkout["count()"] == 1 and checkout["project"] == "default", checkout
    assert checkout["failure_rate()"] == 0 and checkout["apdex()"] == 1, checkout
    assert 5 < checkout["p50(transaction.duration)"] < 2000, checkout
    assert checkout["p95(transaction.duration)"] >= checkout["p50(transaction.duration)"], checkout
    assert checkout["epm()"] > 0, checkout
    meta = body["meta"]
    assert meta["fields"]["count()"] == "integer" and meta["fields"]["p50(transaction.duration)"] == "duration", meta
    assert meta["fields"]["failure_rate()"] == "percentage" and meta["units"]["p95(transaction.duration)"] == "millisecond", meta
    assert list(_rows(server, "transaction:*checkout*")) == ["POST /checkout"]
    assert list(_rows(server, "receipt")) == ["send receipt"]
    r = _table(server, fields=("transaction", "count()"), sort="-p99(transaction.duration)")
    assert r.status_code == 400 and "detail" in r.json(), r.text
    r = _table(server, fields=("transaction", "nonsense()"))
    assert r.status_code == 400 and "nonsense" in r.json()["detail"], r.text

    # The trace: the checkout with the error marked on its span, the receipt in a trace of its own.
    def traced():
        tree = _trace(server, trace_id)
        return tree if tree["transactions"] and tree["transactions"][0]["errors"] else None
    tree = H.wait_until(traced, timeout=30, what="trace with its error")
    assert tree["orphan_errors"] == [], tree
    (root,) = tree["transactions"]
    assert root["transaction"] == "POST /checkout" and root["transaction.op"] == "http.server", root
    assert root["generation"] == 0 and root["parent_span_id"] is None and root["project_slug"] == "default", root
    assert root["start_timestamp"] < root["timestamp"] and root["transaction.duration"] >= 15, root
    (error,) = root["errors"]
    assert error["span"] == root["span_id"] and error["level"] == "error" and "ZeroDivisionError" in error["title"], error
    assert error["issue"].startswith("DEFAULT-") and error["event_type"] == "error", error
    light = _trace(server, trace_id, light_event=error["event_id"])
    assert [t["event_id"] for t in light["transactions"]] == [root["event_id"]] and "children" not in light["transactions"][0], light

    # The transaction's detail carries its spans, as the SDK sent them.
    event = server.api_json("GET", f"/api/0/projects/pit/default/events/{root['event_id']}/")
    assert event["type"] == "transaction" and event["title"] == "POST /checkout", event
    assert event["contexts"]["trace"]["trace_id"] == trace_id, event["contexts"]
    spans = next(entry for entry in event["entries"] if entry["type"] == "spans")["data"]
    assert len(spans) == 5, spans
    ops = sorted(span["op"] for span in spans)
    assert ops == ["db", "db", "db", "db", "http.client"], ops
    http = next(span for span in spans if span["op"] == "http.client")
    update = next(span for span in spans if span.get("description", "").startswith("UPDATE"))
    assert http["parent_span_id"] == update["span_id"], spans

    # The organisation's other projects are not read, and a project outside it is refused.
    r = server.api("GET", f"/api/0/organizations/pit/events-trace/{trace_id}/", params={"project": "999"})
    assert r.status_code == 403 and "detail" in r.json(), r.text
    r = server.api("GET", "/api/0/organizations/pit/events-trace/not-a-trace/")
    assert r.status_code == 400 and r.json()["detail"], r.text
    r = server.api("GET", f"/api/0/organizations/pit/events-trace/{trace_id}/", auth=False)
    assert r.status_code == 401, r.text


def test_profiles_beside_transactions_do_not_disturb_them(server):
    trace_id = _send_sdk_trace(server.dsn, profiles=True)
    H.wait_until(lambda: "POST /checkout" in _rows(server), timeout=30, what="profiled transaction stored")
    tree = H.wait_until(lambda: _trace(server, trace_id)["transactions"] or None, timeout=30, what="trace")
    assert tree[0]["transaction"] == "POST /checkout", tree


def _browser_transaction(event_id: str, trace_id: str, start: float, duration: float, status: str = "ok") -> dict:
    """A pageload as the browser SDK sends it, its Web Vitals in Relay's measurements schema."""
    return {
        "type": "transaction", "event_id": event_id, "platform": "javascript", "transaction": "/products/:id",
        "transaction_info": {"source": "route"}, "release": "web@3.1", "environment": "production",
        "start_timestamp": start, "timestamp": start + duration,
        "contexts": {"trace": {"trace_id": trace_id, "span_id": uuid.uuid4().hex[:16], "op": "pageload", "status": status}},
        "measurements": {"lcp": {"value": 2100.5, "unit": "millisecond"}, "fcp": {"value": 900, "unit": "millisecond"},
                         "cls": {"value": 0.08, "unit": "none"}, "ttfb": {"value": 120, "unit": "millisecond"},
                         "inp": {"value": 180, "unit": "millisecond"}},
        "spans": [{"span_id": uuid.uuid4().hex[:16], "parent_span_id": None, "trace_id": trace_id, "op": "resource.script",
                   "description": "https://cdn.example.com/app.4f9a2c.js", "start_timestamp": start + 0.01,
                   "timestamp": start + 0.2}],
    }


def test_sampled_browser_transactions_extrapolate_and_keep_their_web_vitals(server):
    now = time.time()
    trace_id = uuid.uuid4().hex
    ids = []
    for n in range(4):
        event_id = uuid.uuid4().hex
        ids.append(event_id)
        payload = _browser_transaction(event_id, trace_id, now - 60 + n, 0.2 + 0.4 * n, status="internal_error" if n == 3 else "ok")
        header = {"event_id": event_id, "trace": {"trace_id": trace_id, "public_key": server.public_key, "sample_rate": "0.25"}}
        r = _post_envelope(server, H.make_envelope(header, [({"type": "transaction"}, payload)]))
        assert r.status_code == 200, r.text
    row = H.wait_until(lambda: _rows(server).get("/products/:id"), timeout=30, what="pageloads stored")
    # Four stored at a quarter sample rate stand for sixteen; rates are of those stored.
    assert row["count()"] == 16 and row["failure_rate()"] == 0.25, row
    # T = 300 ms: 200 ms is satisfied, 600 and 1,000 ms tolerated (within 4T), 1,400 ms frustrated.
    assert row["apdex()"] == 0.5, row
    event = server.api_json("GET", f"/api/0/projects/pit/default/events/{ids[0]}/")
    assert event["measurements"]["lcp"] == {"value": 2100.5, "unit": "millisecond"}, event["measurements"]
    assert event["platform"] == "javascript" and event["release"] == "web@3.1", event
    tree = _trace(server, trace_id)
    assert len(tree["transactions"]) == 4 and tree["transactions"][0]["measurements"]["cls"]["value"] == 0.08, tree


def test_span_v2_containers_make_segments_and_spans(server):
    now = time.time()
    trace_id = uuid.uuid4().hex
    segment, child = uuid.uuid4().hex[:16], uuid.uuid4().hex[:16]

    def attributes(op: str) -> dict:
        return {"sentry.op": {"type": "string", "value": op}, "sentry.release": {"type": "string", "value": "api@9"},
                "sentry.environment": {"type": "string", "value": "production"},
                "sentry.segment.id": {"type": "string", "value": segment},
                "sentry.segment.name": {"type": "string", "value": "GET /inventory"}}
    items = [
        {"trace_id": trace_id, "span_id": segment, "name": "GET /inventory", "status": "ok", "is_segment": True, "kind": "server",
         "start_timestamp": now - 5, "end_timestamp": now - 4.7, "attributes": attributes("http.server")},
        {"trace_id": trace_id, "span_id": child, "parent_span_id": segment, "name": "SELECT * FROM stock WHERE sku = 'A-1'",
         "status": "error", "is_segment": False, "kind": "client", "start_timestamp": now - 4.9, "end_timestamp": now - 4.8,
         "attributes": attributes("db")},
    ]
    header = {"trace": {"trace_id": trace_id, "public_key": server.public_key, "sample_rate": "1.0"}}
    item = {"type": "span", "item_count": 2, "content_type": "application/vnd.sentry.items.span.v2+json"}
    r = _post_envelope(server, H.make_envelope(header, [(item, {"version": 2, "items": items})]))
    assert r.status_code == 200, r.text
    row = H.wait_until(lambda: _rows(server).get("GET /inventory"), timeout=30, what="segment stored")
    assert row["count()"] == 1 and 250 < row["p50(transaction.duration)"] < 350, row
    tree = _trace(server, trace_id)
    (root,) = tree["transactions"]
    assert root["span_id"] == segment and root["transaction.op"] == "http.server", root
    event = server.api_json("GET", f"/api/0/projects/pit/default/events/{root['event_id']}/")
    assert event["type"] == "transaction" and event["title"] == "GET /inventory" and "errors" not in event, event

    bad = {"type": "span", "item_count": 3, "content_type": "application/vnd.sentry.items.span.v2+json"}
    r = _post_envelope(server, H.make_envelope(header, [(bad, {"version": 2, "items": items})]))
    assert r.status_code == 400 and "item_count" in r.json()["detail"], r.text


def test_sdk_span_streaming_mode_is_stored_as_segments_and_spans(server):
    import sentry_sdk.traces

    sentry_sdk.init(dsn=server.dsn, traces_sample_rate=1.0, trace_lifecycle="stream", release="api@1.0", environment="production",
                    send_client_reports=False)
    try:
        with sentry_sdk.traces.start_span(name="GET /stream", attributes={"sentry.op": "http.server"}) as segment:
            trace_id = segment.trace_id
            for sku in (1, 2):
                with sentry_sdk.traces.start_span(name=f"SELECT * FROM stock WHERE sku = {sku}", attributes={"sentry.op": "db"}):
                    time.sleep(0.005)
    finally:
        sentry_sdk.flush(timeout=15)
        sentry_sdk.get_client().close(timeout=15)
    row = H.wait_until(lambda: _rows(server).get("GET /stream"), timeout=30, what="streamed segment stored")
    assert row["count()"] == 1 and row["p50(transaction.duration)"] >= 8, row
    tree = _trace(server, trace_id)
    (root,) = tree["transactions"]
    assert root["transaction"] == "GET /stream" and root["transaction.op"] == "http.server", root


def test_the_apdex_threshold_is_a_project_setting(server):
    path = "/api/0/projects/pit/default/performance/"
    assert server.api_json("GET", path) == {"project": "default", "apdexThreshold": 300}
    r = server.api("PUT", path, json={"apdexThreshold": 0})
    assert r.status_code == 400 and "Apdex" in r.json()["detail"], r.text
    r = server.api("PUT", path, json={})
    assert r.status_code == 400 and r.json()["detail"], r.text
    assert server.api_json("PUT", path, json={"apdexThreshold": 1000}) == {"project": "default", "apdexThreshold": 1000}
    now = time.time()
    trace_id = uuid.uuid4().hex
    for duration in (0.8, 2.5):
        event_id = uuid.uuid4().hex
        payload = _browser_transaction(event_id, trace_id, now - 30, duration)
        r = _post_envelope(server, H.make_envelope({"event_id": event_id}, [({"type": "transaction"}, payload)]))
        assert r.status_code == 200, r.text
    row = H.wait_until(lambda: (_rows(server).get("/products/:id") or {}).get("count()") == 2 and _rows(server)["/products/:id"],
                       timeout=30, what="two pageloads stored")
    # T = 1 s: 800 ms satisfied, 2.5 s tolerated (within 4T).
    assert row["apdex()"] == 0.75, row
