"""The on-call schedules' infrastructure: their own table, the admin function alone may use it and only as it needs,
and Clarion's layer ships the time zone database (the Lambda runtime may have none)."""

from __future__ import annotations

import json
from typing import Any

from clarion import names
from stacks.constructs.functions import stage_dependency_layer
from tests.synth import Synth


def _role_of(s: Synth, handler: str) -> str:
    (function,) = [
        f["Properties"]
        for f in s.resources("AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == handler
    ]
    return str(function["Role"]["Fn::GetAtt"][0])


def _statements_on(s: Synth, table_marker: str) -> dict[str, list[dict[str, Any]]]:
    """Role logical id -> the statements of its policies that name the table."""
    found: dict[str, list[dict[str, Any]]] = {}
    policies = {**s.resources("AWS::IAM::Policy"), **s.resources("AWS::IAM::ManagedPolicy")}
    for policy in policies.values():
        props = policy["Properties"]
        for statement in props["PolicyDocument"]["Statement"]:
            if table_marker in json.dumps(statement.get("Resource")):
                for role in props.get("Roles", []):
                    found.setdefault(role["Ref"], []).append(statement)
    return found


def test_the_schedules_have_their_own_table_keyed_by_schedule_and_item(dev: Synth) -> None:
    (table,) = [t for k, t in dev.resources("AWS::DynamoDB::Table").items() if k.startswith("StorageSchedules")]
    keys = {k["AttributeName"]: k["KeyType"] for k in table["Properties"]["KeySchema"]}
    assert keys == {"schedule_id": "HASH", "sk": "RANGE"}
    assert "TimeToLiveSpecification" not in table["Properties"]  # overrides stay on record
    selection = json.dumps(dev.resources("AWS::Backup::BackupSelection"))
    assert "StorageSchedules" in selection


def test_only_the_admin_function_uses_the_schedules_table_and_only_as_it_needs(dev: Synth) -> None:
    # Given the roles whose policies name the schedules table
    users = _statements_on(dev, "StorageSchedules")
    # Then only the contacts function's, with exactly its reads and writes (no Scan, no batch, no table admin)
    assert set(users) == {_role_of(dev, names.CONTACTS_HANDLER)}
    (statement,) = next(iter(users.values()))
    assert statement["Effect"] == "Allow"
    assert sorted(statement["Action"]) == [
        "dynamodb:ConditionCheckItem",
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
    ]
    contacts = next(
        f["Properties"]
        for f in dev.resources("AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == names.CONTACTS_HANDLER
    )
    assert "StorageSchedules" in json.dumps(contacts["Environment"]["Variables"][names.ENV_SCHEDULES_TABLE])


def test_clarions_layer_ships_the_time_zone_database() -> None:
    staged = stage_dependency_layer() / "python"
    assert (staged / "tzdata" / "zoneinfo" / "Europe" / "London").is_file()
    assert (staged / "tzdata" / "zones").is_file()  # the names the API accepts (handlers/schedule_models.py)
    assert (staged / "phonenumbers").is_dir()
