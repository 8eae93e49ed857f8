"""What the emulator's CloudFormation cannot create, made through the services' own APIs against the emulator:
topic subscriptions, SES templates and configuration sets, and custom resources' SDK calls (`Custom::AWS`).
`clarion_local.stack` calls `bridge_removed` after each stack is created."""

from __future__ import annotations

import json
from typing import Any

from botocore import xform_name

from clarion_local.template import Removed


def _physical(session: Any, stack: str, node: Any) -> str:
    """What a `Ref` or an `Fn::GetAtt ... Arn` of a queue or topic in `stack` resolves to in the emulator."""
    resources = session.client("cloudformation").describe_stack_resources(StackName=stack)["StackResources"]
    by_id = {r["LogicalResourceId"]: r for r in resources}
    if isinstance(node, str):
        return node
    if "Ref" in node:
        return str(by_id[node["Ref"]]["PhysicalResourceId"])
    target, attr = node["Fn::GetAtt"]
    resource = by_id[target]
    if resource["ResourceType"] == "AWS::SQS::Queue" and attr == "Arn":
        url = resource["PhysicalResourceId"]
        attrs = session.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return str(attrs["Attributes"]["QueueArn"])
    raise ValueError(f"cannot resolve {node} for a subscription")


def value_of(session: Any, stack: str, node: Any) -> Any:
    """A template value with its intrinsics resolved in the emulator: pseudo parameters, `Fn::Join`, and `Ref` or
    `Fn::GetAtt ... Arn` of the stack's queues, topics, log groups and roles."""
    if isinstance(node, list):
        return [value_of(session, stack, n) for n in node]
    if not isinstance(node, dict):
        return node
    if "Fn::Join" in node:
        separator, parts = node["Fn::Join"]
        return separator.join(str(value_of(session, stack, p)) for p in parts)
    if "Ref" in node and str(node["Ref"]).startswith("AWS::"):
        identity = session.client("sts").get_caller_identity()
        return {"AWS::Partition": "aws", "AWS::Region": session.region_name, "AWS::AccountId": identity["Account"]}[
            node["Ref"]
        ]
    if "Fn::GetAtt" in node:
        target, attr = node["Fn::GetAtt"]
        resources = session.client("cloudformation").describe_stack_resources(StackName=stack)["StackResources"]
        resource = next(r for r in resources if r["LogicalResourceId"] == target)
        if resource["ResourceType"] == "AWS::IAM::Role" and attr == "Arn":
            return session.client("iam").get_role(RoleName=resource["PhysicalResourceId"])["Role"]["Arn"]
    if "Ref" in node or "Fn::GetAtt" in node:
        return _physical(session, stack, node)
    return {k: value_of(session, stack, v) for k, v in node.items()}


def _sdk_call(session: Any, stack: str, properties: dict[str, Any]) -> None:
    """What an `AwsCustomResource` does on create: one SDK call (JavaScript's names: SNS, setSMSAttributes)."""
    call = json.loads(value_of(session, stack, properties["Create"]))
    client = session.client(call["service"].lower())
    wanted = str(call["action"]).lower()
    operation = next(o for o in client.meta.service_model.operation_names if o.lower() == wanted)
    getattr(client, xform_name(operation))(**call.get("parameters", {}))


def bridge_removed(session: Any, removed: list[Removed], stack: str = "") -> None:
    ses = session.client("ses")
    for gone in removed:
        if gone.type == "Custom::AWS":
            _sdk_call(session, stack, gone.properties)
        if gone.type == "AWS::SNS::Subscription":
            props = gone.properties
            session.client("sns").subscribe(
                TopicArn=_physical(session, stack, props["TopicArn"]),
                Protocol=props["Protocol"],
                Endpoint=_physical(session, stack, props["Endpoint"]),
                Attributes={"RawMessageDelivery": "true" if props.get("RawMessageDelivery") else "false"},
            )
        if gone.type == "AWS::SES::Template":
            template = gone.properties["Template"]
            ses.create_template(
                Template={
                    "TemplateName": gone.ref,
                    "SubjectPart": template.get("SubjectPart", ""),
                    "TextPart": template.get("TextPart", ""),
                    "HtmlPart": template.get("HtmlPart", ""),
                }
            )
        elif gone.type == "AWS::SES::ConfigurationSet":
            ses.create_configuration_set(ConfigurationSet={"Name": gone.ref})
