"""Attachments and minidumps (issue 12) sent through the official Python SDK's scope
attachments and as crash reporters upload minidumps (crashpad/breakpad multipart and raw bodies):
stored beside their event, listed and downloaded through /api/0 in Sentry's shapes, and shown on
the event page (screenshots inline, the view hierarchy as a tree; checked in headless Chromium,
screenshots in .build/screenshots)."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import struct
import uuid
import zlib

import pytest
import requests
import sentry_sdk
from selenium.webdriver.common.by import By
from sentry_sdk.attachments import Attachment
from sentry_sdk.envelope import Envelope, Item, PayloadRef

import pit_helpers as H
from conftest import screenshot


def _png(width: int = 120, height: int = 80) -> bytes:
    """A real PNG (a violet gradient) so the browser has something to draw."""
    raw = b"".join(b"\x00" + bytes(c for x in range(width) for c in (90 + x, 40, 160 + y // 2)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


VIEW_HIERARCHY = {
    "rendering_system": "UIKIT",
    "windows": [{
        "type": "UIWindow", "identifier": "main", "x": 0, "y": 0, "width": 390, "height": 844, "alpha": 1, "visible": True,
        "children": [
            {"type": "UINavigationBar", "x": 0, "y": 47, "width": 390, "height": 44, "children": [
                {"type": "UILabel", "identifier": "title", "x": 150, "y": 10, "width": 90, "height": 22}]},
            {"type": "UIButton", "identifier": "checkout_button", "x": 20, "y": 760, "width": 350, "height": 50},
            {"type": "UIActivityIndicatorView", "visible": False, "x": 185, "y": 400, "width": 20, "height": 20},
        ],
    }],
}


class ViewHierarchy(Attachment):
    """What the mobile SDKs send: a JSON attachment with ``attachment_type: event.view_hierarchy``."""

    def to_envelope_item(self) -> Item:
        item = super().to_envelope_item()
        item.headers["attachment_type"] = "event.view_hierarchy"
        return item


def minidump(platform: int = 0x8201, code: int = 11, flags: int = 1, params=(), arch: int = 9, csd: str = "Linux 6.1") -> bytes:
    """A little-endian minidump as breakpad writes one: header, directory, system info (with its
    CSD version string) and an exception stream."""
    csd_units = csd.encode("utf-16-le")
    directory, sysinfo = 32, 32 + 24
    csd_rva = sysinfo + 56
    exception = csd_rva + 4 + len(csd_units)
    out = b"MDMP" + struct.pack("<IIIIIQ", 0xA793, 2, directory, 0, 0, 0)
    out += struct.pack("<III", 7, 56, sysinfo) + struct.pack("<III", 6, 168, exception)
    out += struct.pack("<HHHBBIIIIIHH", arch, 6, 0, 2, 1, 6, 1, 0, platform, csd_rva, 0, 0) + b"\0" * 24
    out += struct.pack("<I", len(csd_units)) + csd_units
    params = list(params) + [0] * (15 - len(params))
    out += struct.pack("<IIIIQQII", 42, 0, code, flags, 0, 0xDEAD, len([p for p in params if p]), 0)
    out += struct.pack("<15Q", *params) + struct.pack("<II", 0, 0)
    return out


def _attachments(server, event_id: str, slug: str = "default") -> requests.Response:
    return server.api("GET", f"/api/0/projects/pit/{slug}/events/{event_id}/attachments/")


def _sdk_event_with_attachments(server, tmp_path) -> tuple[str, dict]:
    log_path = tmp_path / "app.log"
    log_path.write_bytes(b"2026-12-02 INFO started\n" * 400)
    files = {
        "debug.log": b"line1\nline2\n",
        "app.log": log_path.read_bytes(),
        "screenshot.png": _png(),
        "view-hierarchy.json": json.dumps(VIEW_HIERARCHY).encode(),
    }
    sentry_sdk.init(dsn=server.dsn, release="shop@4.0.0", environment="production", max_breadcrumbs=0)
    try:
        with sentry_sdk.new_scope() as scope:
            scope.add_attachment(bytes=files["debug.log"], filename="debug.log", content_type="text/plain")
            scope.add_attachment(path=str(log_path))
            scope.add_attachment(bytes=files["screenshot.png"], filename="screenshot.png", content_type="image/png")
            scope._attachments.append(ViewHierarchy(bytes=files["view-hierarchy.json"], filename="view-hierarchy.json",
                                                    content_type="application/json"))
            try:
                raise ValueError("checkout button does nothing")
            except ValueError:
                event_id = sentry_sdk.capture_exception()
    finally:
        sentry_sdk.flush(timeout=15)
        sentry_sdk.get_client().close(timeout=15)
    H.wait_until(lambda: server.event_status(event_id) == 200, timeout=20, what="event stored")
    return event_id, files



# ---------------------------------------------------------------- SDK attachments

def test_sdk_attachments_are_listed_and_downloaded(server, tmp_path):
    event_id, files = _sdk_event_with_attachments(server, tmp_path)
    r = _attachments(server, event_id)
    assert r.status_code == 200, r.text
    rows = r.json()
    assert [a["name"] for a in rows] == ["debug.log", "app.log", "screenshot.png", "view-hierarchy.json"]
    by_name = {a["name"]: a for a in rows}
    for name, data in files.items():
        row = by_name[name]
        assert set(row) >= {"id", "event_id", "name", "type", "size", "mimetype", "dateCreated", "sha1", "headers"}, row
        assert row["event_id"] == event_id and row["size"] == len(data), row
        assert row["sha1"] == hashlib.sha1(data).hexdigest(), row
        assert row["headers"]["Content-Type"] == row["mimetype"]
        H.parse_timestamp(row["dateCreated"])
        one = server.api_json("GET", f"/api/0/projects/pit/default/events/{event_id}/attachments/{row['id']}/")
        assert one == row
        download = server.api("GET", f"/api/0/projects/pit/default/events/{event_id}/attachments/{row['id']}/?download=1")
        assert download.status_code == 200 and download.content == data, name
        assert download.headers["Content-Disposition"].startswith(f'attachment; filename="{name}"')
    assert by_name["view-hierarchy.json"]["type"] == "event.view_hierarchy"
    assert by_name["debug.log"]["type"] == "event.attachment" and by_name["debug.log"]["mimetype"] == "text/plain"
    assert by_name["screenshot.png"]["mimetype"] == "image/png"
    assert server.api("GET", f"/api/0/projects/pit/default/events/{event_id}/attachments/"
                             f"{by_name['screenshot.png']['id']}/?download=1").headers["Content-Type"] == "image/png"

    # Scoped to the project of the URL and to tokens.
    other = server.api_json("POST", "/api/0/teams/pit/pit/projects/", expect=201, json={"name": "Other"})
    assert _attachments(server, event_id, other["slug"]).json() == []
    stolen = server.api("GET", f"/api/0/projects/pit/{other['slug']}/events/{event_id}/attachments/"
                               f"{rows[0]['id']}/?download=1")
    assert stolen.status_code == 404
    assert requests.get(server.url + f"/api/0/projects/pit/default/events/{event_id}/attachments/").status_code == 401

    # The event page lists them, shows the screenshot and the view hierarchy.
    s = H.sign_in_session(server)
    page = s.get(server.url + f"/organizations/pit/projects/default/events/{event_id}/")
    assert page.status_code == 200
    assert "Attachments" in page.text and "app.log" in page.text and "UIButton" in page.text
    image_url = f"/organizations/pit/projects/default/events/{event_id}/attachments/{by_name['screenshot.png']['id']}/"
    assert f'<img src="{image_url}"' in page.text
    image = s.get(server.url + image_url)
    assert image.status_code == 200 and image.content == files["screenshot.png"]
    assert image.headers["Content-Type"] == "image/png" and image.headers["X-Content-Type-Options"] == "nosniff"


def test_attachment_sent_before_its_event_is_linked(server):
    event_id = uuid.uuid4().hex
    envelope = Envelope(headers={"event_id": event_id})
    envelope.add_item(Item(payload=PayloadRef(bytes=b"crash context"), type="attachment", filename="context.txt",
                           content_type="text/plain"))
    assert H.raw_request(server.host, server.port, "POST", server.envelope_path(), envelope.serialize(),
                         {**server.auth_headers(), "Content-Type": "application/x-sentry-envelope"}).status == 200
    assert [a["name"] for a in _attachments(server, event_id).json()] == ["context.txt"]
    body, _ = H.event_envelope({"event_id": event_id, "message": "late event", "level": "error"})
    assert H.raw_request(server.host, server.port, "POST", server.envelope_path(), body,
                         {**server.auth_headers(), "Content-Type": "application/x-sentry-envelope"}).status == 200
    assert server.event(event_id)["eventID"] == event_id
    assert [a["name"] for a in _attachments(server, event_id).json()] == ["context.txt"]


def test_attachment_limits(server_factory):
    server = server_factory(env={"PIT_MAX_ATTACHMENT_BYTES": "4096"})
    event_id = uuid.uuid4().hex
    envelope = Envelope(headers={"event_id": event_id})
    envelope.add_item(Item(payload=PayloadRef(bytes=b"x" * 5000), type="attachment", filename="big.bin"))
    r = requests.post(server.url + server.envelope_path(), data=envelope.serialize(),
                      headers={**server.auth_headers(), "Content-Type": "application/x-sentry-envelope"}, timeout=30)
    assert r.status_code == 413, r.text
    assert "detail" in r.json()
    many = Envelope(headers={"event_id": event_id})
    for n in range(31):
        many.add_item(Item(payload=PayloadRef(bytes=b"x"), type="attachment", filename=f"f{n}.txt"))
    r = requests.post(server.url + server.envelope_path(), data=many.serialize(),
                      headers={**server.auth_headers(), "Content-Type": "application/x-sentry-envelope"}, timeout=30)
    assert r.status_code == 413 and "too many attachments" in r.json()["detail"], r.text
    # A minidump over the limit is refused the same way.
    r = requests.post(server.url + f"/api/{server.project_id}/minidump/?sentry_key={server.public_key}",
                      data=minidump() + b"\0" * 5000, headers={"Content-Type": "application/octet-stream"}, timeout=30)
    assert r.status_code == 413, r.text
    assert _attachments(server, event_id).json() == []


# ---------------------------------------------------------------- minidumps

def _minidump_url(server, key: bool = True) -> str:
    return server.url + f"/api/{server.project_id}/minidump/" + (f"?sentry_key={server.public_key}" if key else "")


def test_minidump_upload_like_crashpad(server):
    dump = minidump(platform=2, code=0xC0000005, flags=0, params=(1, 0x10), csd="Service Pack 1")
    sentry_event = {"release": "game@1.4.2", "environment": "production", "user": {"id": "player-7"},
                    "tags": {"gpu": "rtx"}}
    r = requests.post(_minidump_url(server), files={
        "upload_file_minidump": ("7f3c.dmp", dump, "application/octet-stream"),
        "sentry": (None, json.dumps(sentry_event)),
        "sentry[tags][map]": (None, "dust2"),
        "settings.ini": ("settings.ini", b"volume=3\n", "text/plain"),
        "guid": (None, "ignored-crashpad-field"),
    }, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain")
    event_id = r.text.strip()
    assert re.fullmatch(r"[0-9a-f]{32}", event_id), r.text
    event = server.event(event_id)
    assert event["title"] == "EXCEPTION_ACCESS_VIOLATION_WRITE: Fatal Error: EXCEPTION_ACCESS_VIOLATION_WRITE", event["title"]
    assert event["platform"] == "native"
    tags = {t["key"]: t["value"] for t in event["tags"]}
    assert tags.get("level") == "fatal" and tags.get("map") == "dust2" and tags.get("gpu") == "rtx", tags
    assert H.ev_release(event) == "game@1.4.2"
    assert event["contexts"]["os"]["name"] == "Windows"
    rows = _attachments(server, event_id).json()
    assert [(a["name"], a["type"]) for a in rows] == [("7f3c.dmp", "event.minidump"), ("settings.ini", "event.attachment")]
    download = server.api("GET", f"/api/0/projects/pit/default/events/{event_id}/attachments/{rows[0]['id']}/?download=1")
    assert download.content == dump


def test_minidump_raw_and_gzip_bodies(server):
    # Raw body, key in X-Sentry-Auth, no trailing slash.
    r = requests.post(server.url + f"/api/{server.project_id}/minidump", data=minidump(code=6, flags=0),
                      headers={**server.auth_headers(), "Content-Type": "application/x-dmp"}, timeout=30)
    assert r.status_code == 200, r.text
    assert server.event(r.text.strip())["title"] == "SIGABRT: Fatal Error: SIGABRT"
    # A gzip'ed dump file, and a whole gzip'ed request.
    r = requests.post(_minidump_url(server), data=gzip.compress(minidump(platform=0x8101, code=1, flags=1)),
                      headers={"Content-Type": "application/octet-stream"}, timeout=30)
    assert r.status_code == 200, r.text
    assert server.event(r.text.strip())["title"].startswith("EXC_BAD_ACCESS / KERN_INVALID_ADDRESS")
    r = requests.post(_minidump_url(server), data=gzip.compress(minidump(code=11, flags=2)),
                      headers={"Content-Type": "application/octet-stream", "Content-Encoding": "gzip"}, timeout=30)
    assert r.status_code == 200, r.text
    assert server.event(r.text.strip())["title"] == "SIGSEGV / SEGV_ACCERR: Fatal Error: SIGSEGV / SEGV_ACCERR"
    # A signature and garbage: still stored, as Sentry does, with the placeholder title.
    r = requests.post(_minidump_url(server), data=b"MDMP" + b"\xff" * 40, timeout=30)
    assert r.status_code == 200, r.text
    assert server.event(r.text.strip())["title"] == "Minidump: Invalid Minidump"


@pytest.mark.parametrize("body,content_type,expect,reason", [
    (b"", "application/octet-stream", 400, "empty"),
    (b"ELF\x02 not a dump", "application/octet-stream", 400, "invalid minidump"),
    (b"--b\r\nContent-Disposition: form-data; name=\"other\"; filename=\"x\"\r\n\r\nabc\r\n--b--\r\n",
     "multipart/form-data; boundary=b", 400, "missing minidump"),
    (b"--b\r\nContent-Disposition: form-data; name=\"upload_file_minidump\"; filename=\"x\"\r\n\r\nMDMP",
     "multipart/form-data; boundary=b", 400, "closing boundary"),
    (b"\x1f\x8b\x08\x00garbage", "application/octet-stream", 400, "gzip"),
])
def test_minidump_bad_bodies(server, body, content_type, expect, reason):
    r = requests.post(_minidump_url(server), data=body, headers={"Content-Type": content_type}, timeout=30)
    assert r.status_code == expect, r.text
    assert reason in r.json()["detail"], r.text


def test_minidump_auth(server):
    assert requests.post(_minidump_url(server, key=False), data=minidump(), timeout=30).status_code == 401
    r = requests.post(server.url + f"/api/{server.project_id}/minidump/?sentry_key=" + "0" * 32, data=minidump(), timeout=30)
    assert r.status_code == 403


def test_minidump_is_never_answered_429(server):
    """As Relay: a crash reporter retries a 429 forever, so a rate-limited upload is dropped and
    answered 200 with an event id, while an envelope over the same limit gets its 429."""
    r = server.api("PUT", f"/api/0/projects/pit/default/keys/{server.public_key}/",
                   json={"rateLimit": {"count": 1, "window": 3600}})
    assert r.status_code == 200, r.text
    first = requests.post(_minidump_url(server), data=minidump(), timeout=30)
    assert first.status_code == 200, first.text
    assert server.event_status(first.text.strip()) == 200
    second = requests.post(_minidump_url(server), data=minidump(code=6, flags=0), timeout=30)
    assert second.status_code == 200 and re.fullmatch(r"[0-9a-f]{32}", second.text.strip()), second.text
    assert server.event_status(second.text.strip()) == 404, "dropped, not stored"
    body, _ = H.event_envelope({"message": "over the limit"})
    limited = H.raw_request(server.host, server.port, "POST", server.envelope_path(), body,
                            {**server.auth_headers(), "Content-Type": "application/x-sentry-envelope"})
    assert limited.status == 429


# ---------------------------------------------------------------- pages in Chromium

def test_attachments_on_the_event_page_in_chromium(server, chromium, tmp_path):
    event_id, _ = _sdk_event_with_attachments(server, tmp_path)
    r = requests.post(_minidump_url(server), files={
        "upload_file_minidump": ("crash.dmp", minidump(code=11, flags=1), "application/octet-stream"),
        "sentry[release]": (None, "native@2.0"),
    }, timeout=30)
    assert r.status_code == 200, r.text
    dump_event = r.text.strip()

    d = chromium
    H.browser_sign_in(d, server)
    d.get(server.url + f"/organizations/pit/projects/default/events/{event_id}/")
    rows = d.find_elements(By.CSS_SELECTOR, "table.attachments tbody tr")
    assert [row.find_element(By.CSS_SELECTOR, "td").text for row in rows] == \
        ["debug.log", "app.log", "screenshot.png", "view-hierarchy.json"]
    image = d.find_element(By.CSS_SELECTOR, ".screenshots img")
    H.wait_until(lambda: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image) == 120,
                 timeout=10, what="screenshot loaded")
    tree = d.find_element(By.CSS_SELECTOR, ".view-hierarchy")
    assert "UIWindow" in tree.text and "UIButton #checkout_button" in tree.text and "hidden" in tree.text
    d.execute_script("document.getElementById('attachments').scrollIntoView()")
    screenshot(d, "attachments-01-event-page")
    d.get(server.url + f"/organizations/pit/projects/default/events/{dump_event}/")
    assert "SIGSEGV / SEGV_MAPERR" in d.page_source and "event.minidump" in d.page_source
    screenshot(d, "attachments-02-minidump-event")
