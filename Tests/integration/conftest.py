"""Fixtures for the pitd end-to-end suite.

Binary: env ``PITD_BIN`` (absolute, or relative to the repo root), default
``<repo>/.build/debug/pitd`` where ``<repo>`` is two levels above this file.

Back ends: every test that uses a server runs against SQLite, and also against PostgreSQL when
``PIT_TEST_DATABASE_URL`` names a server (``scripts/test`` starts one). Each PostgreSQL server
gets a database of its own, created through that URL.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Dict, List, Optional

import pytest
import requests

import pit_helpers as H

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parents[1]
DEFAULT_BIN = REPO_ROOT / ".build" / "debug" / "pitd"

HEALTH_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
ORG = "pit"
DEFAULT_PROJECT_SLUG = "default"


def resolve_pitd_bin() -> Path:
    env = os.environ.get("PITD_BIN")
    if env:
        p = Path(env).expanduser()
        if not p.is_absolute():
            # relative to the repo root (works from a fresh clone anywhere)
            p = (REPO_ROOT / p) if (REPO_ROOT / p).exists() else (Path.cwd() / p)
        return p.resolve()
    return DEFAULT_BIN


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _clean_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIT_")}
    for k, v in (extra or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = str(v)
    return env


def parse_cli_json(stdout: str):
    """The CLI prints one JSON document; tolerate stray log lines around it."""
    text = stdout.strip()
    try:
        return json.loads(text)
    except ValueError:
        pass
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{") or line.startswith("["):
            try:
                return json.loads(line)
            except ValueError:
                continue
    raise AssertionError(f"CLI did not print JSON; stdout={stdout!r}")


ADMIN_DATABASE_URL = os.environ.get("PIT_TEST_DATABASE_URL") or None
BACKENDS = ["sqlite"] + (["postgres"] if ADMIN_DATABASE_URL else [])
_database_counter = itertools.count(1)


def fresh_database_url() -> str:
    """A new, empty PostgreSQL database on the test server; returns its URL."""
    assert ADMIN_DATABASE_URL, "PIT_TEST_DATABASE_URL is not set"
    name = f"pit_t{os.getpid()}_{next(_database_counter)}"
    cp = subprocess.run(["psql", ADMIN_DATABASE_URL, "-v", "ON_ERROR_STOP=1", "-qc", f'CREATE DATABASE "{name}"'],
                        capture_output=True, text=True, timeout=60)
    if cp.returncode != 0:
        raise AssertionError(f"cannot create database {name}: {cp.stderr}")
    base, _, _ = ADMIN_DATABASE_URL.rpartition("/")
    return f"{base}/{name}"


# registry of live servers, used to attach logs to failing test reports
_LIVE_SERVERS: List["PitServer"] = []


class PitServer:
    """A pitd data dir plus (optionally) a running ``pitd serve`` on it."""

    def __init__(self, bin_path: Path, data_dir: Path, log_path: Path, env: Optional[dict] = None):
        self.bin = Path(bin_path)
        self.data_dir = Path(data_dir)
        self.log_path = Path(log_path)
        # Overload shedding off unless a test sets it: these tests check behaviour, and a debug
        # pitd on a CI machine busy with other work can look saturated to the controller and
        # answer 503 (test_scaleout lost 3 events that way). The overload tests set their own target.
        self.env_extra: Dict[str, str] = {"PIT_ADMISSION_TARGET_US": "0", **dict(env or {})}
        self.proc: Optional[subprocess.Popen] = None
        self.port: Optional[int] = None
        self.host = "127.0.0.1"
        self.init_info: dict = {}
        self.token: Optional[str] = None
        self.public_key: Optional[str] = None
        self.project_id: str = "1"
        self.org = ORG
        self.project_slug = DEFAULT_PROJECT_SLUG
        self._log_fh = None
        self.session = requests.Session()
        self.last_returncode: Optional[int] = None
        self.backend = "sqlite"
        self.database_url: Optional[str] = None

    # ---------------- CLI ----------------
    def cli(self, *args: str, check: bool = True, json_out: bool = True, timeout: float = 60, env=None):
        """Run ``pitd <args...> --data-dir DIR``; return parsed JSON (or CompletedProcess)."""
        cmd = [str(self.bin), *args, "--data-dir", str(self.data_dir)]
        cp = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout,
            env=_clean_env({**self.env_extra, **(env or {})}),
        )
        if check and cp.returncode != 0:
            raise AssertionError(
                f"`{' '.join(cmd)}` exited {cp.returncode}\nstdout: {cp.stdout}\nstderr: {cp.stderr}"
            )
        if not json_out:
            return cp
        return parse_cli_json(cp.stdout)

    def init(self) -> dict:
        info = self.cli("init", "--json")
        for k in ("dsn", "project_id", "public_key", "admin_token", "url"):
            assert k in info, f"`pitd init --json` lacks {k!r}: {info}"
        self._adopt_init(info)
        return info

    def _adopt_init(self, info: dict):
        self.init_info = info
        self.token = info["admin_token"]
        self.public_key = info["public_key"]
        self.project_id = str(info["project_id"])

    # ---------------- process ----------------
    def start(self, env: Optional[dict] = None, port: Optional[int] = None):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        if env:
            self.env_extra.update(env)
        if port is None:
            port = _free_port()
        self.port = port
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._log_fh = open(self.log_path, "ab", buffering=0)
        self._log_fh.write(
            f"\n===== pitd serve on :{port} at {time.strftime('%H:%M:%S')} env={self.env_extra} =====\n".encode()
        )
        self.proc = subprocess.Popen(
            [str(self.bin), "serve", "--data-dir", str(self.data_dir), "--bind", f"127.0.0.1:{port}"],
            stdout=self._log_fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=_clean_env(self.env_extra),
        )
        if self not in _LIVE_SERVERS:
            _LIVE_SERVERS.append(self)
        self.wait_healthy()
        return self

    def wait_healthy(self, timeout: float = HEALTH_TIMEOUT):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"pitd serve exited with {self.proc.returncode} before /health answered\n"
                    f"--- log ---\n{self.log_tail()}"
                )
            try:
                r = requests.get(self.url + "/health", timeout=2)
                if r.status_code == 200:
                    return
                last = f"{r.status_code} {r.text[:200]}"
            except requests.RequestException as e:
                last = repr(e)
            time.sleep(0.05)
        raise AssertionError(f"pitd /health not 200 within {timeout}s (last: {last})\n{self.log_tail()}")

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self, timeout: float = STOP_TIMEOUT) -> Optional[int]:
        """SIGTERM, wait, then SIGKILL. Returns the exit code."""
        if self.proc is None:
            return self.last_returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._finish()
        return self.last_returncode

    def kill9(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._finish()

    def _finish(self):
        self.last_returncode = self.proc.returncode if self.proc else None
        self.proc = None
        if self._log_fh:
            self._log_fh.close()
            self._log_fh = None
        self.session.close()
        self.session = requests.Session()

    def restart(self, env: Optional[dict] = None, same_port: bool = False):
        """Stop (SIGTERM) if running, start again on the same data dir.

        A fresh port is used unless ``same_port`` (``.url``/``.dsn`` follow)."""
        if self.running:
            self.stop()
        return self.start(env=env, port=self.port if same_port else _free_port())

    def health_ok(self) -> bool:
        try:
            return requests.get(self.url + "/health", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def rss_bytes(self) -> int:
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS in /proc status")

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, max_chars: int = 20000) -> str:
        t = self.log_text()
        return t if len(t) <= max_chars else "...\n" + t[-max_chars:]

    # ---------------- addresses ----------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def dsn(self) -> str:
        return self.dsn_for(self.public_key, self.project_id)

    def dsn_for(self, public_key: str, project_id="1", prefix: str = "") -> str:
        prefix = ("/" + prefix.strip("/")) if prefix.strip("/") else ""
        return f"http://{public_key}@{self.host}:{self.port}{prefix}/{project_id}"

    def envelope_path(self, project_id=None) -> str:
        return f"/api/{project_id or self.project_id}/envelope/"

    def store_path(self, project_id=None) -> str:
        return f"/api/{project_id or self.project_id}/store/"

    # ---------------- read API ----------------
    def api(self, method: str, path: str, *, auth: bool = True, **kw) -> requests.Response:
        headers = dict(kw.pop("headers", {}) or {})
        if auth and "Authorization" not in headers:
            headers["Authorization"] = f"Bearer {self.token}"
        kw.setdefault("timeout", 30)
        return self.session.request(method, self.url + path, headers=headers, **kw)

    def api_json(self, method: str, path: str, expect: int = 200, **kw):
        r = self.api(method, path, **kw)
        assert r.status_code == expect, f"{method} {path} -> {r.status_code}, expected {expect}: {r.text[:2000]}"
        return r.json() if r.content else None

    def issues(self, query: Optional[str] = None, project_slug: Optional[str] = None) -> list:
        """All issues of a project (follows Sentry-style Link pagination if present)."""
        path = f"/api/0/projects/{self.org}/{project_slug or self.project_slug}/issues/"
        params = {"query": query} if query is not None else None
        out: list = []
        url = self.url + path
        for _ in range(1000):
            r = self.session.get(url, params=params, headers={"Authorization": f"Bearer {self.token}"}, timeout=30)
            assert r.status_code == 200, f"GET {url} -> {r.status_code}: {r.text[:2000]}"
            page = r.json()
            assert isinstance(page, list), f"issues list is not a JSON list: {r.text[:2000]}"
            out.extend(page)
            nxt = r.links.get("next") if r.links else None
            if not nxt or nxt.get("results") != "true" or not page:
                break
            url, params = nxt["url"], None
        return out

    def issue(self, issue_id) -> dict:
        return self.api_json("GET", f"/api/0/issues/{issue_id}/")

    def event(self, event_id: str, project_slug: Optional[str] = None) -> dict:
        ev = self.api_json("GET", self.event_path(event_id, project_slug))
        assert isinstance(ev, dict), ev
        return ev

    def event_path(self, event_id: str, project_slug: Optional[str] = None) -> str:
        return f"/api/0/projects/{self.org}/{project_slug or self.project_slug}/events/{event_id}/"

    def event_status(self, event_id: str, project_slug: Optional[str] = None) -> int:
        return self.api("GET", self.event_path(event_id, project_slug)).status_code

    def issue_of(self, event_id: str) -> dict:
        ev = self.event(event_id)
        assert ev.get("groupID") not in (None, ""), f"stored event has no groupID: {H.short(ev)}"
        return self.issue(ev["groupID"])

    def issue_events(self, issue_id) -> list:
        return self.api_json("GET", f"/api/0/issues/{issue_id}/events/")

    # ---------------- ingest ----------------
    def auth_headers(self, public_key: Optional[str] = None) -> dict:
        return {"X-Sentry-Auth": H.sentry_auth_header(public_key or self.public_key)}

    def send(self, body, headers=None, path: Optional[str] = None, method: str = "POST",
             auth: bool = True, content_type: Optional[str] = "application/x-sentry-envelope",
             **kw) -> H.RawResponse:
        return send_envelope(self, body, headers=headers, path=path, method=method, auth=auth,
                             content_type=content_type, **kw)

    def send_event(self, event: Optional[dict] = None, expect: int = 200, **kw) -> str:
        """Post one event as an envelope; assert ``expect``; return the event id."""
        body, eid = H.event_envelope(event)
        r = self.send(body, **kw)
        assert r.status == expect, f"ingest -> {r!r}"
        return eid


def send_envelope(server: PitServer, body, headers=None, path: Optional[str] = None, method: str = "POST",
                  auth: bool = True, content_type: Optional[str] = "application/x-sentry-envelope",
                  **kw) -> H.RawResponse:
    """Raw request to pitd with exact bytes. Adds X-Sentry-Auth for the
    server's key unless ``auth=False`` or the caller set its own auth."""
    hdrs = {}
    if content_type:
        hdrs["Content-Type"] = content_type
    if auth:
        hdrs.update(server.auth_headers())
    hdrs.update(headers or {})
    hdrs = {k: v for k, v in hdrs.items() if v is not None}
    return H.raw_request(server.host, server.port, method, path or server.envelope_path(), body, hdrs, **kw)


# ------------------------------------------------------------------------
# fixtures
# ------------------------------------------------------------------------

@pytest.fixture(scope="session")
def pitd_bin() -> Path:
    p = resolve_pitd_bin()
    if not (p.is_file() and os.access(p, os.X_OK)):
        msg = (f"pitd binary not found at {p} (set PITD_BIN, or build it first: "
               f"`swift build --product pitd` in {REPO_ROOT})")
        if os.environ.get("PIT_E2E_SKIP_MISSING_BIN") == "1":
            pytest.skip(msg)
        pytest.fail(msg, pytrace=False)
    return p


def _make_factory(pitd_bin, base_dir: Path, created: list, backend: str = "sqlite"):
    def factory(env: Optional[dict] = None, *, init: bool = True, start: bool = True,
                data_dir: Optional[Path] = None, database_url: Optional[str] = None) -> PitServer:
        """``database_url`` shares another server's PostgreSQL database (several instances)."""
        n = len(created)
        ddir = Path(data_dir) if data_dir else base_dir / f"pit{n}" / "data"
        ddir.parent.mkdir(parents=True, exist_ok=True)
        env = dict(env or {})
        url = None
        if backend == "postgres":
            url = env.get("PIT_DATABASE_URL") or database_url or fresh_database_url()
            # In the data directory's pit.json, so every pitd command given --data-dir (the
            # tests' own subprocess calls too) reaches this server's database.
            ddir.mkdir(parents=True, exist_ok=True)
            (ddir / "pit.json").write_text(json.dumps({"database_url": url}))
        srv = PitServer(pitd_bin, ddir, ddir.parent / "pitd.log", env=env)
        srv.backend = backend
        srv.database_url = url
        created.append(srv)
        if init:
            srv.init()
        if start:
            srv.start()
        return srv
    return factory


def _teardown(created: list):
    errors = []
    for srv in created:
        try:
            srv.stop()
        except Exception as e:  # pragma: no cover - best effort
            errors.append(repr(e))
        if srv in _LIVE_SERVERS:
            _LIVE_SERVERS.remove(srv)
    return errors


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """``sqlite``, and ``postgres`` when PIT_TEST_DATABASE_URL is set."""
    return request.param


@pytest.fixture(scope="module", params=BACKENDS)
def module_backend(request) -> str:
    return request.param


@pytest.fixture
def server_factory(pitd_bin, tmp_path, backend):
    """``server_factory(env=None, init=True, start=True)`` -> PitServer.

    Each call gets its own data dir (and PostgreSQL database); every server is stopped (SIGTERM,
    then SIGKILL) at teardown; logs are attached to failing test reports."""
    created: list = []
    yield _make_factory(pitd_bin, tmp_path, created, backend)
    _teardown(created)


@pytest.fixture
def server(server_factory) -> PitServer:
    """A fresh, initialised, running pitd (ack=committed)."""
    return server_factory()


@pytest.fixture(scope="module")
def module_server_factory(pitd_bin, tmp_path_factory, module_backend):
    created: list = []
    yield _make_factory(pitd_bin, tmp_path_factory.mktemp("pitmod"), created, module_backend)
    _teardown(created)


# ------------------------------------------------------------------------
# attach pitd logs to failing tests
# ------------------------------------------------------------------------

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when in ("setup", "call") and rep.failed:
        for i, srv in enumerate(list(_LIVE_SERVERS)):
            state = "running" if srv.running else f"exited rc={srv.proc.returncode if srv.proc else srv.last_returncode}"
            rep.sections.append(
                (f"pitd log #{i} ({srv.data_dir}, {state})", srv.log_tail(12000) or "(empty)")
            )


# ------------------------------------------------------------------------
# headless Chromium (Debian's chromium + chromium-driver, driven by Selenium)
# ------------------------------------------------------------------------

SCREENSHOT_DIR = Path(os.environ.get("PIT_SCREENSHOTS", str(REPO_ROOT / ".build" / "screenshots")))


@pytest.fixture(scope="module")
def chromium():
    """A headless Chromium; skipped loudly (fails) when it cannot start, as CI installs it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1000", "--lang=en-US"):
        options.add_argument(arg)
    binary = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
    if os.path.exists(binary):
        options.binary_location = binary
    driver_path = os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver")
    service = Service(executable_path=driver_path) if os.path.exists(driver_path) else Service()
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def screenshot(driver, name: str) -> Path:
    """Saves a full-page PNG under SCREENSHOT_DIR (looked at by a person, not compared)."""
    path = SCREENSHOT_DIR / f"{name}.png"
    height = driver.execute_script("return Math.min(document.body.scrollHeight, 6000)")
    driver.set_window_size(1400, max(1000, int(height or 1000)))
    driver.save_screenshot(str(path))
    driver.set_window_size(1400, 1000)
    return path
