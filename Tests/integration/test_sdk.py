"""The official Python sentry-sdk against a live pitd."""

from __future__ import annotations

import contextlib
import logging
import sys
import time

import pytest
import sentry_sdk
from sentry_sdk.crons import capture_checkin
from sentry_sdk.integrations.logging import LoggingIntegration
from sentry_sdk.transport import HttpTransport

import pit_helpers as H

# Verified against sentry_sdk/transport.py (HttpTransportCore.__init__ /
# _serialize_envelope) of the installed version:
#  - transport_compression_level == 0          -> body sent as is, no Content-Encoding
#  - transport_compression_algo "gzip"          -> Content-Encoding: gzip (level 9)
#  - transport_compression_algo "br" (+brotli)  -> Content-Encoding: br (quality 4)
COMPRESSION = {
    "none": ({"transport_compression_level": 0}, None),
    "gzip": ({"transport_compression_algo": "gzip"}, "gzip"),
    "br": ({"transport_compression_algo": "br"}, "br"),
}


class RecordingTransport(HttpTransport):
    """The SDK's own HTTP transport, recording what it sent and got back."""

    def __init__(self, options):
        super().__init__(options)
        self.records: list = []
        self._pending: dict = {}

    def _send_request(self, body, headers, endpoint_type, envelope=None):
        self._pending = {
            "encoding": headers.get("Content-Encoding"),
            "types": [item.type for item in envelope.items] if envelope is not None else [],
            "status": None,
            "body": None,
        }
        try:
            super()._send_request(body, headers, endpoint_type, envelope)
        except Exception as e:  # network error: record, let the SDK swallow it
            self._pending["error"] = repr(e)
            self.records.append(self._pending)
            raise

    def _handle_response(self, response, envelope):
        rec = dict(self._pending)
        rec["status"] = response.status
        data = getattr(response, "data", None)
        rec["body"] = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        self.records.append(rec)
        super()._handle_response(response, envelope)

    # helpers -------------------------------------------------------------
    def statuses_by_type(self) -> dict:
        out: dict = {}
        for r in self.records:
            for t in r["types"]:
                out.setdefault(t, []).append(r["status"])
        return out


class SdkRun:
    def __init__(self, transport: RecordingTransport):
        self.transport = transport

    @property
    def records(self):
        return self.transport.records

    def flush(self, expect_2xx: bool = True):
        sentry_sdk.flush(timeout=15)
        if expect_2xx:
            bad = [r for r in self.records if r["status"] is None or not (200 <= r["status"] < 300)]
            assert not bad, f"pitd refused SDK envelopes: {bad}"
        return self.records


@contextlib.contextmanager
def sdk(dsn: str, compression: str = "default", **options):
    """sentry_sdk.init for one test; isolated scope; closed afterwards."""
    exp = dict(COMPRESSION[compression][0]) if compression != "default" else {}
    exp.update(options.pop("_experiments", {}))
    options.setdefault("environment", "e2e")
    options.setdefault("release", "pit-e2e@1.0.0")
    sentry_sdk.init(dsn=dsn, transport=RecordingTransport, _experiments=exp, debug=False, **options)
    client = sentry_sdk.get_client()
    transport = client.transport
    assert isinstance(transport, RecordingTransport), transport
    try:
        with sentry_sdk.isolation_scope(), sentry_sdk.new_scope():
            yield SdkRun(transport)
    finally:
        client.flush(timeout=15)
        client.close(timeout=15)


# ---------------------------------------------------------------------------
# code locations used for grouping (keep them stable: grouping uses frames)
# ---------------------------------------------------------------------------

def fail_checkout(order):
    raise ValueError(f"checkout failed for order {order}")


def fail_parse(text):
    raise TypeError(f"cannot parse {text!r}")


def capture(fn, *args) -> str:
    try:
        fn(*args)
    except Exception:
        eid = sentry_sdk.capture_exception()
    assert eid, "capture_exception returned no event id"
    return eid


# ---------------------------------------------------------------------------

@pytest.mark.parametrize("compression", ["none", "gzip", "br"])
def test_transport_compression_roundtrip(server, compression):
    with sdk(server.dsn, compression) as run:
        expected_enc = COMPRESSION[compression][1]
        eid_msg = sentry_sdk.capture_message(f"hello via {compression}", level="warning")
        eid_exc = capture(fail_checkout, compression)
        run.flush()
    encodings = {r["encoding"] for r in run.records if "event" in r["types"]}
    assert encodings == {expected_enc}, f"SDK sent Content-Encoding {encodings}, wanted {expected_enc}"

    ev = server.event(eid_msg)
    assert ev["eventID"] == eid_msg
    assert H.ev_message_template(ev) == f"hello via {compression}", H.short(ev)
    assert ev.get("level") in (None, "warning"), H.short(ev)

    ev = server.event(eid_exc)
    excs = H.ev_exceptions(ev)
    assert excs and excs[-1]["type"] == "ValueError", H.short(ev)
    issue = server.issue(ev["groupID"])
    assert "ValueError" in issue["title"], issue
    assert issue["status"] == "unresolved", issue
    assert issue["count"] == "1", issue


def test_same_exception_twice_one_issue_count_2(server):
    with sdk(server.dsn) as run:
        ids = [capture(fail_checkout, 17) for _ in range(2)]
        run.flush()
    evs = [server.event(i) for i in ids]
    assert evs[0]["groupID"] == evs[1]["groupID"], [e["groupID"] for e in evs]
    issues = server.issues()
    assert len(issues) == 1, H.short(issues)
    issue = issues[0]
    assert str(issue["id"]) == str(evs[0]["groupID"]), (issue, evs[0]["groupID"])
    assert isinstance(issue["id"], str), issue
    assert issue["count"] == "2", issue
    assert issue["level"] == "error", issue
    assert issue["metadata"].get("type") == "ValueError", issue
    assert "checkout failed" in (issue["metadata"].get("value") or ""), issue
    for k in ("shortId", "title", "culprit", "firstSeen", "lastSeen", "userCount"):
        assert k in issue, f"issue lacks {k}: {issue}"
    assert H.parse_timestamp(issue["firstSeen"]) <= H.parse_timestamp(issue["lastSeen"]), issue
    listed = {e["eventID"] for e in server.issue_events(issue["id"])}
    assert listed == set(ids), listed


def test_same_location_different_value_groups_together(server):
    # Sentry ignores the exception value when there is an in-app stack trace.
    with sdk(server.dsn) as run:
        ids = [capture(fail_checkout, n) for n in (1, 2, 3)]
        run.flush()
    groups = {server.event(i)["groupID"] for i in ids}
    assert len(groups) == 1, groups
    assert server.issue(groups.pop())["count"] == "3"


def test_different_error_is_second_issue(server):
    with sdk(server.dsn) as run:
        a = capture(fail_checkout, 1)
        b = capture(fail_parse, "x")
        a2 = capture(fail_checkout, 1)
        run.flush()
    ga, gb, ga2 = (server.event(i)["groupID"] for i in (a, b, a2))
    assert ga == ga2 and ga != gb, (ga, gb, ga2)
    issues = {str(i["id"]): i for i in server.issues()}
    assert len(issues) == 2, H.short(list(issues.values()))
    assert issues[str(ga)]["count"] == "2"
    assert issues[str(gb)]["count"] == "1"
    assert issues[str(gb)]["metadata"].get("type") == "TypeError", issues[str(gb)]


def raise_chained():
    try:
        {}["missing"]
    except KeyError as e:
        raise RuntimeError("lookup wrapper failed") from e


def test_chained_exception_stored_with_both(server):
    with sdk(server.dsn) as run:
        eid = capture(raise_chained)
        run.flush()
    ev = server.event(eid)
    types = [e.get("type") for e in H.ev_exceptions(ev)]
    assert types == ["KeyError", "RuntimeError"], f"{types}: {H.short(ev)}"
    issue = server.issue(ev["groupID"])
    assert issue["metadata"].get("type") == "RuntimeError", issue
    assert "RuntimeError" in issue["title"], issue


def raise_group():
    raise ExceptionGroup("several things failed", [ValueError("first"), TypeError("second")])


@pytest.mark.skipif(sys.version_info < (3, 11), reason="ExceptionGroup needs Python 3.11")
def test_exception_group_stored_and_grouped(server):
    with sdk(server.dsn) as run:
        ids = [capture(raise_group) for _ in range(2)]
        other = capture(fail_checkout, 5)
        run.flush()
    ev = server.event(ids[0])
    excs = H.ev_exceptions(ev)
    types = {e.get("type") for e in excs}
    assert {"ExceptionGroup", "ValueError", "TypeError"} <= types, H.short(ev)
    grp = [e for e in excs if e.get("type") == "ExceptionGroup"][0]
    assert (grp.get("mechanism") or {}).get("is_exception_group") is True, grp
    g0, g1, g2 = ev["groupID"], server.event(ids[1])["groupID"], server.event(other)["groupID"]
    assert g0 == g1, "same exception group twice must be one issue"
    assert g0 != g2
    issue = server.issue(g0)
    assert issue["count"] == "2", issue
    assert any(t in issue["title"] for t in ("ExceptionGroup", "ValueError", "TypeError")), issue


def test_logging_template_groups_parameters(server):
    log = logging.getLogger("pit.e2e.auth")
    with sdk(server.dsn, integrations=[LoggingIntegration(level=None, event_level=logging.ERROR)]) as run:
        for user in ("alice", "bob", "carol"):
            log.error("User %s failed to log in", user)
        run.flush()
    event_records = [r for r in run.records if "event" in r["types"]]
    assert len(event_records) == 3, run.records
    issues = server.issues()
    assert len(issues) == 1, H.short(issues)
    issue = issues[0]
    assert issue["count"] == "3", issue
    events = server.issue_events(issue["id"])
    assert len(events) == 3, events
    ev = server.event(events[0]["eventID"])
    le = ev.get("logentry") or {}
    assert le.get("message") == "User %s failed to log in", H.short(ev)
    assert le.get("params") and le["params"][0] in ("alice", "bob", "carol"), le


def test_logentry_event_params_one_issue(server):
    with sdk(server.dsn) as run:
        ids = [
            sentry_sdk.capture_event({
                "level": "error",
                "logentry": {"message": "User %s failed", "params": [name],
                             "formatted": f"User {name} failed"},
            })
            for name in ("x", "y")
        ]
        other = sentry_sdk.capture_event({"level": "error", "logentry": {"message": "Disk %s full", "params": ["/"]}})
        run.flush()
    g = [server.event(i)["groupID"] for i in ids + [other]]
    assert g[0] == g[1] != g[2], g
    assert server.issue(g[0])["count"] == "2"


def test_custom_fingerprint(server):
    with sdk(server.dsn) as run:
        a = sentry_sdk.capture_message("message one", fingerprint=["pit-e2e-custom"])
        b = sentry_sdk.capture_message("a completely different message", fingerprint=["pit-e2e-custom"])
        with sentry_sdk.new_scope() as scope:
            scope.fingerprint = ["pit-e2e-custom"]
            c = capture(fail_parse, "fp")
        d = sentry_sdk.capture_message("message one", fingerprint=["other-fp"])
        run.flush()
    ga, gb, gc, gd = (server.event(i)["groupID"] for i in (a, b, c, d))
    assert ga == gb == gc, (ga, gb, gc)
    assert gd != ga
    assert H.ev_fingerprint(server.event(a)) == ["pit-e2e-custom"], H.short(server.event(a))
    assert server.issue(ga)["count"] == "3"


def test_user_count(server):
    with sdk(server.dsn) as run:
        ids = []
        for uid in ("u-1", "u-2", "u-1", None):
            with sentry_sdk.isolation_scope():
                if uid:
                    sentry_sdk.set_user({"id": uid, "email": f"{uid}@example.com"})
                ids.append(sentry_sdk.capture_message("who am i", fingerprint=["users"]))
        run.flush()
    ev = server.event(ids[0])
    assert (ev.get("user") or {}).get("id") == "u-1", H.short(ev)
    issue = server.issue(ev["groupID"])
    assert issue["count"] == "4", issue
    assert issue["userCount"] == 2, issue


def test_tags_release_environment_stored(server):
    with sdk(server.dsn, release="shop@2.3.4", environment="staging", server_name="web-7") as run:
        sentry_sdk.set_tag("region", "eu-west")
        sentry_sdk.set_tag("feature", "checkout")
        sentry_sdk.set_extra("cart_size", 3)
        sentry_sdk.set_context("order", {"id": 991})
        eid = capture(fail_checkout, 991)
        run.flush()
    ev = server.event(eid)
    tags = H.ev_tags(ev)
    assert tags.get("region") == "eu-west" and tags.get("feature") == "checkout", H.short(ev)
    assert H.ev_release(ev) == "shop@2.3.4", H.short(ev)
    assert H.ev_environment(ev) == "staging", H.short(ev)
    assert (ev.get("contexts") or {}).get("order", {}).get("id") == 991, H.short(ev)
    sdk_info = ev.get("sdk") or {}
    assert sdk_info.get("name") == "sentry.python", H.short(ev)


def test_attachment_with_event(server):
    with sdk(server.dsn) as run:
        with sentry_sdk.new_scope() as scope:
            scope.add_attachment(bytes=b"line1\nline2\n", filename="debug.log", content_type="text/plain")
            eid = capture(fail_checkout, "att")
        run.flush()
    types = [t for r in run.records for t in r["types"]]
    assert "attachment" in types, run.records
    assert server.event(eid)["eventID"] == eid


@pytest.mark.parametrize("compression", ["none", "gzip", "br"])
def test_other_item_types_accepted(server, compression):
    """transaction, session, check_in and log envelopes are answered 2xx."""
    with sdk(server.dsn, compression, traces_sample_rate=1.0, enable_logs=True,
             release="pit-e2e@9.9.9") as run:
        with sentry_sdk.start_transaction(name="checkout", op="task"):
            with sentry_sdk.start_span(op="db.query", name="select 1"):
                time.sleep(0.005)
        sentry_sdk.start_session()
        sentry_sdk.end_session()
        capture_checkin(monitor_slug="nightly-job", status="in_progress")
        capture_checkin(monitor_slug="nightly-job", status="ok", duration=1.5)
        sentry_sdk.logger.info("user {user} logged in", user="alice")
        sentry_sdk.logger.warning("disk at {pct}%", pct=91)
        eid = sentry_sdk.capture_message("mixed traffic")
        run.flush()
    by_type = run.transport.statuses_by_type()
    for t in ("transaction", "session", "check_in", "log", "event"):
        assert t in by_type, f"SDK sent no {t!r} item; sent {by_type}"
        assert all(s is not None and 200 <= s < 300 for s in by_type[t]), f"{t}: {by_type[t]} {run.records}"
    assert server.event(eid)["eventID"] == eid
    r = server.api("GET", "/metrics", auth=False)
    assert r.status_code == 200, r.text[:500]
    assert any(line.startswith("pit_") for line in r.text.splitlines()), r.text[:2000]


def test_regression_resolved_issue_reopens(server):
    with sdk(server.dsn) as run:
        first = capture(fail_checkout, "reg")
        run.flush()
        gid = server.event(first)["groupID"]
        r = server.api("PUT", f"/api/0/issues/{gid}/", json={"status": "resolved"})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "resolved", r.text
        assert server.issue(gid)["status"] == "resolved"
        second = capture(fail_checkout, "reg")
        run.flush()
    assert server.event(second)["groupID"] == gid
    issue = server.issue(gid)
    assert issue["status"] == "unresolved", f"resolved issue did not regress: {issue}"
    assert issue["count"] == "2", issue


def test_dsn_with_path_prefix(server):
    dsn = server.dsn_for(server.public_key, server.project_id, prefix="/sentry-proxy")
    with sdk(dsn) as run:
        eid = sentry_sdk.capture_message("via prefixed DSN")
        run.flush()
    assert server.event(eid)["eventID"] == eid


def test_sdk_backs_off_when_pitd_sheds_load(server_factory):
    """Shed requests are answered 503 with Retry-After and X-Sentry-Rate-Limits; the official SDK
    honours the latter on any status (Retry-After alone only on 429) and stops sending until then,
    instead of hammering an overloaded server."""
    # A 1 µs delay target, counted however idle the loop is: every event-loop probe is later than
    # that, so pitd sheds its maximum share (95 %) of requests.
    server = server_factory(env={"PIT_ADMISSION_TARGET_US": "1", "PIT_ADMISSION_BUSY_PERCENT": "0"})
    time.sleep(0.2)
    with sdk(server.dsn) as run:
        for i in range(40):
            sentry_sdk.capture_message(f"under overload {i}")
            time.sleep(0.01)
        run.flush(expect_2xx=False)
        sent = [r for r in run.records if r["status"] is not None]
    assert any(r["status"] == 503 for r in sent), sent
    # Retry-After is 1 s and the 40 messages were captured within ~0.5 s: after the first 503
    # the SDK sent (almost) nothing more.
    assert len(sent) < 10, f"the SDK kept sending after 503: {[r['status'] for r in sent]}"
