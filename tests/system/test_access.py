"""Who may call what: every route against every kind of credential, over the local API."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from clarion.domain.tokens import Scope
from clarion_local.system import LocalClarion
from tests.system.conftest import WITNESS, Api, new_alert

SAMPLE_CONTACT = {"name": "Access Test", "email": "access@clinic.example.org"}


@dataclass
class Credentials:
    by_kind: dict[str, str | None]
    alert_id: str  # an alert of lab-system's


@pytest.fixture(scope="module")
def credentials(local: LocalClarion) -> Iterator[Credentials]:
    api = Api(local.port, local.client_token or "", local.admin_token or "")
    other, _ = local.issue_token("ehr-system", Scope.ALERTS)
    revoked, revoked_id = local.issue_token("lab-system-old", Scope.ALERTS)
    assert local.clients_repo().revoke_token("lab-system-old", revoked_id)  # revoked before it was ever used
    unknown = "clr_lab-system_" + "Z" * 43
    WITNESS.tokens.update({other, revoked, unknown})
    status, _, body = api.post_alert()
    assert status == 202
    api.wait(body["message_id"])
    yield Credentials(
        {
            "none": None,
            "wrong": unknown,
            "revoked": revoked,
            "other client": other,
            "client scope": api.client_token,
            "admin scope": api.admin_token,
        },
        body["message_id"],
    )


ROUTES = [
    "POST /alerts",
    "POST /notification",
    "GET /alerts/{id}",
    "PUT /contacts",
    "GET /contacts",
    "DELETE /contacts",
]
# Expected status per route and credential. The other client is a valid alerts client: it may send alerts, but the
# first client's alert does not exist for it (404, not 403: an alert's existence is not disclosed).
EXPECTED = {
    "none": dict.fromkeys(ROUTES, 401),
    "wrong": dict.fromkeys(ROUTES, 403),
    "revoked": dict.fromkeys(ROUTES, 403),
    "other client": {
        "POST /alerts": 202,
        "POST /notification": 202,
        "GET /alerts/{id}": 404,
        "PUT /contacts": 403,
        "GET /contacts": 403,
        "DELETE /contacts": 403,
    },
    "client scope": {
        "POST /alerts": 202,
        "POST /notification": 202,
        "GET /alerts/{id}": 200,
        "PUT /contacts": 403,
        "GET /contacts": 403,
        "DELETE /contacts": 403,
    },
    "admin scope": {
        "POST /alerts": 403,
        "POST /notification": 403,
        "GET /alerts/{id}": 403,
        "PUT /contacts": 201,
        "GET /contacts": 200,
        "DELETE /contacts": 204,
    },
}
CASES = [(kind, route, status) for kind, table in EXPECTED.items() for route, status in table.items()]


@pytest.mark.parametrize(("kind", "route", "expected"), CASES, ids=[f"{k}:{r}" for k, r, _ in CASES])
def test_route_by_credential(api: Api, credentials: Credentials, kind: str, route: str, expected: int) -> None:
    token = credentials.by_kind[kind]
    contact = f"C-ACCESS-{kind.replace(' ', '-')}"
    if route == "DELETE /contacts":  # something to delete, put there by the admin
        assert api.call("PUT", f"/contacts/{contact}", SAMPLE_CONTACT, api.admin_token)[0] in (200, 201)
    method, path = route.split(" ")
    path = {
        "/alerts/{id}": f"/alerts/{credentials.alert_id}",
        "/contacts": f"/contacts/{contact}",
    }.get(path, path)
    body = new_alert() if method == "POST" else SAMPLE_CONTACT if method == "PUT" else None
    status, answer = api.call(method, path, body, token)
    assert status == expected, answer
    if status >= 400:
        assert set(answer["error"]) >= {"code", "message"}


def test_one_client_never_reads_another_clients_alert(api: Api, credentials: Credentials, local: LocalClarion) -> None:
    # Given an alert of the other client's, with the same message_id as one of lab-system's
    other = credentials.by_kind["other client"]
    mine = api.call("GET", f"/alerts/{credentials.alert_id}", token=api.client_token)[1]
    status, _ = api.call("POST", "/alerts", new_alert(message_id=credentials.alert_id, priority="L"), other)
    assert status == 202
    # Then each reads its own alert under that id, and neither sees the other's
    theirs = api.call("GET", f"/alerts/{credentials.alert_id}", token=other)[1]
    assert theirs["priority"] == "L"
    assert api.call("GET", f"/alerts/{credentials.alert_id}", token=api.client_token)[1]["priority"] == mine["priority"]
