"""Adapt a synthesized template to what the AWS emulator (moto) can create.

Resource types the emulator does not implement (Amazon Connect, End User Messaging SMS, SES templates and
configuration sets, WAF, alarms, backup, queue and topic policies, topic subscriptions, log subscription filters,
custom resources) are taken out of the template, and every `Ref`, `Fn::GetAtt` or
`Fn::Sub` reference to them is replaced by a stand-in value of the same shape (an id, an ARN, a phone number).
Two emulator bugs are worked around in the resources that stay: KMS key tags, MOCK integrations.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

STAND_IN_PHONE = "+12025550100"  # a fictional number (555-01xx), standing in for Connect's claimed number
STAND_IN_SMS_PHONE = "+12025550142"  # and for End User Messaging's requested SMS number
_NAMESPACE = uuid.UUID("6f1f3f9e-3c2b-4c43-9a8e-0c1a2c1e5a11")


@dataclass(frozen=True)
class Removed:
    """A resource taken out of the template; `ref` and `attrs` are what stands in for it."""

    logical_id: str
    type: str
    properties: dict[str, Any]
    ref: str
    attrs: dict[str, str]


@dataclass
class Adapted:
    template: dict[str, Any]
    removed: list[Removed] = field(default_factory=list)


def stand_in(stack: str, logical_id: str, rtype: str, region: str, account: str) -> tuple[str, dict[str, str]]:
    """What `Ref` and `Fn::GetAtt` of a removed resource resolve to."""
    ident = str(uuid.uuid5(_NAMESPACE, f"{stack}/{logical_id}"))
    service = rtype.split("::")[1].lower()
    arn = f"arn:aws:{service}:{region}:{account}:{logical_id.lower()}/{ident}"
    if rtype == "AWS::Connect::Instance":
        arn = f"arn:aws:connect:{region}:{account}:instance/{ident}"
        return arn, {"Arn": arn, "Id": ident}
    if rtype == "AWS::Connect::ContactFlow":
        arn = f"arn:aws:connect:{region}:{account}:instance/{ident}/contact-flow/{ident}"
        return arn, {"ContactFlowArn": arn}
    if rtype == "AWS::Connect::PhoneNumber":
        arn = f"arn:aws:connect:{region}:{account}:phone-number/{ident}"
        return arn, {"PhoneNumberArn": arn, "Address": STAND_IN_PHONE}
    if rtype == "AWS::SMSVOICE::PhoneNumber":
        number_id = f"phone-{ident.replace('-', '')}"
        arn = f"arn:aws:sms-voice:{region}:{account}:phone-number/{number_id}"
        return number_id, {"Arn": arn, "PhoneNumberId": number_id, "PhoneNumber": STAND_IN_SMS_PHONE}
    if rtype == "AWS::SMSVOICE::ConfigurationSet":
        name = f"{stack}-{logical_id}"[:64]
        return name, {"Arn": f"arn:aws:sms-voice:{region}:{account}:configuration-set/{name}"}
    if rtype in ("AWS::SES::Template", "AWS::SES::ConfigurationSet"):
        name = f"{stack}-{logical_id}"[:64]
        return name, {}
    return ident, {"Arn": arn}


def _kms_key_tags(properties: dict[str, Any]) -> None:
    # moto's CloudFormation hands a key's `Key`/`Value` tags to KMS, which expects `TagKey`/`TagValue`.
    properties["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in properties.get("Tags", [])]


def _mock_integration(properties: dict[str, Any]) -> None:
    # moto's CloudFormation reads an integration's `IntegrationHttpMethod` and `Uri`, which a MOCK has not.
    integration = properties.get("Integration", {})
    if integration.get("Type") == "MOCK":
        integration.setdefault("IntegrationHttpMethod", properties.get("HttpMethod", "ANY"))
        integration.setdefault("Uri", "")


_FIXUPS: dict[str, Callable[[dict[str, Any]], None]] = {
    "AWS::KMS::Key": _kms_key_tags,
    "AWS::ApiGateway::Method": _mock_integration,
}


def adapt(template: dict[str, Any], stack: str, supported: Callable[[str], bool], region: str, account: str) -> Adapted:
    """Take out the resources the emulator cannot create and resolve references to them (`template` is kept)."""
    template = copy.deepcopy(template)
    resources = template.get("Resources", {})
    removed = []
    for logical_id, resource in list(resources.items()):
        if supported(resource["Type"]):
            continue
        ref, attrs = stand_in(stack, logical_id, resource["Type"], region, account)
        removed.append(Removed(logical_id, resource["Type"], resource.get("Properties", {}), ref, attrs))
        del resources[logical_id]
    for resource in resources.values():
        fixup = _FIXUPS.get(resource["Type"])
        if fixup is not None:
            fixup(resource.get("Properties", {}))
    by_id = {r.logical_id: r for r in removed}
    adapted = _resolve(template, by_id)
    for resource in adapted.get("Resources", {}).values():
        depends = resource.get("DependsOn")
        if isinstance(depends, str):
            depends = [depends]
        if depends is not None:
            kept = [d for d in depends if d not in by_id]
            resource["DependsOn"] = kept
            if not kept:
                del resource["DependsOn"]
    return Adapted(adapted, removed)


def _resolve(node: Any, removed: dict[str, Removed]) -> Any:
    if isinstance(node, list):
        return [_resolve(n, removed) for n in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        ((key, value),) = node.items()
        if key == "Ref" and value in removed:
            return removed[value].ref
        if key == "Fn::GetAtt":
            target, attr = value.split(".", 1) if isinstance(value, str) else value
            if target in removed:
                gone = removed[target]
                if attr not in gone.attrs:
                    raise ValueError(f"no stand-in for {gone.type} attribute {attr} ({target})")
                return gone.attrs[attr]
        if key == "Fn::Sub" and isinstance(value, str):
            return {key: _substitute(value, removed)}
        if key == "Fn::Sub" and isinstance(value, list):
            return {key: [_substitute(value[0], removed), _resolve(value[1], removed)]}
    return {k: _resolve(v, removed) for k, v in node.items()}


def _substitute(text: str, removed: dict[str, Removed]) -> str:
    def repl(match: re.Match[str]) -> str:
        name, _, attr = match.group(1).partition(".")
        if name not in removed:
            return match.group(0)
        gone = removed[name]
        return gone.attrs[attr] if attr else gone.ref

    return re.sub(r"\$\{([A-Za-z0-9.]+)\}", repl, text)


def moto_supports(rtype: str) -> bool:
    """True when moto's CloudFormation implements `rtype` (it silently skips the rest). Custom resources are not
    left to it: it would run their functions in Docker; `clarion_local.stack` makes their SDK calls instead."""
    from moto.cloudformation.parsing import get_model_map

    return rtype in get_model_map()
