"""`sentry-cli send-event` (from PyPI) against a live pitd."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import pit_helpers as H

EVENT_ID_RE = re.compile(r"([0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12})")


@pytest.fixture(scope="session")
def sentry_cli_bin() -> str:
    cand = Path(sys.executable).parent / "sentry-cli"
    if cand.exists():
        return str(cand)
    found = shutil.which("sentry-cli")
    if not found:
        pytest.fail("sentry-cli not installed (pip install -r Tests/integration/requirements.txt)", pytrace=False)
    return found


@pytest.fixture
def cli(sentry_cli_bin, tmp_path):
    home = tmp_path / "home"
    home.mkdir()

    def run(dsn: str, *args: str, expect_ok: bool = True) -> str:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
        env.update({
            "SENTRY_DSN": dsn,
            "SENTRY_DISABLE_UPDATE_CHECK": "1",
            "SENTRY_LOAD_DOTENV": "0",
            "HOME": str(home),  # no ~/.sentryclirc of the developer
        })
        cp = subprocess.run([sentry_cli_bin, "send-event", *args], capture_output=True, text=True,
                            timeout=60, env=env)
        out = cp.stdout + cp.stderr
        if expect_ok:
            assert cp.returncode == 0, f"sentry-cli exited {cp.returncode}: {out}"
        return out

    return run


def event_id_from(output: str) -> str:
    found = EVENT_ID_RE.findall(output)
    assert found, f"no event id in sentry-cli output: {output!r}"
    return H.normalize_event_id(found[-1])


def test_send_event_message(server, cli):
    out = cli(server.dsn, "--no-environ", "-m", "hello from cli")
    eid = event_id_from(out)
    ev = server.event(eid)
    assert ev["eventID"] == eid, H.short(ev)
    assert H.ev_message_template(ev) == "hello from cli", H.short(ev)
    issues = server.issues()
    assert any("hello from cli" in (i.get("title") or "") for i in issues), H.short(issues)
    assert any(str(i["id"]) == str(ev["groupID"]) for i in issues), H.short(issues)


def test_send_event_fingerprint_tags_release(server, cli):
    ids = []
    for msg in ("cli message A", "cli message B"):
        out = cli(server.dsn, "--no-environ", "-m", msg, "--fingerprint", "cli-fp",
                  "-t", "component:billing", "-t", "host:box1", "-r", "cli-rel@1.2", "-E", "prod",
                  "-l", "warning", "-u", "id:42")
        ids.append(event_id_from(out))
    evs = [server.event(i) for i in ids]
    assert evs[0]["groupID"] == evs[1]["groupID"], "same --fingerprint must group together"
    tags = H.ev_tags(evs[0])
    assert tags.get("component") == "billing" and tags.get("host") == "box1", H.short(evs[0])
    assert H.ev_release(evs[0]) == "cli-rel@1.2", H.short(evs[0])
    assert H.ev_environment(evs[0]) == "prod", H.short(evs[0])
    assert H.ev_fingerprint(evs[0]) == ["cli-fp"], H.short(evs[0])
    issue = server.issue(evs[0]["groupID"])
    assert issue["count"] == "2", issue
    assert issue["level"] == "warning", issue
    assert issue["userCount"] == 1, issue


def test_send_event_message_args_group(server, cli):
    ids = [event_id_from(cli(server.dsn, "--no-environ", "-m", "Job %s timed out", "-a", job))
           for job in ("alpha", "beta")]
    groups = {server.event(i)["groupID"] for i in ids}
    assert len(groups) == 1, groups
    le = server.event(ids[0]).get("logentry") or {}
    assert le.get("message") == "Job %s timed out", le


def test_send_event_from_json_file(server, cli, tmp_path):
    f = tmp_path / "event.json"
    f.write_text(json.dumps({"message": "event from a file", "level": "info", "tags": {"src": "file"}}))
    out = cli(server.dsn, str(f))
    eid = event_id_from(out)
    ev = server.event(eid)
    assert H.ev_tags(ev).get("src") == "file", H.short(ev)
    assert H.ev_message_template(ev) == "event from a file", H.short(ev)
