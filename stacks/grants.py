"""The statements the function entries of `stacks/functions_table.py` grant: exact actions on exact resources, no
wildcards, no indexes the code does not query."""

from __future__ import annotations

from aws_cdk import Aws
from aws_cdk import aws_iam as iam

from stacks.wiring import Wiring

GET = ["dynamodb:GetItem"]
DELIVERY_LOG_ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"]
IDEMPOTENCY_ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
KEY_ACTIONS = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
SEND, PUBLISH = ["sqs:SendMessage"], ["sns:Publish"]


def allow(actions: list[str], *resources: str) -> iam.PolicyStatement:
    return iam.PolicyStatement(actions=actions, resources=list(resources))


def use_key(w: Wiring) -> iam.PolicyStatement:
    return allow(KEY_ACTIONS, w.data.key.key_arn)


def direct_sms() -> iam.PolicyStatement:
    # SMS to a phone number has no resource ARN; NotResource on every topic ARN of every account limits this
    # statement to direct SMS, so it cannot publish to any topic (the events topic is granted on its own).
    return iam.PolicyStatement(actions=PUBLISH, not_resources=[f"arn:{Aws.PARTITION}:sns:*:*:*"])


def send_email(w: Wiring) -> iam.PolicyStatement:
    ses_arn = f"arn:{Aws.PARTITION}:ses:{Aws.REGION}:{Aws.ACCOUNT_ID}"
    sender = w.s.sender_email
    return allow(
        ["ses:SendTemplatedEmail"],
        f"{ses_arn}:identity/{sender}",
        f"{ses_arn}:identity/{sender.split('@', 1)[1]}",
        f"{ses_arn}:configuration-set/{w.email.configuration_set.configuration_set_name}",
        *(f"{ses_arn}:template/{name}" for name in w.email.template_names.values()),
    )
