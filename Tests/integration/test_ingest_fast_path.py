"""The ingest fast path (a channel handler ahead of Hummingbird) as an HTTP/1.1 peer sees it:
ordering of answers on one connection shared with other routes, keep-alive and close, early
answers before the body, and overload shedding with 503 + Retry-After."""

from __future__ import annotations

import json
import re
import socket
import time

import pit_helpers as H


def _request(method: str, path: str, host: str, body: bytes = b"", headers=None, version: str = "HTTP/1.1") -> bytes:
    lines = [f"{method} {path} {version}", f"Host: {host}"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _read_responses(sock: socket.socket, count: int) -> list:
    """Reads `count` responses (each with a Content-Length) from one connection, in order:
    [(status, {lowercased header: value}, body)]."""
    buffer = b""
    responses = []
    while len(responses) < count:
        while b"\r\n\r\n" not in buffer:
            chunk = sock.recv(65536)
            assert chunk, f"connection closed after {len(responses)} responses"
            buffer += chunk
        head, buffer = buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(buffer) < length:
            chunk = sock.recv(65536)
            assert chunk, "connection closed inside a body"
            buffer += chunk
        responses.append((status, headers, buffer[:length]))
        buffer = buffer[length:]
    return responses


def _event(server, message: str):
    body, event_id = H.event_envelope({"message": message, "level": "error"})
    headers = {"X-Sentry-Auth": H.sentry_auth_header(server.public_key), "Content-Type": "application/x-sentry-envelope"}
    return body, event_id, headers


def test_pipelined_requests_are_answered_in_order_across_routes(server):
    host = f"127.0.0.1:{server.port}"
    first, first_id, headers = _event(server, "pipelined one")
    second, second_id, _ = _event(server, "pipelined two")
    payload = (_request("POST", server.envelope_path(), host, first, headers)
               + _request("GET", "/health", host)
               + _request("POST", server.envelope_path(), host, second, headers)
               + _request("GET", "/api/0/projects/", host, headers={"Authorization": f"Bearer {server.token}"}))
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(payload)
        answers = _read_responses(sock, 4)
    assert [status for status, _, _ in answers] == [200, 200, 200, 200]
    assert json.loads(answers[0][2]) == {"id": first_id}
    assert json.loads(answers[2][2]) == {"id": second_id}
    assert isinstance(json.loads(answers[3][2]), list)
    for event_id in (first_id, second_id):
        assert server.event_status(event_id) == 200


def test_connection_close_and_http10_close_after_the_answer(server):
    host = f"127.0.0.1:{server.port}"
    for version, extra in (("HTTP/1.1", {"Connection": "close"}), ("HTTP/1.0", {})):
        body, event_id, headers = _event(server, f"closing {version}")
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            sock.sendall(_request("POST", server.envelope_path(), host, body, {**headers, **extra}, version=version))
            data = b""
            while chunk := sock.recv(65536):
                data += chunk  # recv returns b"" once the server closed the connection
        assert data.startswith(f"{version} 200".encode()) or data.startswith(b"HTTP/1.1 200"), data[:80]
        assert json.loads(data.split(b"\r\n\r\n", 1)[1]) == {"id": event_id}
        assert server.event_status(event_id) == 200


def test_http10_keep_alive_is_honoured(server):
    host = f"127.0.0.1:{server.port}"
    body, event_id, headers = _event(server, "http/1.0 keep-alive")
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(_request("POST", server.envelope_path(), host, body, {**headers, "Connection": "keep-alive"}, version="HTTP/1.0")
                     + _request("GET", "/health", host, version="HTTP/1.0"))
        answers = _read_responses(sock, 2)
    assert answers[0][0] == 200 and answers[0][1].get("connection", "").lower() == "keep-alive"
    assert json.loads(answers[0][2]) == {"id": event_id}
    assert answers[1][0] == 200


def test_oversized_content_length_is_refused_before_the_body(server_factory):
    server = server_factory(env={"PIT_MAX_REQUEST_BYTES": "4096"})
    host = f"127.0.0.1:{server.port}"
    headers = {"X-Sentry-Auth": H.sentry_auth_header(server.public_key), "Content-Type": "application/x-sentry-envelope",
               "Content-Length": str(50 * 1024 * 1024)}
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        # Only the head is sent: the answer must come without the 50 MiB body.
        head = f"POST {server.envelope_path()} HTTP/1.1\r\nHost: {host}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        sock.sendall(head.encode())
        status, response_headers, body = _read_responses(sock, 1)[0]
    assert status == 413
    assert "detail" in json.loads(body)
    assert response_headers.get("connection", "").lower() == "close"
    assert server.health_ok()


def test_unknown_key_is_refused_at_the_head(server):
    host = f"127.0.0.1:{server.port}"
    body, _, headers = _event(server, "unknown key")
    headers["X-Sentry-Auth"] = H.sentry_auth_header("0" * 32)
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(_request("POST", server.envelope_path(), host, body, headers) + _request("GET", "/health", host))
        answers = _read_responses(sock, 2)
    assert answers[0][0] == 403 and json.loads(answers[0][2]) == {"detail": "unknown public key"}
    assert answers[0][1]["access-control-allow-origin"] == "*"
    assert answers[1][0] == 200  # the connection stays usable


def _metric(server, name: str) -> float:
    text = server.api("GET", "/metrics", auth=False).text
    values = [float(line.split()[-1]) for line in text.splitlines() if line.startswith(name) and not line.startswith("#")]
    return sum(values)


def test_overload_is_shed_with_retry_after_and_every_200_is_stored(server_factory):
    # A 1 µs delay target, counted however idle the loop is: every probe of the event loop is
    # later than that, so the controller sheds its maximum share. What is taken must still be stored, and what is shed is told when
    # to come back.
    server = server_factory(env={"PIT_ADMISSION_TARGET_US": "1", "PIT_ADMISSION_BUSY_PERCENT": "0"})
    client = H.KeepAliveClient("127.0.0.1", server.port)
    accepted, shed = [], 0
    deadline = time.time() + 30
    while (shed < 20 or len(accepted) < 1) and time.time() < deadline:
        body, event_id, headers = _event(server, "under overload")
        response = client.request("POST", server.envelope_path(), body, headers)
        if response.status == 200:
            accepted.append(event_id)
        else:
            assert response.status == 503
            assert re.fullmatch(r"\d+", response.headers["retry-after"])
            assert "overloaded" in json.loads(response.body)["detail"]
            shed += 1
    assert shed >= 20, "admission control never shed"
    assert accepted, "admission control shed everything (it must let a trickle through)"
    assert _metric(server, "pit_requests_shed_total") >= shed
    for event_id in accepted:
        assert server.event_status(event_id) == 200
    assert server.health_ok()


def test_expect_100_continue_is_answered_before_the_body(server):
    host = f"127.0.0.1:{server.port}"
    body, event_id, headers = _event(server, "expect continue")
    head = (f"POST {server.envelope_path()} HTTP/1.1\r\nHost: {host}\r\nExpect: 100-continue\r\nContent-Length: {len(body)}\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head.encode())
        interim = b""
        while b"\r\n\r\n" not in interim:
            chunk = sock.recv(65536)
            assert chunk, "connection closed before 100 Continue"
            interim += chunk
        assert interim.startswith(b"HTTP/1.1 100"), interim[:40]
        sock.sendall(body)
        status, _, answer = _read_responses(sock, 1)[0]
    assert status == 200 and json.loads(answer) == {"id": event_id}
