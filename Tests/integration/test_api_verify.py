"""pitd's verification endpoint, ``POST /api/0/projects/{org}/{project}/events/verify/``: which of
a batch of event ids the project has no event for. pit-bench checks every acknowledged event with
it instead of opening the database (issue 11)."""

from __future__ import annotations

import pit_helpers as H


def verify_path(server, project_slug=None) -> str:
    return f"/api/0/projects/{server.org}/{project_slug or server.project_slug}/events/verify/"


def test_verify_answers_the_missing_ids(server):
    stored = [server.send_event() for _ in range(3)]
    absent = [H.new_event_id() for _ in range(2)]
    asked = [absent[0]] + stored + [absent[1]]

    def answer():
        r = server.api("POST", verify_path(server), json={"event_ids": asked})
        assert r.status_code == 200, r.text
        body = r.json()
        return body if body["missing"] == absent else None

    body = H.wait_until(answer, 15, what="the stored events found")
    assert body["checked"] == 5
    # Missing ids come back in the order asked.
    assert body["missing"] == absent


def test_verify_needs_read_scope_only(server):
    eid = server.send_event()
    reader = server.cli("token", "create", "--scopes", "read", "--json")["token"]
    r = server.api("POST", verify_path(server), json={"event_ids": [eid]}, headers={"Authorization": f"Bearer {reader}"})
    assert r.status_code == 200, r.text
    assert server.api("POST", verify_path(server), json={"event_ids": [eid]}, auth=False).status_code == 401


def test_verify_refuses_bad_requests(server):
    assert server.api("POST", verify_path(server), json={"event_ids": ["not-an-id"]}).status_code == 400
    assert server.api("POST", verify_path(server), json={"ids": []}).status_code == 400
    too_many = [H.new_event_id() for _ in range(10_001)]
    assert server.api("POST", verify_path(server), json={"event_ids": too_many}).status_code == 400
    assert server.api("POST", verify_path(server, "no-such-project"), json={"event_ids": []}).status_code == 404
