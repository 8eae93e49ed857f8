"""Escalation policies through the admin API: create, replace, read, delete; every field's bad input; references
to contacts and from contacts, refused while in use."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.walk import Walk

POLICY = {
    "name": "Ward 7B critical results",
    "addressee_ack_within_s": 300,
    "stages": [{"contact_ids": ["C-2"], "ack_within_s": 300}, {"contact_ids": ["C-3", "C-4"], "ack_within_s": 600}],
    "repeat": 1,
}


@pytest.fixture
def walk(clarion: Any) -> Walk:
    w = Walk(clarion)
    w.given_contacts_and_policy(policy=None)
    return w


def test_a_policy_is_created_then_replaced_and_read_back(walk: Walk) -> None:
    status, body = walk.admin("PUT", "/escalation-policies/ward-7b", POLICY)
    assert status == 201
    assert body == {"policy_id": "ward-7b", **POLICY}
    replaced = {**POLICY, "repeat": 0, "addressee_ack_within_s": None}
    status, body = walk.admin("PUT", "/escalation-policies/ward-7b", replaced)
    assert (status, body["repeat"]) == (200, 0)
    status, body = walk.admin("GET", "/escalation-policies/ward-7b")
    assert status == 200 and body["stages"] == POLICY["stages"] and body["addressee_ack_within_s"] is None


def test_an_unknown_policy_is_404_to_read_and_to_delete(walk: Walk) -> None:
    assert walk.admin("GET", "/escalation-policies/nope")[0] == 404
    assert walk.admin("DELETE", "/escalation-policies/nope")[0] == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"stages": []}, "stages"),
        ({"stages": [{"contact_ids": [], "ack_within_s": 60}]}, "stages.0.contact_ids"),
        ({"stages": [{"contact_ids": ["C-2", "C-2"], "ack_within_s": 60}]}, "stages.0.contact_ids"),
        ({"stages": [{"contact_ids": [f"C-{i}" for i in range(11)], "ack_within_s": 60}]}, "stages.0.contact_ids"),
        ({"stages": [{"contact_ids": ["C-2"], "ack_within_s": 60}] * 11}, "stages"),
        ({"stages": [{"contact_ids": ["C-2"], "ack_within_s": 4}]}, "stages.0.ack_within_s"),
        ({"stages": [{"contact_ids": ["C-2"], "ack_within_s": 86_401}]}, "stages.0.ack_within_s"),
        ({"stages": [{"contact_ids": ["bad id!"], "ack_within_s": 60}]}, "stages.0.contact_ids.0"),
        ({"stages": [{"contact_ids": ["C-2"], "ack_within_s": 60, "extra": 1}]}, "stages.0.extra"),
        ({"addressee_ack_within_s": 0}, "addressee_ack_within_s"),
        ({"repeat": 6}, "repeat"),
        ({"repeat": -1}, "repeat"),
        ({"name": ""}, "name"),
        ({"name": "line\nbreak"}, "name"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_400_naming_the_field(walk: Walk, change: dict[str, Any], field: str) -> None:
    status, body = walk.admin("PUT", "/escalation-policies/ward-7b", {**POLICY, **change})
    assert status == 400, body
    assert body["error"]["field"] == field, body


def test_a_policy_naming_an_unknown_contact_is_422_naming_where(walk: Walk) -> None:
    body = {**POLICY, "stages": [POLICY["stages"][0], {"contact_ids": ["C-3", "C-404"], "ack_within_s": 60}]}
    status, answer = walk.admin("PUT", "/escalation-policies/ward-7b", body)
    assert status == 422
    assert answer["error"]["code"] == "unknown_contact" and answer["error"]["field"] == "stages.1.contact_ids"
    assert "C-404" in answer["error"]["message"]


def test_a_contact_naming_an_unknown_policy_is_422(walk: Walk) -> None:
    status, body = walk.admin(
        "PUT", "/contacts/C-1", {"name": "Dr Ada", "email": "a@example.org", "escalation_policy_id": "nope"}
    )
    assert (status, body["error"]["code"], body["error"]["field"]) == (422, "unknown_policy", "escalation_policy_id")


def test_deleting_what_is_still_named_is_409_naming_who_names_it(walk: Walk) -> None:
    # Given C-2 is in the policy and C-1 names the policy
    walk.admin("PUT", "/escalation-policies/ward-7b", POLICY)
    walk.admin("PUT", "/contacts/C-1", {"name": "Dr Ada", "email": "a@example.org", "escalation_policy_id": "ward-7b"})
    # When either is deleted
    status, body = walk.admin("DELETE", "/contacts/C-2")
    assert (status, body["error"]["code"]) == (409, "in_use") and "ward-7b" in body["error"]["message"]
    status, body = walk.admin("DELETE", "/escalation-policies/ward-7b")
    assert (status, body["error"]["code"]) == (409, "in_use") and "C-1" in body["error"]["message"]
    # Then, once nothing names them, they can be deleted
    walk.admin("PUT", "/contacts/C-1", {"name": "Dr Ada", "email": "a@example.org"})
    assert walk.admin("DELETE", "/escalation-policies/ward-7b")[0] == 204
    assert walk.admin("DELETE", "/contacts/C-2")[0] == 204


def test_an_alerts_token_cannot_manage_policies(walk: Walk) -> None:
    from clarion.domain import tokens

    assert ("PUT", "/escalation-policies/*") not in tokens.allowed_routes([tokens.Scope.ALERTS])
