"""The web UI (issue 4) in a real headless Chromium, with data sent by the official Python SDK;
plus route-level checks of sign-in, sessions, CSRF, escaping and project isolation.

Screenshots land in .build/screenshots (PIT_SCREENSHOTS) for a person to look at."""

from __future__ import annotations

import re
import subprocess
import urllib.parse

import pytest
import requests
import sentry_sdk
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By

import pit_helpers as H
from conftest import screenshot

PASSWORD = "correct horse battery staple"
HOSTILE_TITLE = '"><img src=x onerror=alert(1)><script>alert(2)</script>'


def checkout(order_id, items):
    total = sum(items)
    discount = None
    return total / discount


def _send_with_sdk(dsn: str) -> dict:
    """Realistic events through sentry_sdk: an exception with locals, breadcrumbs, tags, user
    and release (3 times, one issue), a chained exception, a message, and hostile data."""
    sentry_sdk.init(dsn=dsn, release="shop@2.1.0", environment="production", send_default_pii=True)
    ids = {}
    with sentry_sdk.isolation_scope() as scope:
        scope.set_user({"id": "42", "email": "ada@example.com", "username": "ada"})
        scope.set_tag("customer_tier", "enterprise")
        scope.set_context("app", {"app_name": "shop"})
        sentry_sdk.add_breadcrumb(category="auth", message="user signed in", level="info")
        ids["checkout"] = []
        for i in range(3):
            try:
                checkout(1000 + i, [1, 2, 3])
            except Exception:
                ids["checkout"].append(sentry_sdk.capture_exception())
    with sentry_sdk.isolation_scope() as scope:
        try:
            try:
                {}["missing"]
            except KeyError as error:
                raise RuntimeError("wrapped failure") from error
        except Exception:
            ids["chained"] = sentry_sdk.capture_exception()
        ids["message"] = sentry_sdk.capture_message("Disk almost full on db-1", level="warning")
    with sentry_sdk.isolation_scope() as scope:
        scope.set_tag("evil", "<script>alert(3)</script>")
        scope.set_user({"id": "<b>x</b>", "email": "javascript:alert(4)"})
        scope.set_extra("link", "javascript:alert(5)")
        scope.set_context("request_like", {"url": "javascript:alert(6)"})
        try:
            raise ValueError(HOSTILE_TITLE)
        except Exception:
            ids["hostile"] = sentry_sdk.capture_exception()
    sentry_sdk.flush(timeout=15)
    sentry_sdk.get_client().close(timeout=15)
    return ids


@pytest.fixture(scope="module")
def web(module_server_factory):
    srv = module_server_factory()
    srv.sent = _send_with_sdk(srv.dsn)
    H.wait_until(lambda: len(srv.issues("")) >= 4, timeout=20, what="SDK events stored")
    cp = subprocess.run([str(srv.bin), "user", "create", "ada@example.com", "--password-stdin", "--admin",
                         "--data-dir", str(srv.data_dir)], input=PASSWORD + "\n", text=True, capture_output=True,
                        timeout=60)
    assert cp.returncode == 0, cp.stderr
    srv.other = srv.api_json("POST", "/api/0/teams/pit/pit/projects/", expect=201, json={"name": "Other"})
    other_dsn = srv.dsn_for(srv.api_json("GET", "/api/0/projects/pit/other/keys/")[0]["public"], srv.other["id"])
    body, other_event = H.event_envelope({"message": "other project secret", "level": "error"})
    assert H.raw_request(srv.host, srv.port, "POST", f"/api/{srv.other['id']}/envelope/", body,
                         {"X-Sentry-Auth": H.sentry_auth_header(urllib.parse.urlparse(other_dsn).username),
                          "Content-Type": "application/x-sentry-envelope"}).status == 200
    srv.other_event = other_event
    srv.checkout_issue = srv.issue_of(srv.sent["checkout"][0])
    srv.hostile_issue = srv.issue_of(srv.sent["hostile"])
    return srv


def session_for(server, *, email=None, password=None, token=None) -> requests.Session:
    """Signs in through the login form as a browser would (CSRF cookie + field)."""
    s = requests.Session()
    page = s.get(server.url + "/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    data = {"csrf": csrf, "next": "/"}
    if token:
        data["token"] = token
    else:
        data.update(email=email, password=password)
    r = s.post(server.url + "/login", data=data, allow_redirects=False)
    s.last_login = r
    return s


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


# ---------------------------------------------------------------- routes

def test_pages_need_a_session(web):
    for path in ("/", "/organizations/pit/issues/", f"/organizations/pit/issues/{web.checkout_issue['id']}/",
                 "/organizations/pit/projects/default/events/", "/settings/tokens/"):
        r = requests.get(web.url + path, allow_redirects=False)
        assert r.status_code == 303 and r.headers["Location"].startswith("/login?next="), (path, r.status_code)
        assert "TypeError" not in r.text
    r = requests.get(web.url + "/organizations/pit/issues/", cookies={"pit_session": "forged"}, allow_redirects=False)
    assert r.status_code == 303
    r = requests.post(web.url + f"/organizations/pit/issues/{web.checkout_issue['id']}/status", data={"status": "resolved"},
                      allow_redirects=False)
    assert r.status_code == 401
    assert web.issue(web.checkout_issue["id"])["status"] == "unresolved"


def test_sign_in_rules(web):
    assert session_for(web, email="ada@example.com", password="wrong password").last_login.status_code == 401
    assert session_for(web, email="nobody@example.com", password=PASSWORD).last_login.status_code == 401
    assert session_for(web, token="pit_not_a_token").last_login.status_code == 401
    for scope in ("read", "admin"):
        api_token = web.cli("token", "create", "--scopes", scope, "--json")["token"]
        login = session_for(web, token=api_token).last_login
        assert login.status_code == 401 and "API only" in login.text, "API tokens do not open browser sessions"
    ok = session_for(web, email="ADA@example.com", password=PASSWORD)
    assert ok.last_login.status_code == 303
    cookie = ok.last_login.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "pit_session=" in cookie, cookie
    # behind a TLS-terminating proxy the cookie is Secure
    s = requests.Session()
    page = s.get(web.url + "/login")
    r = s.post(web.url + "/login", data={"csrf": csrf_of(page.text), "token": web.token, "next": "/"},
               headers={"X-Forwarded-Proto": "https"}, allow_redirects=False)
    assert r.status_code == 303 and "Secure" in r.headers["Set-Cookie"], r.headers
    assert "Secure" not in ok.last_login.headers["Set-Cookie"]
    # no CSRF cookie -> refused
    r = requests.post(web.url + "/login", data={"csrf": "x", "token": web.token}, allow_redirects=False)
    assert r.status_code == 403
    # open redirect refused
    s = requests.Session()
    page = s.get(web.url + "/login?next=//evil.example/")
    r = s.post(web.url + "/login", data={"csrf": csrf_of(page.text), "token": web.token, "next": "//evil.example/"},
               allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"] == "/", r.headers


def test_csrf_and_sign_out(web):
    s = session_for(web, token=web.token)
    issue = web.checkout_issue["id"]
    page = s.get(web.url + f"/organizations/pit/issues/{issue}/")
    assert page.status_code == 200 and "TypeError" in page.text
    r = s.post(web.url + f"/organizations/pit/issues/{issue}/status", data={"status": "ignored"}, allow_redirects=False)
    assert r.status_code == 403, "a form post without the CSRF token must fail"
    r = s.post(web.url + f"/organizations/pit/issues/{issue}/status", data={"status": "ignored", "csrf": "wrong"},
               allow_redirects=False)
    assert r.status_code == 403
    assert web.issue(issue)["status"] == "unresolved"
    r = s.post(web.url + "/logout", data={"csrf": csrf_of(page.text)}, allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"] == "/login"
    assert s.get(web.url + f"/organizations/pit/issues/{issue}/", allow_redirects=False).status_code == 303


def test_project_isolation_in_pages(web):
    s = session_for(web, token=web.token)
    other_issue = web.issue_of(web.other_event) if False else None  # the API needs the project slug:
    other_event = web.api_json("GET", f"/api/0/projects/pit/other/events/{web.other_event}/")
    other_issue_id = other_event["groupID"]
    mine = web.api_json("GET", f"/api/0/issues/{web.checkout_issue['id']}/events/latest/")
    # another project's event id under this project's URL
    r = s.get(web.url + f"/organizations/pit/projects/default/events/{web.other_event}/")
    assert r.status_code == 404 and "other project secret" not in r.text
    # this project's event row under another issue
    rows = s.get(web.url + f"/organizations/pit/issues/{web.checkout_issue['id']}/").text
    row = re.search(r"/issues/\d+/events/(\d+)/", rows).group(1)
    r = s.get(web.url + f"/organizations/pit/issues/{other_issue_id}/events/{row}/")
    assert r.status_code == 404 and "TypeError" not in r.text
    r = s.get(web.url + f"/organizations/pit/issues/{other_issue_id}/events/{row}/json/")
    assert r.status_code == 404
    # bulk action through the wrong project
    page = s.get(web.url + "/organizations/pit/issues/?project=1")
    r = s.post(web.url + "/organizations/pit/issues/bulk",
               data={"csrf": csrf_of(page.text), "project": web.other["id"], "action": "resolve",
                     "id": web.checkout_issue["id"]}, allow_redirects=False)
    assert r.status_code == 303
    assert web.issue(web.checkout_issue["id"])["status"] == "unresolved"
    assert mine["eventID"]


def test_escaping_of_hostile_event_data(web):
    s = session_for(web, token=web.token)
    pages = [f"/organizations/pit/issues/{web.hostile_issue['id']}/", "/organizations/pit/issues/?project=1&query=",
             f"/organizations/pit/projects/default/events/{web.sent['hostile']}/",
             f"/organizations/pit/issues/{web.hostile_issue['id']}/events/"]
    for path in pages:
        html = s.get(web.url + path).text
        assert "<script>alert" not in html and "<img src=x" not in html, path
        assert 'href="javascript:' not in html.lower() and "href='javascript:" not in html.lower(), path
        assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html or "&lt;script&gt;" in html, path
    csp = s.get(web.url + pages[0]).headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp


# ---------------------------------------------------------------- browser

def _sign_in(driver, web):
    driver.delete_all_cookies()
    driver.get(web.url + "/organizations/pit/issues/?project=1")
    assert "/login" in driver.current_url
    driver.find_element(By.NAME, "email").send_keys("ada@example.com")
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    _submit(driver, driver.find_element(By.NAME, "password"))
    assert "/organizations/pit/issues/" in driver.current_url, driver.current_url


def _replaced(old):
    """Whether the page holding `old` is gone. Chromium sometimes reports a node of the replaced
    document as "does not belong to the document" (an unknown error) rather than as stale."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    def check(_driver):
        try:
            old.is_enabled()
            return False
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            if "does not belong to the document" in str(error):
                return True
            raise
    return check


def _click(driver, selector):
    """Clicks and waits for the next page: a form post returns before the browser has loaded
    the answer, and the server's state is checked right after."""
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, selector).click()
    WebDriverWait(driver, 20).until(_replaced(old))


def _submit(driver, element):
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element(By.TAG_NAME, "html")
    element.submit()
    WebDriverWait(driver, 20).until(_replaced(old))


def _no_alert(driver):
    try:
        alert = driver.switch_to.alert
    except NoAlertPresentException:
        return
    text = alert.text
    alert.dismiss()
    pytest.fail(f"a script from event data ran: alert({text!r})")


def test_browser_walkthrough(web, chromium):
    d = chromium
    d.get(web.url + "/login")
    screenshot(d, "01-login")
    _sign_in(d, web)
    screenshot(d, "02-issue-list")
    rows = d.find_elements(By.CSS_SELECTOR, "table.issues tbody tr")
    assert len(rows) == 4, [r.text for r in rows]
    assert "TypeError" in d.page_source and "ada@example.com" not in d.find_element(By.TAG_NAME, "table").text

    # search with Sentry's syntax
    box = d.find_element(By.NAME, "query")
    box.clear()
    box.send_keys("user.email:ada@example.com")
    _submit(d, box)
    titles = [r.text for r in d.find_elements(By.CSS_SELECTOR, "table.issues tbody tr")]
    assert len(titles) == 1 and "TypeError" in titles[0], titles
    screenshot(d, "03-issue-search")

    # projects page: chart, DSN, SDK snippets
    d.get(web.url + "/organizations/pit/projects/")
    assert web.dsn in d.page_source and "sentry_sdk.init" in d.page_source
    assert d.find_elements(By.CSS_SELECTOR, "svg.chart")
    screenshot(d, "04-projects")

    # issue detail: stack trace, locals, breadcrumbs, tags, user, grouping, raw JSON
    d.get(web.url + f"/organizations/pit/issues/{web.checkout_issue['id']}/")
    page = d.page_source
    for expected in ("checkout", "total / discount", "order_id", "user signed in", "customer_tier", "enterprise",
                     "ada@example.com", "shop@2.1.0", "sentry.python", "Why are these events grouped"):
        assert expected in page, expected
    screenshot(d, "05-issue-detail")
    d.find_element(By.LINK_TEXT, "First").click()
    assert "/events/" in d.current_url
    screenshot(d, "06-issue-first-event")

    # resolve with the button
    _click(d, "button[name=status][value=resolved]")
    assert web.issue(web.checkout_issue["id"])["status"] == "resolved"
    assert "Resolved" in d.page_source
    screenshot(d, "07-issue-resolved")
    _click(d, "button[name=status][value=unresolved]")
    assert web.issue(web.checkout_issue["id"])["status"] == "unresolved"

    # the chained exception shows both exceptions
    chained = web.issue_of(web.sent["chained"])
    d.get(web.url + f"/organizations/pit/issues/{chained['id']}/")
    assert "RuntimeError" in d.page_source and "KeyError" in d.page_source
    screenshot(d, "08-chained")

    # events of the project and one event by id
    d.get(web.url + "/organizations/pit/projects/default/events/")
    assert len(d.find_elements(By.CSS_SELECTOR, "table tbody tr")) == 6
    screenshot(d, "09-project-events")
    d.get(web.url + f"/organizations/pit/projects/default/events/{web.sent['message']}/")
    assert "Disk almost full on db-1" in d.page_source
    screenshot(d, "10-event-detail")
    d.get(web.url + f"/organizations/pit/issues/{web.checkout_issue['id']}/events/")
    assert len(d.find_elements(By.CSS_SELECTOR, "table tbody tr")) == 3
    screenshot(d, "11-issue-events")

    # releases
    d.get(web.url + "/organizations/pit/releases/")
    assert "shop@2.1.0" in d.page_source
    screenshot(d, "12-releases")
    d.get(web.url + "/organizations/pit/releases/shop%402.1.0/")
    assert "default" in d.page_source
    screenshot(d, "13-release-detail")

    # settings: key with rate limit, token shown once, account
    d.get(web.url + "/settings/projects/default/")
    assert web.public_key in d.page_source
    screenshot(d, "14-project-settings")
    d.get(web.url + "/settings/tokens/")
    d.find_element(By.NAME, "label").send_keys("from the browser")
    old = d.find_element(By.TAG_NAME, "html")
    d.find_element(By.NAME, "label").submit()
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(d, 20).until(expected_conditions.staleness_of(old))
    token = re.search(r"pit_tok_[0-9a-f]{64}", d.page_source)
    assert token, "a new token is shown once"
    screenshot(d, "15-token-created")
    assert requests.get(web.url + "/api/0/projects/", headers={"Authorization": f"Bearer {token.group(0)}"}).status_code == 200
    d.get(web.url + "/settings/tokens/")
    assert token.group(0) not in d.page_source, "never shown again"
    d.get(web.url + "/settings/account/")
    assert "ada@example.com" in d.page_source
    screenshot(d, "16-account")

    # a 404 inside the chrome
    d.get(web.url + "/organizations/pit/issues/987654/")
    assert "does not exist" in d.page_source
    screenshot(d, "17-not-found")


def test_browser_bulk_actions(web, chromium):
    d = chromium
    _sign_in(d, web)
    d.get(web.url + "/organizations/pit/issues/?project=1&query=is:unresolved+level:warning")
    d.find_element(By.CSS_SELECTOR, "input[name=id]").click()
    _click(d, "button[name=action][value=ignore]")
    message = web.issue_of(web.sent["message"])
    assert message["status"] == "ignored"
    assert "Ignored 1 issue" in d.page_source
    # every match of a search
    d.get(web.url + "/organizations/pit/issues/?project=1&query=is:ignored")
    d.find_element(By.CSS_SELECTOR, "input[name=all]").click()
    _click(d, "button[name=action][value=unresolve]")
    assert "Unresolved 1 issue" in d.page_source
    assert web.issue_of(web.sent["message"])["status"] == "unresolved"
    screenshot(d, "18-bulk")


def test_browser_hostile_data_stays_text(web, chromium):
    d = chromium
    _sign_in(d, web)
    for path in (f"/organizations/pit/issues/{web.hostile_issue['id']}/", "/organizations/pit/issues/?project=1",
                 f"/organizations/pit/projects/default/events/{web.sent['hostile']}/"):
        d.get(web.url + path)
        _no_alert(d)
        assert not d.find_elements(By.CSS_SELECTOR, "img[src=x]"), path
        assert not d.find_elements(By.CSS_SELECTOR, "a[href^='javascript']"), path
    d.get(web.url + f"/organizations/pit/issues/{web.hostile_issue['id']}/")
    assert HOSTILE_TITLE in d.find_element(By.TAG_NAME, "h1").text
    screenshot(d, "19-hostile")
