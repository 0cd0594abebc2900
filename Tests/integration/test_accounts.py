"""Accounts and credentials (issue 10, Low): the admin token stays out of the logs and can be
rotated, users can be disabled (CLI and Sentry's API shapes), an administrator's password reset
revokes API tokens, and the per-address sign-in throttle sees past trusted reverse proxies."""

from __future__ import annotations

import os
import re
import stat
import subprocess

import requests

import pit_helpers as H

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "another horse battery staple"
TOKEN_RE = re.compile(r"pit_tok_[0-9a-f]{64}")


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _create_user(s, email, admin=False, password=PASSWORD):
    args = [str(s.bin), "user", "create", email, "--password-stdin", "--data-dir", str(s.data_dir)] + (["--admin"] if admin else [])
    cp = subprocess.run(args, input=password + "\n", text=True, capture_output=True, timeout=120)
    assert cp.returncode == 0, cp.stderr


def _set_password(s, email, *extra):
    cp = subprocess.run([str(s.bin), "user", "set-password", email, "--password-stdin", *extra, "--data-dir", str(s.data_dir)],
                        input=NEW_PASSWORD + "\n", text=True, capture_output=True, timeout=120)
    assert cp.returncode == 0, cp.stderr
    return cp.stdout


def _sign_in(s, *, email=None, password=None, token=None):
    """A browser session; its sign-in answer is in `.login`."""
    browser = requests.Session()
    page = browser.get(s.url + "/login", timeout=60)
    data = {"csrf": _csrf(page.text), "next": "/"}
    data.update({"token": token} if token else {"email": email, "password": password})
    browser.login = browser.post(s.url + "/login", data=data, allow_redirects=False, timeout=120)
    return browser


def _error_of(page: str) -> str:
    # The sign-in page's message, without the per-request CSRF token around it.
    return re.sub(r'value="[0-9a-f]{64}"', "", page)


def _web_token(s, browser, scopes=("admin",)) -> str:
    """An API token created in Settings -> API tokens by the signed-in user (so it is theirs)."""
    page = browser.get(s.url + "/settings/tokens/", timeout=30)
    assert page.status_code == 200, page.status_code
    r = browser.post(s.url + "/settings/tokens/", data={"csrf": _csrf(page.text), "label": "mine", "scopes": list(scopes)}, timeout=30)
    assert r.status_code == 200, r.status_code
    return TOKEN_RE.search(r.text).group(0)


def _api_status(s, token, path="/api/0/projects/"):
    return requests.get(s.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=30).status_code


def _signed_in(s, browser) -> bool:
    r = browser.get(s.url + "/organizations/pit/issues/", allow_redirects=False, timeout=30)
    return r.status_code == 200


# --------------------------------------------------------------------------
# the admin token
# --------------------------------------------------------------------------

def test_admin_token_is_not_logged_and_its_file_is_private(server_factory):
    s = server_factory(init=False)  # the first start creates the token
    info = s.cli("init", "--json")
    s._adopt_init(info)
    token = info["admin_token"]
    log = s.log_text()
    assert token and token not in log, "the admin token must not be logged"
    assert "admin-token" in log, "the log says where the token is"
    path = s.data_dir / "admin-token"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert path.read_text().strip() == token
    assert _api_status(s, token) == 200


def test_rotate_admin_token(server):
    old = server.token
    browser = _sign_in(server, token=old)
    assert browser.login.status_code == 303 and _signed_in(server, browser)
    out = server.cli("token", "rotate-admin", "--json")
    new = out["admin_token"]
    assert new != old and new.startswith("pit_"), out
    path = server.data_dir / "admin-token"
    assert path.read_text().strip() == new and out["file"] == str(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    # The running server drops the old token within a second or so; the new one works.
    H.wait_until(lambda: _api_status(server, old) == 401, 5, what="old admin token refused")
    assert _api_status(server, new) == 200
    # Sessions opened with the old token are closed; signing in with it fails.
    assert not _signed_in(server, browser)
    assert _sign_in(server, token=old).login.status_code == 401
    assert _sign_in(server, token=new).login.status_code == 303
    assert server.cli("init", "--json")["admin_token"] == new
    assert new not in server.log_text()
    # The plain form prints the token alone, for scripts.
    third = server.cli("token", "rotate-admin", json_out=False).stdout.strip()
    H.wait_until(lambda: _api_status(server, new) == 401 and _api_status(server, third) == 200, 5, what="second rotation")


# --------------------------------------------------------------------------
# disabling users
# --------------------------------------------------------------------------

def test_disabled_user_loses_access_at_once(server):
    _create_user(server, "ada@example.com", admin=True)
    browser = _sign_in(server, email="ada@example.com", password=PASSWORD)
    assert browser.login.status_code == 303
    token = _web_token(server, browser)
    assert _api_status(server, token) == 200

    out = server.cli("user", "disable", "ada@example.com", json_out=False).stdout
    assert "disabled" in out
    assert not _signed_in(server, browser), "the session must end at once"
    assert _api_status(server, token) == 401, "the user's API token must stop working at once"
    # Refused exactly like a wrong password: no way to tell a disabled account from a guess.
    right = _sign_in(server, email="ada@example.com", password=PASSWORD).login
    wrong = _sign_in(server, email="ada@example.com", password="not the password").login
    assert right.status_code == wrong.status_code == 401
    assert "Wrong email or password." in right.text
    assert _error_of(right.text) == _error_of(wrong.text)
    listed = {u["email"]: u for u in server.cli("user", "list", "--json")}
    assert listed["ada@example.com"]["is_active"] is False

    server.cli("user", "enable", "ada@example.com", json_out=False)
    assert server.cli("user", "list", "--json")[0]["is_active"] is True
    assert _sign_in(server, email="ada@example.com", password=PASSWORD).login.status_code == 303
    assert _api_status(server, token) == 200
    assert not _signed_in(server, browser), "enabling does not bring old sessions back"


def test_users_api_disables_and_lists_members(server):
    _create_user(server, "bob@example.com")
    members = server.api_json("GET", "/api/0/organizations/pit/members/")
    bob = next(m for m in members if m["email"] == "bob@example.com")
    assert bob["role"] == "member" and bob["isActive"] is True and bob["user"]["email"] == "bob@example.com", bob
    uid = bob["id"]
    assert server.api_json("GET", f"/api/0/users/{uid}/")["email"] == "bob@example.com"
    assert server.api_json("GET", f"/api/0/organizations/pit/members/{uid}/")["id"] == uid

    user = server.api_json("PUT", f"/api/0/users/{uid}/", json={"isActive": False})
    assert user["isActive"] is False and user["id"] == uid, user
    assert _sign_in(server, email="bob@example.com", password=PASSWORD).login.status_code == 401
    assert server.api_json("PUT", f"/api/0/users/{uid}/", json={"isActive": True})["isActive"] is True
    assert _sign_in(server, email="bob@example.com", password=PASSWORD).login.status_code == 303

    # Removing a member disables the account (one organisation: there is nothing else to leave).
    assert server.api("DELETE", f"/api/0/organizations/pit/members/{uid}/").status_code == 204
    assert server.api_json("GET", f"/api/0/users/{uid}/")["isActive"] is False
    assert server.api("DELETE", f"/api/0/organizations/other/members/{uid}/").status_code == 404
    assert server.api("GET", "/api/0/users/9999/").status_code == 404
    assert server.api("PUT", f"/api/0/users/{uid}/", json={"isActive": "no"}).status_code == 400

    # Administrators only: a write-scope token may neither read accounts nor change them.
    writer = server.cli("token", "create", "--scopes", "write", "--json")["token"]
    headers = {"Authorization": f"Bearer {writer}"}
    assert server.api("GET", "/api/0/organizations/pit/members/", headers=headers).status_code == 403
    assert server.api("PUT", f"/api/0/users/{uid}/", headers=headers, json={"isActive": True}).status_code == 403
    assert server.api("DELETE", f"/api/0/organizations/pit/members/{uid}/", headers=headers).status_code == 403
    assert server.api_json("GET", f"/api/0/users/{uid}/")["isActive"] is False
    assert server.api("GET", "/api/0/users/1/", auth=False).status_code == 401


def test_an_admin_cannot_disable_their_own_account(server):
    _create_user(server, "ada@example.com", admin=True)
    browser = _sign_in(server, email="ada@example.com", password=PASSWORD)
    token = _web_token(server, browser)
    uid = server.api_json("GET", "/api/0/organizations/pit/members/")[0]["id"]
    r = requests.put(server.url + f"/api/0/users/{uid}/", json={"isActive": False}, headers={"Authorization": f"Bearer {token}"},
                     timeout=30)
    # Her own token acts for her: disabling the account would cut the branch she sits on.
    assert r.status_code == 400 and "own account" in r.json()["detail"], r.text
    assert server.api_json("GET", f"/api/0/users/{uid}/")["isActive"] is True
    assert _api_status(server, token) == 200
    # The admin token (or another administrator) can.
    assert server.api_json("PUT", f"/api/0/users/{uid}/", json={"isActive": False})["isActive"] is False


# --------------------------------------------------------------------------
# password resets
# --------------------------------------------------------------------------

def test_password_reset_revokes_api_tokens_unless_kept(server):
    _create_user(server, "ada@example.com", admin=True)
    browser = _sign_in(server, email="ada@example.com", password=PASSWORD)
    token = _web_token(server, browser)
    cli_token = server.cli("token", "create", "--scopes", "read", "--json")["token"]

    out = _set_password(server, "ada@example.com", "--keep-tokens")
    assert "revoked" not in out
    assert not _signed_in(server, browser), "a reset signs the user out everywhere"
    assert _api_status(server, token) == 200

    out = _set_password(server, "ada@example.com")
    assert "1 API token(s) revoked" in out, out
    assert _api_status(server, token) == 401
    assert _api_status(server, cli_token) == 200, "tokens of nobody in particular are not the user's"
    tokens = {t["name"]: t for t in server.api_json("GET", "/api/0/api-tokens/")}
    assert tokens["mine"]["revoked"] is True


# --------------------------------------------------------------------------
# trusted proxies
# --------------------------------------------------------------------------

def _guess(s, forwarded_for=None, forwarded=None):
    headers = {"Authorization": "Bearer pit_tok_guess"}
    if forwarded_for is not None:
        headers["X-Forwarded-For"] = forwarded_for
    if forwarded is not None:
        headers["Forwarded"] = forwarded
    return requests.get(s.url + "/api/0/projects/", headers=headers, timeout=30).status_code


def test_throttle_keys_on_the_client_behind_a_trusted_proxy(server_factory):
    s = server_factory(env={"PIT_LOGIN_FAILURES_PER_IP": "2", "PIT_TRUSTED_PROXIES": "127.0.0.0/8, ::1"})
    assert [_guess(s, "198.51.100.1") for _ in range(2)] == [401, 401]
    assert _guess(s, "198.51.100.1") == 429
    # Another client behind the same proxy has its own allowance.
    assert _guess(s, "198.51.100.2") == 401
    assert _guess(s, forwarded="for=198.51.100.3;proto=https") == 401
    # Writing one's own hops does not escape: the proxy's (right-most) entry is the one taken.
    assert _guess(s, "203.0.113.9, 198.51.100.1") == 429
    # Without a forwarding header the proxy itself is the client.
    assert [_guess(s) for _ in range(3)] == [401, 401, 429]
    assert s.health_ok()


def test_forwarding_headers_are_ignored_without_trusted_proxies(server_factory):
    s = server_factory(env={"PIT_LOGIN_FAILURES_PER_IP": "2"})
    assert [_guess(s, f"198.51.100.{n}") for n in range(1, 4)] == [401, 401, 429]


def test_invalid_trusted_proxies_refuse_to_start(server_factory):
    s = server_factory(start=False)
    cp = subprocess.run([str(s.bin), "serve", "--data-dir", str(s.data_dir), "--bind", "127.0.0.1:1",
                         "--set", "trusted_proxies=10.0.0.0/40"], capture_output=True, text=True, timeout=60)
    assert cp.returncode != 0 and "trusted_proxies" in (cp.stderr + cp.stdout), cp
