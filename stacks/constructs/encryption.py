"""The customer-managed key for every table, queue, topic and log group holding alert data, and the HMAC key that
signs acknowledgement links."""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.compliance import acknowledge


class Encryption(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, retain: bool) -> None:
        super().__init__(scope, construct_id)
        # No alias: a fixed alias collides on a second deployment in the same account.
        self.key = kms.Key(
            self,
            "Key",
            description="Clarion: encrypts alert data at rest (tables, queues, topics, logs)",
            enable_key_rotation=True,
            rotation_period=Duration.days(365),
            pending_window=Duration.days(30),
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )
        crypto = ["kms:Decrypt", "kms:GenerateDataKey*"]
        logs_arn = f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:*"
        same_account = {"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogs",
                principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
                actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                resources=["*"],
                conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": logs_arn}},
            )
        )
        # Services that encrypt or decrypt on this account's behalf: alarms, and the providers' delivery receipts
        # (SES, End User Messaging SMS, Connect's events through EventBridge) reaching the encrypted topic and queue;
        # SNS and SQS themselves.
        for sid, services in (
            ("AllowCloudWatchAlarmsToNotifyEncryptedTopics", ["cloudwatch.amazonaws.com"]),
            (
                "AllowReceiptsToEncryptedTopicAndQueue",
                ["ses.amazonaws.com", "sms-voice.amazonaws.com", "events.amazonaws.com"],
            ),
            ("AllowSnsAndSqsServiceUse", ["sns.amazonaws.com", "sqs.amazonaws.com"]),
        ):
            self.key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=sid,
                    principals=[iam.ServicePrincipal(s) for s in services],
                    actions=crypto,
                    resources=["*"],
                    conditions=same_account,
                )
            )
        # Signs acknowledgement links (GenerateMac): the key material never leaves KMS.
        self.link_key = kms.Key(
            self,
            "LinkKey",
            description="Clarion: signs acknowledgement links (HMAC-SHA-256)",
            key_spec=kms.KeySpec.HMAC_256,
            key_usage=kms.KeyUsage.GENERATE_VERIFY_MAC,
            pending_window=Duration.days(7),
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )
        acknowledge(
            self.link_key,
            "AwsSolutions-KMS5",
            "KMS rotates symmetric encryption keys only; an HMAC key cannot rotate. Links live 24 hours by default, "
            "so replacing this key (a new stack deployment) invalidates old links without harm.",
        )
