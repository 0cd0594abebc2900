"""What CI pipelines run with the real ``sentry-cli`` (PyPI) against a live pitd (issue 14): ``info``
with an organization token alone (``sntrys_``: the server URL and org come from the token),
``releases new|finalize|list``, ``deploys new``, ``sourcemaps inject`` + ``upload`` of the
committed fixture app (fixtures/sourcemaps, without and with ``--release``), ``debug-files upload``
of an ELF built here with gcc (twice: the second time nothing is sent, the server already has it),
``monitors run``, ``send-event`` and ``releases set-commits --auto|--commit`` (commits from the
local git log, accepted and not kept). What was stored is read back through Pit's API, on both back
ends."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

import pit_helpers as H

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "sourcemaps"
DEBUG_ID_RE = re.compile(r"//# debugId=([0-9a-fA-F-]{36})")
BUILD_ID = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def sentry_cli_bin() -> str:
    cand = Path(sys.executable).parent / "sentry-cli"
    if cand.exists():
        return str(cand)
    found = shutil.which("sentry-cli")
    if not found:
        pytest.fail("sentry-cli not installed (pip install -r Tests/integration/requirements.txt)", pytrace=False)
    return found


@pytest.fixture(scope="module")
def pit(module_server_factory):
    server = module_server_factory()
    created = server.api_json("POST", f"/api/0/organizations/{server.org}/org-auth-tokens/", expect=201,
                              json={"name": "CI"})
    server.org_token = created["token"]
    return server


@pytest.fixture(scope="module")
def cli(pit, sentry_cli_bin, tmp_path_factory):
    home = tmp_path_factory.mktemp("cli-home")

    def run(*args: str, token: str | None = None, url: str | None = None, expect_ok: bool = True,
            cwd: Path | None = None, extra: dict | None = None) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
        env.update({
            "SENTRY_AUTH_TOKEN": token or pit.org_token,
            "SENTRY_PROJECT": pit.project_slug,
            "SENTRY_DISABLE_UPDATE_CHECK": "1",
            "SENTRY_LOAD_DOTENV": "0",
            "HOME": str(home),
        })
        if url:
            env["SENTRY_URL"] = url
            env["SENTRY_ORG"] = pit.org
        env.update(extra or {})
        cp = subprocess.run([sentry_cli_bin, *args], capture_output=True, text=True, timeout=120, env=env, cwd=cwd)
        if expect_ok:
            assert cp.returncode == 0, f"sentry-cli {' '.join(args)} exited {cp.returncode}:\n{cp.stdout}\n{cp.stderr}"
        return cp

    return run


def test_org_token_carries_the_server_and_only_its_hash_is_kept(pit):
    token = pit.org_token
    assert token.startswith("sntrys_"), token
    _, payload, secret = token.split("_")
    claims = json.loads(base64.b64decode(payload))
    assert claims["url"] == pit.url and claims["region_url"] == pit.url and claims["org"] == pit.org, claims
    assert len(base64.b64decode(secret + "=")) == 32
    listed = pit.api_json("GET", f"/api/0/organizations/{pit.org}/org-auth-tokens/")
    assert [t["name"] for t in listed] == ["CI"] and all("token" not in t for t in listed), listed
    assert listed[0]["scopes"] == ["org:ci"]
    root = pit.api_json("GET", "/api/0/", headers={"Authorization": f"Bearer {token}"})
    assert root["auth"]["scopes"] == ["org:ci"] and root["user"] is None, root
    bad = pit.api("GET", "/api/0/", headers={"Authorization": f"Bearer {token[:-2]}xx"})
    assert bad.status_code == 401 and bad.json() == {"detail": "Invalid token."}, bad.text
    anonymous = pit.api("GET", "/api/0/", auth=False)
    assert anonymous.status_code == 401 and "detail" in anonymous.json()
    other_org = pit.api("POST", "/api/0/organizations/elsewhere/org-auth-tokens/", json={"name": "x"})
    assert other_org.status_code == 404 and "detail" in other_org.json()


def test_info_with_the_org_token_alone_and_with_an_api_token(pit, cli):
    out = cli("info").stdout
    assert f"Sentry Server: {pit.url}" in out, out
    assert "org:ci" in out, out
    api_token = pit.api_json("POST", "/api/0/api-tokens/", expect=201, json={"name": "ci", "scopes": ["project:write"]})
    out = cli("info", token=api_token["token"], url=pit.url).stdout
    assert "project:releases" in out and "project:write" in out, out


def test_releases_new_finalize_deploys_and_list(pit, cli):
    cli("releases", "new", "shop@1.0.0")
    created = pit.api_json("GET", f"/api/0/organizations/{pit.org}/releases/shop@1.0.0/")
    assert created["dateReleased"] is None and created["deployCount"] == 0, created
    assert [p["slug"] for p in created["projects"]] == [pit.project_slug], created
    cli("releases", "finalize", "shop@1.0.0")
    cli("deploys", "new", "-r", "shop@1.0.0", "-e", "staging")
    cli("deploys", "new", "-r", "shop@1.0.0", "-e", "production", "-n", "Friday deploy", "-u", "https://shop.example/")
    release = pit.api_json("GET", f"/api/0/organizations/{pit.org}/releases/shop@1.0.0/")
    assert release["dateReleased"] is not None, release
    assert release["deployCount"] == 2, release
    assert release["lastDeploy"]["environment"] == "production", release
    assert release["lastDeploy"]["name"] == "Friday deploy", release
    deploys = pit.api_json("GET", f"/api/0/organizations/{pit.org}/releases/shop@1.0.0/deploys/")
    assert [d["environment"] for d in deploys] == ["production", "staging"], deploys
    assert deploys[0]["url"] == "https://shop.example/" and deploys[0]["dateFinished"], deploys
    listed = cli("releases", "list").stdout
    assert "shop@1.0.0" in listed or "1.0.0" in listed, listed
    assert "shop@1.0.0" in [r["version"] for r in pit.api_json("GET", f"/api/0/organizations/{pit.org}/releases/")]
    again = pit.api("POST", f"/api/0/organizations/{pit.org}/releases/",
                    json={"version": "shop@1.0.0", "projects": [pit.project_slug]})
    assert again.status_code == 208, again.text
    refused = pit.api("POST", f"/api/0/organizations/{pit.org}/releases/", json={"version": "a/b", "projects": [pit.project_slug]})
    assert refused.status_code == 400 and "detail" in refused.json(), refused.text
    unknown = pit.api("POST", f"/api/0/organizations/{pit.org}/releases/", json={"version": "x1", "projects": ["nope"]})
    assert unknown.status_code == 400 and "detail" in unknown.json(), unknown.text
    missing = pit.api("POST", f"/api/0/organizations/{pit.org}/releases/nope@1/deploys/", json={"environment": "prod"})
    assert missing.status_code == 404 and "detail" in missing.json(), missing.text


def inject(cli, tmp_path: Path) -> tuple[Path, str]:
    dist = tmp_path / "dist"
    shutil.copytree(FIXTURE / "dist", dist)
    cli("sourcemaps", "inject", str(dist))
    found = DEBUG_ID_RE.search((dist / "app.min.js").read_text())
    assert found, (dist / "app.min.js").read_text()
    source_map = json.loads((dist / "app.min.js.map").read_text())
    assert source_map.get("debug_id", source_map.get("debugId")) == found.group(1)
    return dist, found.group(1).lower()


def bundles(pit) -> list:
    return pit.api_json("GET", f"/api/0/projects/{pit.org}/{pit.project_slug}/files/artifact-bundles/")


def bundle_files(pit, bundle_id: str) -> dict:
    return pit.api_json("GET", f"/api/0/projects/{pit.org}/{pit.project_slug}/artifact-bundles/{bundle_id}/files/")


def git_checkout(path: Path) -> Path:
    """A repository with two commits and a GitHub remote, as a CI job's checkout."""
    path.mkdir()
    env = {**os.environ, "GIT_AUTHOR_NAME": "CI", "GIT_AUTHOR_EMAIL": "ci@example.com",
           "GIT_COMMITTER_NAME": "CI", "GIT_COMMITTER_EMAIL": "ci@example.com"}
    def git(*args):
        subprocess.run(["git", *args], cwd=path, env=env, check=True, capture_output=True)
    git("init", "-q")
    git("remote", "add", "origin", "https://github.com/acme/shop.git")
    for n in (1, 2):
        (path / f"file{n}.txt").write_text(f"change {n}\n")
        git("add", ".")
        git("commit", "-q", "-m", f"change {n}")
    return path


def test_set_commits_auto_and_commit_take_the_local_git_log(pit, cli, tmp_path):
    checkout = git_checkout(tmp_path / "shop")
    cli("releases", "new", "shop@4.0.0")
    auto = cli("releases", "set-commits", "shop@4.0.0", "--auto", cwd=checkout)
    assert "Success! Set commits for release shop@4.0.0" in auto.stdout, auto.stdout + auto.stderr
    # A named repository Pit does not know: with none configured the CLI reads the local log too.
    named = cli("releases", "set-commits", "shop@4.0.0", "--commit", "acme/shop@HEAD", cwd=checkout)
    assert "Success!" in named.stdout, named.stdout + named.stderr
    assert pit.api_json("GET", f"/api/0/organizations/{pit.org}/repos/") == []
    assert pit.api_json("GET", f"/api/0/organizations/{pit.org}/releases/shop@4.0.0/previous-with-commits/") == {}
    missing = pit.api("GET", f"/api/0/organizations/{pit.org}/releases/nope@1/previous-with-commits/")
    assert missing.status_code == 404 and missing.json() == {"detail": "The requested resource does not exist"}
    assert pit.api_json("GET", f"/api/0/organizations/{pit.org}/releases/shop@4.0.0/")["version"] == "shop@4.0.0"


def test_sourcemaps_inject_and_upload_with_debug_ids_then_with_a_release(pit, cli, tmp_path):
    dist, debug_id = inject(cli, tmp_path)
    before = {b["bundleId"] for b in bundles(pit)}
    cli("sourcemaps", "upload", str(dist))
    new = [b for b in bundles(pit) if b["bundleId"] not in before]
    assert len(new) == 1 and new[0]["release"] is None and new[0]["fileCount"] == 2, new
    files = bundle_files(pit, new[0]["bundleId"])["files"]
    by_type = {f["fileType"]: f for f in files}
    assert by_type[2]["filePath"] == "~/app.min.js" and by_type[2]["debugId"] == debug_id, files
    assert by_type[2]["sourcemap"] == "app.min.js.map", files
    assert by_type[3]["filePath"] == "~/app.min.js.map" and by_type[3]["debugId"] == debug_id, files

    cli("releases", "new", "shop@2.0.0")
    cli("sourcemaps", "upload", "--release", "shop@2.0.0", "--dist", "web", str(dist))
    released = [b for b in bundles(pit) if b["release"] == "shop@2.0.0"]
    assert len(released) == 1 and released[0]["dist"] == "web" and released[0]["fileCount"] == 2, bundles(pit)


def test_uploading_the_same_bundle_again_sends_nothing(pit, cli, tmp_path):
    dist, _ = inject(cli, tmp_path)
    first = cli("sourcemaps", "upload", "--release", "shop@3.0.0", str(dist), "--log-level", "debug")
    assert chunk_posts(first.stderr), first.stderr
    count = len(bundles(pit))
    again = cli("sourcemaps", "upload", "--release", "shop@3.0.0", str(dist), "--log-level", "debug")
    assert len(bundles(pit)) == count
    # The assemble call answers that the server has the bundle: no chunk is posted.
    assert chunk_posts(again.stderr) == [], again.stderr


def chunk_posts(log: str) -> list:
    return [line for line in log.splitlines() if "POST" in line and "chunk-upload" in line]


def build_elf(tmp_path: Path) -> Path:
    if not shutil.which("gcc"):
        pytest.skip("gcc is not installed")
    source = tmp_path / "demo.c"
    source.write_text("int answer(int x) { return x * 42; }\nint main(void) { return answer(1) == 42 ? 0 : 1; }\n")
    binary = tmp_path / "demo"
    subprocess.run(["gcc", "-g", "-O0", f"-Wl,--build-id=0x{BUILD_ID}", "-o", str(binary), str(source)], check=True)
    return binary


def test_debug_files_upload_is_stored_listed_and_deduplicated(pit, cli, tmp_path):
    binary = build_elf(tmp_path)
    first = cli("debug-files", "upload", "--log-level", "debug", str(binary))
    assert chunk_posts(first.stderr), first.stderr
    files = pit.api_json("GET", f"/api/0/projects/{pit.org}/{pit.project_slug}/files/dsyms/")
    demo = [f for f in files if f["objectName"] == "demo"]
    assert len(demo) == 1, files
    assert demo[0]["codeId"] == BUILD_ID and demo[0]["cpuName"] == "x86_64" and demo[0]["symbolType"] == "elf", demo
    # sentry-cli's debug id of an ELF is the build id's first 16 bytes as a little-endian GUID.
    assert demo[0]["debugId"].replace("-", "")[16:32] == BUILD_ID[16:32], demo
    second = cli("debug-files", "upload", "--log-level", "debug", str(binary))
    assert chunk_posts(second.stderr) == [], second.stderr
    assert len([f for f in pit.api_json("GET", f"/api/0/projects/{pit.org}/{pit.project_slug}/files/dsyms/")
                if f["objectName"] == "demo"]) == 1


def test_chunk_upload_options_and_missing_chunk_protocol(pit):
    options = pit.api_json("GET", f"/api/0/organizations/{pit.org}/chunk-upload/")
    assert options["hashAlgorithm"] == "sha1" and options["compression"] == ["gzip"], options
    for kind in ("artifact_bundles", "debug_files", "release_files", "sources", "bcsymbolmaps", "il2cpp", "proguard"):
        assert kind in options["accept"], options
    assert options["url"] == f"{pit.url}/api/0/organizations/{pit.org}/chunk-upload/"
    import gzip
    import hashlib
    data = b"not an object file, just bytes " * 10
    checksum = hashlib.sha1(data).hexdigest()
    path = f"/api/0/projects/{pit.org}/{pit.project_slug}/files/difs/assemble/"
    body = {checksum: {"name": "blob.so", "debug_id": "11111111-2222-3333-4444-555555555555", "chunks": [checksum]}}
    answer = pit.api_json("POST", path, json=body)[checksum]
    assert answer["state"] == "not_found" and answer["missingChunks"] == [checksum], answer
    wrong = pit.api("POST", f"/api/0/organizations/{pit.org}/chunk-upload/",
                    files={"file_gzip": ("0" * 40, gzip.compress(data), "application/octet-stream")})
    assert wrong.status_code == 400 and "detail" in wrong.json(), wrong.text
    sent = pit.api("POST", f"/api/0/organizations/{pit.org}/chunk-upload/",
                   files={"file_gzip": (checksum, gzip.compress(data), "application/octet-stream")})
    assert sent.status_code == 200, sent.text
    answer = pit.api_json("POST", path, json=body)[checksum]
    assert answer["state"] == "ok" and answer["missingChunks"] == [] and answer["dif"]["sha1"] == checksum, answer
    assert answer["dif"]["symbolType"] == "unknown"
    bundle = pit.api_json("POST", f"/api/0/organizations/{pit.org}/artifactbundle/assemble/",
                          json={"checksum": checksum, "chunks": [checksum], "projects": [pit.project_slug]})
    assert bundle["state"] == "error" and "zip" in bundle["detail"], bundle
    elsewhere = pit.api("POST", f"/api/0/organizations/{pit.org}/artifactbundle/assemble/",
                        json={"checksum": checksum, "chunks": [checksum], "projects": ["not-ours"]})
    assert elsewhere.status_code == 400 and "detail" in elsewhere.json()


def test_monitors_run_and_send_event(pit, cli):
    cli("monitors", "run", "-s", "*/10 * * * *", "ci-nightly", "--", "true", extra={"SENTRY_DSN": pit.dsn})
    found = H.wait_until(
        lambda: next((m for m in pit.api_json("GET", f"/api/0/organizations/{pit.org}/monitors/")
                      if m["slug"] == "ci-nightly"), None), timeout=20, what="ci-nightly monitor")
    assert found["config"]["schedule"] == "*/10 * * * *", found
    out = cli("send-event", "-m", "deployed from CI", "-r", "shop@1.0.0", extra={"SENTRY_DSN": pit.dsn})
    event_id = H.normalize_event_id(re.findall(r"[0-9a-fA-F-]{32,36}", out.stdout + out.stderr)[-1])
    event = H.wait_until(lambda: (lambda r: r.json() if r.status_code == 200 else None)(
        pit.api("GET", pit.event_path(event_id))), timeout=20, what="event")
    assert H.ev_release(event) == "shop@1.0.0", H.short(event)


def test_release_page_shows_deploys_and_settings_create_an_org_token(pit, cli, chromium):
    from selenium.webdriver.common.by import By
    from conftest import screenshot

    cli("releases", "new", "shop@4.0.0")
    cli("releases", "finalize", "shop@4.0.0")
    cli("deploys", "new", "-r", "shop@4.0.0", "-e", "production", "-n", "Evening deploy")
    H.browser_sign_in(chromium, pit)
    chromium.get(pit.url + f"/organizations/{pit.org}/releases/")
    assert "shop@4.0.0" in chromium.find_element(By.TAG_NAME, "main").text
    chromium.get(pit.url + f"/organizations/{pit.org}/releases/shop@4.0.0/")
    deploys = chromium.find_element(By.CSS_SELECTOR, "section.release-deploys").text
    assert "finalized" in deploys and "production" in deploys and "Evening deploy" in deploys, deploys
    screenshot(chromium, "cli-01-release-deploys")
    chromium.get(pit.url + "/settings/tokens/")
    form = chromium.find_element(By.CSS_SELECTOR, "input[name=kind][value=organization]").find_element(By.XPATH, "..")
    form.find_element(By.NAME, "label").send_keys("GitHub Actions")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    # The token table may already list an earlier `sntrys_` prefix: wait for the one-time box.
    H.wait_until(lambda: chromium.find_elements(By.ID, "new-token"), timeout=20, what="the new organization token")
    token = chromium.find_element(By.ID, "new-token").text
    assert re.fullmatch(r"sntrys_[A-Za-z0-9+/=]+_[A-Za-z0-9+/]+", token), token
    screenshot(chromium, "cli-02-org-token")
    root = pit.api_json("GET", "/api/0/", headers={"Authorization": f"Bearer {token}"})
    assert root["auth"]["scopes"] == ["org:ci"], root
