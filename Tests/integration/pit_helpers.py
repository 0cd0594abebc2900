"""Shared helpers for the pitd end-to-end suite (no pytest fixtures here).

Importable from test modules as ``import pit_helpers`` (pytest puts this
directory on sys.path because it has no ``__init__.py``).
"""

from __future__ import annotations

import datetime as _dt
import http.client
import json
import re
import select
import socket
import time
import uuid
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence, Union
from urllib.parse import urlsplit, urlunsplit

HEX32 = re.compile(r"^[0-9a-f]{32}$")

JsonLike = Union[dict, list, str, int, float, None]


# --------------------------------------------------------------------------
# ids, DSNs, time
# --------------------------------------------------------------------------

def new_event_id() -> str:
    return uuid.uuid4().hex


def normalize_event_id(value: str) -> str:
    """'8c0e37ce-4207-...' or hex -> 32 lowercase hex."""
    return uuid.UUID(value).hex


def rehost_dsn(dsn: str, base_url: str) -> str:
    """Keep key/path of ``dsn`` but point it at ``base_url`` (scheme://host:port)."""
    d = urlsplit(dsn)
    b = urlsplit(base_url)
    userinfo = d.netloc.rsplit("@", 1)[0] + "@" if "@" in d.netloc else ""
    return urlunsplit((b.scheme, userinfo + b.netloc, d.path, d.query, d.fragment))


def dsn_public_key(dsn: str) -> str:
    return urlsplit(dsn).username or ""


def dsn_project_id(dsn: str) -> str:
    return urlsplit(dsn).path.rstrip("/").rsplit("/", 1)[-1]


def parse_timestamp(value: Any) -> float:
    """Event timestamp (unix float, numeric string or ISO 8601) -> unix seconds."""
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        s = value.strip()
        if s.endswith("Z"):
            s = s[:-1] + "+00:00"
        # Python 3.11 fromisoformat copes with most variants; trim >6 fraction digits
        s = re.sub(r"(\.\d{6})\d+", r"\1", s)
        dt = _dt.datetime.fromisoformat(s)
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=_dt.timezone.utc)
        return dt.timestamp()
    raise ValueError(f"not a timestamp: {value!r}")


_PAGE_CHANGED_ERRORS = {"StaleElementReferenceException", "NoSuchElementException"}


def wait_until(fn: Callable[[], Any], timeout: float, interval: float = 0.1, what: str = "condition"):
    """Poll ``fn`` until it returns a truthy value; return that value or raise.

    A browser page replaced between finding an element and reading it (a form post landing
    mid-poll) raises Selenium's stale-element or no-such-element error: that is "not yet".
    """
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = fn()
        except Exception as error:
            if type(error).__name__ not in _PAGE_CHANGED_ERRORS:
                raise
            last = None
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last={last!r}")
        time.sleep(interval)


# --------------------------------------------------------------------------
# envelopes
# --------------------------------------------------------------------------

def _to_bytes(obj: Any) -> bytes:
    if isinstance(obj, bytes):
        return obj
    if isinstance(obj, str):
        return obj.encode("utf-8")
    return json.dumps(obj, separators=(",", ":")).encode("utf-8")


def make_envelope(
    header: Any,
    items: Iterable[tuple] = (),
    *,
    explicit_length: bool = True,
    trailing_newline: bool = True,
    newline: bytes = b"\n",
) -> bytes:
    """Build an envelope.

    ``header``: dict (JSON-encoded) or raw bytes for the first line.
    ``items``: iterable of ``(item_header, payload)``; each may be a dict
    (JSON-encoded) or raw bytes. ``length`` is added to dict item headers
    unless ``explicit_length`` is False or the header already has one.
    """
    parts = [_to_bytes(header)]
    for item_header, payload in items:
        payload_b = _to_bytes(payload)
        if isinstance(item_header, dict):
            ih = dict(item_header)
            if explicit_length and "length" not in ih:
                ih["length"] = len(payload_b)
            ih_b = _to_bytes(ih)
        else:
            ih_b = _to_bytes(item_header)
        parts.append(ih_b)
        parts.append(payload_b)
    body = newline.join(parts)
    if trailing_newline:
        body += newline
    return body


def event_envelope(event: Optional[dict] = None, *, header: Optional[dict] = None, **kw) -> tuple:
    """Envelope with one event item. Returns ``(body_bytes, event_id)``."""
    event = dict(event or {})
    event.setdefault("event_id", new_event_id())
    event.setdefault("message", "pit e2e event")
    event.setdefault("level", "error")
    event.setdefault("platform", "python")
    hdr = {"event_id": event["event_id"]} if header is None else header
    return make_envelope(hdr, [({"type": "event"}, event)], **kw), event["event_id"]


def parse_envelope(body: bytes) -> tuple:
    """Minimal envelope parser (for self-checks): -> (header, [(item_header, payload)])."""
    nl = body.find(b"\n")
    nl = len(body) if nl < 0 else nl
    header = json.loads(body[:nl])
    rest = body[nl + 1:]
    items = []
    while rest.strip():
        nl = rest.find(b"\n")
        nl = len(rest) if nl < 0 else nl
        ih = json.loads(rest[:nl])
        rest = rest[nl + 1:]
        if "length" in ih:
            payload, rest = rest[: ih["length"]], rest[ih["length"] + 1:]
        else:
            nl = rest.find(b"\n")
            nl = len(rest) if nl < 0 else nl
            payload, rest = rest[:nl], rest[nl + 1:]
        items.append((ih, payload))
    return header, items


def sentry_auth_header(public_key: str, version: int = 7, client: str = "pit-e2e/1.0") -> str:
    return f"Sentry sentry_key={public_key}, sentry_version={version}, sentry_client={client}"


# --------------------------------------------------------------------------
# raw HTTP
# --------------------------------------------------------------------------

class RawResponse:
    def __init__(self, status: int, reason: str, headers: list, body: bytes):
        self.status = status
        self.reason = reason
        self.header_list = headers
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body

    def header(self, name: str, default=None):
        return self.headers.get(name.lower(), default)

    def json(self):
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        b = self.text
        if len(b) > 600:
            b = b[:600] + "...(%d bytes)" % len(self.body)
        return f"<HTTP {self.status} {self.reason} headers={dict(self.headers)} body={b!r}>"


def raw_request(
    host: str,
    port: int,
    method: str,
    path: str,
    body: Union[bytes, Iterable[bytes], None] = b"",
    headers: Optional[Mapping[str, str]] = None,
    *,
    timeout: float = 60.0,
    content_length: Optional[int] = None,
) -> RawResponse:
    """Send exactly these bytes as one HTTP/1.1 request on a fresh connection.

    Sends ``Content-Length`` (computed unless given, or explicitly present in
    ``headers``). The body is written in chunks; if the server answers early
    (e.g. 413 before the whole body arrived) we stop writing and read the
    answer instead of failing with a broken pipe.
    """
    headers = dict(headers or {})
    if isinstance(body, (bytes, bytearray)) or body is None:
        chunks: Iterable[bytes] = [bytes(body or b"")]
        total = len(body or b"")
    else:
        chunks = body
        total = content_length
    lower = {k.lower() for k in headers}
    if "host" not in lower:
        headers["Host"] = f"{host}:{port}"
    if "content-length" not in lower and (total is not None) and not (
        method in ("GET", "HEAD", "OPTIONS") and total == 0
    ):
        headers["Content-Length"] = str(total)
    if "connection" not in lower:
        headers["Connection"] = "close"
    head = f"{method} {path} HTTP/1.1\r\n".encode("latin-1")
    for k, v in headers.items():
        head += f"{k}: {v}\r\n".encode("latin-1")
    head += b"\r\n"

    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        sock.sendall(head)
        answered_early = False
        try:
            for chunk in chunks:
                view = memoryview(chunk)
                off = 0
                while off < len(view):
                    # wait until we may write more, or the server has answered
                    r, w, _ = select.select([sock], [sock], [], timeout)
                    if r:
                        answered_early = True
                        break
                    if not w:
                        raise AssertionError(
                            f"{method} {path}: server stopped reading the body after "
                            f"~{off} bytes of this chunk and sent no answer within {timeout}s")
                    off += sock.send(view[off: off + 256 * 1024])
                if answered_early:
                    break
        except (BrokenPipeError, ConnectionResetError):
            # server closed while we were writing: read whatever it answered
            pass
        resp = http.client.HTTPResponse(sock, method=method)
        try:
            resp.begin()
        except (ConnectionResetError, http.client.RemoteDisconnected) as e:
            raise AssertionError(
                f"{method} {path}: connection closed without an HTTP response ({e!r})"
            ) from e
        try:
            data = resp.read()
        except (ConnectionResetError, http.client.IncompleteRead) as e:
            data = getattr(e, "partial", b"") or b""
        return RawResponse(resp.status, resp.reason, resp.getheaders(), data)
    finally:
        sock.close()


class KeepAliveClient:
    """One persistent http.client connection (reconnects on demand)."""

    def __init__(self, host: str, port: int, timeout: float = 30.0):
        self.host, self.port, self.timeout = host, port, timeout
        self.conn: Optional[http.client.HTTPConnection] = None

    def request(self, method: str, path: str, body: bytes = b"", headers=None) -> RawResponse:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            self.conn.request(method, path, body=body, headers=dict(headers or {}))
            r = self.conn.getresponse()
            data = r.read()
            resp = RawResponse(r.status, r.reason, r.getheaders(), data)
            if r.will_close:
                self.close()
            return resp
        except Exception:
            self.close()
            raise

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            finally:
                self.conn = None


# --------------------------------------------------------------------------
# normalising what the read API returns (Sentry-ish shapes)
# --------------------------------------------------------------------------

def ev_tags(event: dict) -> dict:
    """Tags as a dict whether stored as dict, [[k, v]] or [{"key","value"}]."""
    tags = event.get("tags") or {}
    if isinstance(tags, dict):
        return {str(k): v for k, v in tags.items()}
    out = {}
    for t in tags:
        if isinstance(t, dict):
            out[str(t.get("key"))] = t.get("value")
        elif isinstance(t, (list, tuple)) and len(t) == 2:
            out[str(t[0])] = t[1]
    return out


def ev_exceptions(event: dict) -> list:
    """List of exception value dicts from a stored event."""
    exc = event.get("exception")
    if exc is None:
        exc = event.get("sentry.interfaces.Exception")
    if exc is None:
        for entry in event.get("entries") or []:
            if entry.get("type") == "exception":
                exc = entry.get("data")
                break
    if exc is None:
        return []
    if isinstance(exc, list):
        return exc
    return list(exc.get("values") or [])


def ev_release(event: dict) -> Optional[str]:
    rel = event.get("release")
    if isinstance(rel, dict):
        rel = rel.get("version")
    if rel is None:
        rel = ev_tags(event).get("sentry:release") or ev_tags(event).get("release")
    return rel


def ev_environment(event: dict) -> Optional[str]:
    env = event.get("environment")
    if env is None:
        env = ev_tags(event).get("environment")
    return env


def ev_fingerprint(event: dict) -> Optional[list]:
    fp = event.get("fingerprint")
    if fp is None:
        fp = event.get("fingerprints")
    return fp


def ev_message_template(event: dict) -> Optional[str]:
    le = event.get("logentry") or event.get("sentry.interfaces.Message")
    if isinstance(le, dict):
        return le.get("message") or le.get("formatted")
    msg = event.get("message")
    if isinstance(msg, dict):
        return msg.get("message") or msg.get("formatted")
    return msg


def ev_timestamp(event: dict) -> float:
    for key in ("timestamp", "dateCreated", "datetime"):
        if event.get(key) is not None:
            return parse_timestamp(event[key])
    raise AssertionError(f"stored event has no timestamp field: {sorted(event)}")


def short(obj: Any, limit: int = 1500) -> str:
    s = obj if isinstance(obj, str) else json.dumps(obj, default=str)
    return s if len(s) <= limit else s[:limit] + f"...({len(s)} chars)"


def sign_in_session(server) -> "requests.Session":
    """A requests session signed in to the web UI with the server's admin token."""
    import re as _re
    import requests as _requests
    s = _requests.Session()
    page = s.get(server.url + "/login")
    csrf = _re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = s.post(server.url + "/login", data={"csrf": csrf, "next": "/", "token": server.token}, allow_redirects=False)
    assert r.status_code == 303, r.text
    return s


def browser_sign_in(driver, server) -> None:
    """Signs the Chromium driver in to the web UI with the server's admin token."""
    from selenium.webdriver.common.by import By
    driver.delete_all_cookies()
    driver.get(server.url + "/login")
    driver.find_element(By.NAME, "token").send_keys(server.token)
    driver.find_element(By.NAME, "token").submit()
    wait_until(lambda: "/login" not in driver.current_url, timeout=20, what="signed in")
