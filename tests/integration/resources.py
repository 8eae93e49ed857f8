"""Creates Clarion's resources in moto and returns the environment the stack would set.

TEMPORARY hand-written definitions; replaced by definitions read from the synthesized template.
"""

from __future__ import annotations

import json
from typing import Any

import boto3

from clarion import names

TEMPLATE_KINDS = ("generic", "critical_result", "appointment_reminder")


def _table(name: str, keys: list[tuple[str, str]], gsis: list[dict[str, Any]] | None = None) -> str:
    ddb = boto3.client("dynamodb")
    attrs = {k for k, _ in keys}
    for g in gsis or []:
        attrs.update(k["AttributeName"] for k in g["KeySchema"])
    kwargs: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": k, "KeyType": t} for k, t in keys],
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in sorted(attrs)],
    }
    if gsis:
        kwargs["GlobalSecondaryIndexes"] = gsis
    ddb.create_table(**kwargs)
    return name


def create_all(sender: str) -> tuple[dict[str, str], str, str]:
    sqs = boto3.client("sqs")
    sns = boto3.client("sns")
    ses = boto3.client("ses")
    dlq_url = sqs.create_queue(QueueName="clarion-alerts-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(
        QueueName="clarion-alerts",
        Attributes={
            "VisibilityTimeout": "360",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"}),
        },
    )["QueueUrl"]
    topic_arn = sns.create_topic(Name="clarion-alert-events")["TopicArn"]
    events_q = sqs.create_queue(QueueName="clarion-events-capture")["QueueUrl"]
    events_q_arn = sqs.get_queue_attributes(QueueUrl=events_q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=events_q_arn)
    ses.verify_email_identity(EmailAddress=sender)
    templates = {}
    for kind in TEMPLATE_KINDS:
        name = f"clarion-{kind}"
        ses.create_template(
            Template={
                "TemplateName": name,
                "SubjectPart": "{{subject}}",
                "TextPart": "{{body}}",
                "HtmlPart": "<p>{{body}}</p>",
            }
        )
        templates[kind] = name
    env = {
        names.ENV_CONTACTS_TABLE: _table("clarion-contacts", [("contact_id", "HASH")]),
        names.ENV_CLIENTS_TABLE: _table("clarion-clients", [("client_id", "HASH")]),
        names.ENV_IDEMPOTENCY_TABLE: _table("clarion-idempotency", [("id", "HASH")]),
        names.ENV_DELIVERY_TABLE: _table(
            "clarion-delivery",
            [("pk", "HASH"), ("sk", "RANGE")],
            [
                {
                    "IndexName": "by-contact",
                    "KeySchema": [
                        {"AttributeName": "contact_id", "KeyType": "HASH"},
                        {"AttributeName": "at", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        ),
        names.ENV_ALERT_QUEUE_URL: queue_url,
        names.ENV_EVENTS_TOPIC_ARN: topic_arn,
        names.ENV_SENDER_EMAIL: sender,
        names.ENV_SES_CONFIGURATION_SET: "",
        names.ENV_EMAIL_TEMPLATES: json.dumps(templates),
        names.ENV_SMS_SENDER_ID: "CLARION",
        names.ENV_SMS_TYPE: "Transactional",
        names.ENV_SMS_MAX_PRICE: "0.50",
        names.ENV_CALL_ENABLED: "true",
        names.ENV_CONNECT_INSTANCE_ID: "11111111-2222-3333-4444-555555555555",
        names.ENV_CONNECT_FLOW_ID: "66666666-7777-8888-9999-000000000000",
        names.ENV_CONNECT_SOURCE_PHONE: "+442071838750",
        names.ENV_DELIVERY_RETENTION_DAYS: "90",
        names.ENV_MAX_ATTEMPTS_PER_CHANNEL: "3",
    }
    return env, events_q, dlq_url
