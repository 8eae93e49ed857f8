"""The escalation policies table: one item per policy, keyed by `policy_id`.

Item: policy_id, name, addressee_ack_within_s?, stages = [{contact_ids: [...], ack_within_s}], repeat, updated_at.
Policies are few (one per ward or service), so finding the policies that name a contact reads them all.
"""

from __future__ import annotations

from typing import Any

from clarion.adapters import audit
from clarion.domain.escalation import Policy, Stage
from clarion.names import ENV_POLICIES_TABLE
from clarion.shared import clients
from clarion.shared.settings import required, settings


def _name() -> str:
    return required(settings().policies_table, ENV_POLICIES_TABLE)


def _table() -> Any:
    return clients.dynamodb_table(_name())


def to_item(policy: Policy) -> dict[str, Any]:
    item: dict[str, Any] = {
        "policy_id": policy.policy_id,
        "name": policy.name,
        "stages": [{"contact_ids": list(s.contact_ids), "ack_within_s": s.ack_within_s} for s in policy.stages],
        "repeat": policy.repeat,
    }
    if policy.addressee_ack_within_s is not None:
        item["addressee_ack_within_s"] = policy.addressee_ack_within_s
    return item


def from_item(item: dict[str, Any]) -> Policy:
    window = item.get("addressee_ack_within_s")
    return Policy(
        policy_id=item["policy_id"],
        name=item["name"],
        stages=tuple(Stage(tuple(s["contact_ids"]), int(s["ack_within_s"])) for s in item["stages"]),
        repeat=int(item.get("repeat", 0)),
        addressee_ack_within_s=int(window) if window is not None else None,
    )


def get_policy(policy_id: str) -> Policy | None:
    item = _table().get_item(Key={"policy_id": policy_id}, ConsistentRead=True).get("Item")
    return from_item(item) if item else None


def put_policy(policy: Policy, updated_at: str) -> None:
    _table().put_item(Item={**to_item(policy), "updated_at": updated_at})


def delete_policy(policy_id: str) -> bool:
    """Delete the policy. Returns False when there was none."""
    return "Attributes" in _table().delete_item(Key={"policy_id": policy_id}, ReturnValues="ALL_OLD")


def put_audited(policy: Policy, updated_at: str, entry: audit.Entry) -> None:
    """Write the policy and its audit entry together."""
    audit.write(entry, _name(), {"Put": {"Item": {**to_item(policy), "updated_at": updated_at}}})


def delete_audited(policy_id: str, entry: audit.Entry) -> bool:
    """Delete the policy and record it together. False when there was none (and nothing is recorded)."""
    condition = {"Key": {"policy_id": policy_id}, "ConditionExpression": "attribute_exists(policy_id)"}
    return audit.write(entry, _name(), {"Delete": condition})


def naming(contact_id: str) -> list[str]:
    """The policies with `contact_id` in a stage."""
    found: list[str] = []
    kwargs: dict[str, Any] = {"ConsistentRead": True}
    while True:
        page = _table().scan(**kwargs)
        found.extend(
            str(i["policy_id"])
            for i in page.get("Items", [])
            if any(contact_id in s.get("contact_ids", []) for s in i.get("stages", []))
        )
        if "LastEvaluatedKey" not in page:
            return sorted(found)
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
