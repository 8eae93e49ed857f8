"""On-call schedules on the local system, over HTTP with an admin token: the template's routes and table, the
admin function's grants and Clarion's layer (tzdata) all in play. Real time, one short override."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from tests.system.conftest import Api


def _at(moment: datetime) -> str:
    return quote(moment.isoformat(), safe="")


def test_an_override_for_the_next_minute_wins_and_deleting_it_ends_it(api: Api) -> None:
    schedule = f"/schedules/sys-{uuid.uuid4().hex[:8]}"
    token = api.admin_token
    # Given two sample contacts alternating hour by hour in London, so one of them is on call now
    body = {
        "name": "System test rota",
        "time_zone": "Europe/London",
        "layers": [
            {"participants": ["C-1", "C-2"], "shift": {"length": 1, "unit": "hours"}, "handoff_at": "2026-01-05T00:00"}
        ],
    }
    assert api.call("PUT", schedule, body, token)[0] == 201
    try:
        status, now = api.call("GET", f"{schedule}/on-call", token=token)
        assert status == 200, now
        layer_contact = now["contact_ids"]
        assert layer_contact in (["C-1"], ["C-2"]) and now["sources"] == {layer_contact[0]: "layers[0]"}
        # When a third sample contact, C-3, takes the next minute
        start = datetime.now(UTC)
        override = {
            "start": start.isoformat(),
            "end": (start + timedelta(minutes=1)).isoformat(),
            "contact_ids": ["C-3"],
        }
        status, added = api.call("POST", f"{schedule}/overrides", override, token)
        assert status == 201, added
        # Then C-3 is on call now, from the override, until it ends
        status, during = api.call("GET", f"{schedule}/on-call?at={_at(start + timedelta(seconds=1))}", token=token)
        assert status == 200, during
        assert during["contact_ids"] == ["C-3"] and during["sources"] == {"C-3": f"overrides/{added['override_id']}"}
        assert during["until"] == added["end"]
        # When it is deleted while it runs
        assert api.call("DELETE", f"{schedule}/overrides/{added['override_id']}", token=token)[0] == 204
        # Then it has ended: the rota's contact is back, and the override is kept as a past one
        status, after = api.call("GET", f"{schedule}/on-call", token=token)
        assert after["sources"] != {"C-3": f"overrides/{added['override_id']}"}
        assert after["contact_ids"] in (["C-1"], ["C-2"])
        assert api.call("GET", f"{schedule}/overrides", token=token)[1] == {"overrides": []}
        past = api.call("GET", f"{schedule}/overrides?include_past=true", token=token)[1]["overrides"]
        assert [o["override_id"] for o in past] == [added["override_id"]] and past[0]["end"] < added["end"]
        # And an alerts token reaches none of it
        assert api.call("GET", schedule, token=api.client_token)[0] == 403
    finally:
        assert api.call("DELETE", schedule, token=token)[0] == 204
