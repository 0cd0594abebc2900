"""`pitd init`, `serve` without init, `project` and `key` subcommands."""

from __future__ import annotations

import uuid

import pit_helpers as H


def ingest(srv, public_key: str, project_id="1"):
    body, _ = H.event_envelope({"message": "key check"})
    return srv.send(body, path=srv.envelope_path(project_id),
                    auth=False, headers=srv.auth_headers(public_key))


def ingest_status(srv, public_key: str, project_id="1") -> int:
    return ingest(srv, public_key, project_id).status


def wait_ingest_ok(srv, public_key: str, project_id="1", timeout: float = 5.0):
    last = []

    def ok():
        r = ingest(srv, public_key, project_id)
        last[:] = [r]
        return r.status == 200

    try:
        H.wait_until(ok, timeout, 0.1, what=f"key {public_key} accepted on project {project_id}")
    except AssertionError as e:
        raise AssertionError(f"{e}; last answer: {last[0]!r}") from None


def test_init_json_and_idempotent(server_factory):
    srv = server_factory(start=False)
    first = srv.init_info
    assert H.HEX32.match(first["public_key"]), first
    assert str(first["project_id"]) == "1", first
    assert first["admin_token"], first
    assert H.dsn_public_key(first["dsn"]) == first["public_key"], first
    assert H.dsn_project_id(first["dsn"]) == "1", first
    second = srv.cli("init", "--json")
    for k in ("admin_token", "public_key", "project_id", "dsn"):
        assert second[k] == first[k], f"second init changed {k}: {first[k]!r} -> {second[k]!r}"
    # and the server it then serves accepts that key and token
    srv.start()
    assert ingest_status(srv, first["public_key"]) == 200
    assert srv.api("GET", "/api/0/projects/").status_code == 200


def test_serve_without_init_initialises_itself(server_factory):
    srv = server_factory(init=False)  # serve on an empty data dir
    info = srv.cli("init", "--json")
    srv._adopt_init(info)
    dsn = H.rehost_dsn(info["dsn"], srv.url)
    key, pid = H.dsn_public_key(dsn), H.dsn_project_id(dsn)
    assert key == info["public_key"] and pid == "1", info
    eid = srv.send_event(path=srv.envelope_path(pid), auth=False, headers=srv.auth_headers(key))
    assert srv.event(eid)["eventID"] == eid
    projects = srv.api_json("GET", "/api/0/projects/")
    assert [p["slug"] for p in projects] == ["default"], projects
    # persisted: same identity after a restart
    srv.restart()
    again = srv.cli("init", "--json")
    assert again["public_key"] == info["public_key"] and again["admin_token"] == info["admin_token"]
    assert srv.event(eid)["eventID"] == eid


def test_project_create_and_list(server):
    created = server.cli("project", "create", "backend", "--json")
    for k in ("id", "slug", "name", "dsn", "public_key"):
        assert k in created, f"project create output lacks {k}: {created}"
    assert created["slug"] == "backend" and created["name"] == "backend", created
    assert str(created["id"]) not in ("", "1"), created

    p42 = server.cli("project", "create", "payments", "--id", "42", "--json")
    assert str(p42["id"]) == "42", p42
    assert H.dsn_project_id(p42["dsn"]) == "42", p42
    assert H.dsn_public_key(p42["dsn"]) == p42["public_key"], p42

    listed = server.cli("project", "list", "--json")
    assert isinstance(listed, list), listed
    by_id = {str(p["id"]): p for p in listed}
    assert by_id.get("1", {}).get("slug") == "default", listed
    assert by_id.get("42", {}).get("slug") == "payments", listed
    assert str(created["id"]) in by_id, listed

    # created while serving: usable for ingest within 5 s, visible in the read API
    wait_ingest_ok(server, p42["public_key"], "42")
    eid = server.send_event({"message": "for payments"}, path=server.envelope_path("42"), auth=False,
                            headers=server.auth_headers(p42["public_key"]))
    ev = server.event(eid, project_slug="payments")
    assert ev["eventID"] == eid
    assert server.event_status(eid, project_slug="default") == 404
    api_projects = H.wait_until(
        lambda: (lambda ps: ps if {"default", "payments", "backend"} <= {p["slug"] for p in ps} else None)(
            server.api_json("GET", "/api/0/projects/")), 5, what="projects in read API")
    p = [x for x in api_projects if x["slug"] == "payments"][0]
    assert p["id"] == "42" and p["organization"]["slug"] == "pit", p
    issues = server.issues(project_slug="payments")
    assert str(ev["groupID"]) in {str(i["id"]) for i in issues}, issues
    # keys are bound to their project
    assert ingest_status(server, server.public_key, "42") == 403
    assert ingest_status(server, p42["public_key"], "1") == 403


def test_key_create_with_chosen_public_key(server_factory):
    srv = server_factory(start=False)
    chosen = uuid.uuid4().hex
    k = srv.cli("key", "create", "--project", "1", "--public-key", chosen, "--json")
    assert k["public_key"] == chosen, k
    assert str(k["project_id"]) == "1", k
    assert k["enabled"] is True, k
    assert H.dsn_public_key(k["dsn"]) == chosen and H.dsn_project_id(k["dsn"]) == "1", k
    keys = srv.cli("key", "list", "--project", "1", "--json")
    assert isinstance(keys, list), keys
    assert {chosen, srv.public_key} <= {x["public_key"] for x in keys}, keys
    srv.start()
    assert ingest_status(srv, chosen) == 200, "key created before serve must work at once"
    dsn = H.rehost_dsn(k["dsn"], srv.url)
    assert H.dsn_public_key(dsn) == chosen


def test_key_created_while_serving_accepted_within_5s(server):
    new_key = uuid.uuid4().hex
    assert ingest_status(server, new_key) == 403
    k = server.cli("key", "create", "--project", "1", "--public-key", new_key, "--json")
    assert k["public_key"] == new_key, k
    wait_ingest_ok(server, new_key, "1", timeout=5.0)
    keys = server.cli("key", "list", "--project", "1", "--json")
    assert new_key in {x["public_key"] for x in keys}, keys
    # generated key (no --public-key)
    gen = server.cli("key", "create", "--project", "1", "--json")
    assert H.HEX32.match(gen["public_key"]), gen
    wait_ingest_ok(server, gen["public_key"], "1", timeout=5.0)
