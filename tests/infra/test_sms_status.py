"""SNS's SMS delivery status, where SMS stays one-way on SNS (prod, and dev-call-off): the account setting, its two
log groups, the subscriptions and the SMS status function, each least-privileged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from clarion import names
from tests.synth import Synth, synth

GROUPS = ("DirectPublishToPhoneNumber", "DirectPublishToPhoneNumber/Failure")


def _logical_id_of(s: Synth, handler: str) -> str:
    return next(k for k, v in s.resources("AWS::Lambda::Function").items() if v["Properties"].get("Handler") == handler)


def _status_groups(s: Synth) -> dict[str, dict[str, Any]]:
    return {
        k: v
        for k, v in s.resources("AWS::Logs::LogGroup").items()
        if "DirectPublishToPhoneNumber" in json.dumps(v["Properties"].get("LogGroupName", ""))
    }


def _policy_of(s: Synth, role_id: str) -> list[dict[str, Any]]:
    policies = s.resources("AWS::IAM::ManagedPolicy")
    return [
        st
        for p in policies.values()
        if {"Ref": role_id} in p["Properties"].get("Roles", [])
        for st in p["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_the_stack_owns_both_status_groups_encrypted_with_our_key(prod: Synth) -> None:
    groups = _status_groups(prod)
    names_ = sorted(json.dumps(g["Properties"]["LogGroupName"]) for g in groups.values())
    assert len(names_) == 2
    for suffix, text in zip(sorted(GROUPS), names_, strict=True):
        assert text.endswith(f'/{suffix}"]]}}') and '"sns/"' in text and "AWS::AccountId" in text
    for group in groups.values():
        assert "KmsKeyId" in group["Properties"] and group["DeletionPolicy"] == "Retain"


def test_only_sns_of_this_account_may_write_the_status_and_only_to_those_groups(prod: Synth) -> None:
    roles = {
        k: v
        for k, v in prod.resources("AWS::IAM::Role").items()
        if "sns.amazonaws.com" in json.dumps(v["Properties"]["AssumeRolePolicyDocument"])
    }
    assert len(roles) == 1
    ((role_id, role),) = roles.items()
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    (statement,) = _policy_of(prod, role_id)
    assert all(a.startswith("logs:") for a in statement["Action"])
    resources = json.dumps(statement["Resource"])
    assert resources.count("DirectPublishToPhoneNumber") == 4 and '"*"' not in resources


def test_a_custom_resource_names_that_role_in_the_accounts_sms_attributes(prod: Synth) -> None:
    (setting,) = prod.resources("Custom::AWS").values()
    create = json.dumps(setting["Properties"]["Create"])
    assert "setSMSAttributes" in create and "DeliveryStatusIAMRole" in create
    assert '\\"DeliveryStatusSuccessSamplingRate\\":\\"100\\"' in create
    assert setting["Properties"]["InstallLatestAwsSdk"] is False  # offline: no npm install at deploy time
    setter_role = next(
        k
        for k, v in prod.resources("AWS::IAM::Role").items()
        if "Clarion: sets the account's SMS delivery-status role" in json.dumps(v["Properties"])
    )
    actions = sorted(a for st in _policy_of(prod, setter_role) for a in _as_list(st["Action"]))
    assert "sns:SetSMSAttributes" in actions and "iam:PassRole" in actions
    pass_role = next(st for st in _policy_of(prod, setter_role) if st["Action"] == "iam:PassRole")
    assert "Fn::GetAtt" in json.dumps(pass_role["Resource"])  # the delivery-status role only


def _as_list(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


def test_both_groups_feed_the_sms_status_function_which_may_only_queue_receipts(prod: Synth) -> None:
    function = _logical_id_of(prod, names.SMS_STATUS_HANDLER)
    filters = prod.resources("AWS::Logs::SubscriptionFilter").values()
    assert len(filters) == 2
    for f in filters:
        assert f["Properties"]["DestinationArn"] == {"Fn::GetAtt": [function, "Arn"]}
        assert f["Properties"]["FilterPattern"] == ""
    permissions = [
        p["Properties"]
        for p in prod.resources("AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [function, "Arn"]}
    ]
    assert len(permissions) == 2 and all(p["Principal"] == "logs.amazonaws.com" and p["SourceArn"] for p in permissions)
    props = prod.resources("AWS::Lambda::Function")[function]["Properties"]
    assert "DeadLetterConfig" in props  # invoked asynchronously: what fails every retry is kept
    role_id = props["Role"]["Fn::GetAtt"][0]
    granted = {a for st in _policy_of(prod, role_id) for a in _as_list(st["Action"])}
    assert "sqs:SendMessage" in granted
    assert not {a for a in granted if a.startswith(("dynamodb:", "sns:", "ses:", "sms-voice:"))}
    router = next(
        v["Properties"]
        for v in prod.resources("AWS::Lambda::Function").values()
        if v["Properties"].get("Handler") == names.ROUTER_HANDLER
    )
    timeouts = json.dumps(router["Environment"]["Variables"][names.ENV_RECEIPT_TIMEOUTS])
    assert '\\"sms\\":120' in timeouts


def test_existing_groups_are_subscribed_to_and_off_or_two_way_has_none(tmp_path: Path, dev: Synth) -> None:
    existing = synth({"env": "prod", "sns_sms_delivery_status": "existing"}, tmp_path / "existing")
    assert _status_groups(existing) == {} and existing.resources("Custom::AWS") == {}
    assert len(existing.resources("AWS::Logs::SubscriptionFilter")) == 2
    off = synth({"env": "prod", "sns_sms_delivery_status": "off"}, tmp_path / "off")
    assert off.resources("AWS::Logs::SubscriptionFilter") == {} and off.resources("Custom::AWS") == {}
    with pytest.raises(StopIteration):
        _logical_id_of(off, names.SMS_STATUS_HANDLER)
    for s in (dev,):  # two-way SMS: End User Messaging's own events are the receipts
        assert s.resources("Custom::AWS") == {} and s.resources("AWS::Logs::SubscriptionFilter") == {}
