"""The alert queue (with its dead-letter queue) and the two topics: alert events and on-call; `work_queue` and
`encrypted_topic` for the other queues and topics."""

from __future__ import annotations

from aws_cdk import Aws, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

# The router's timeout; SQS wants the visibility timeout at six times it.
ROUTER_TIMEOUT = Duration.seconds(60)
MAX_RECEIVE_COUNT = 5


def work_queue(
    scope: Construct, name: str, dead_letters_name: str, key: kms.IKey, consumer_timeout: Duration
) -> tuple[sqs.Queue, sqs.Queue]:
    """A queue a function consumes, and its dead-letter queue: both encrypted with Clarion's key and TLS-only;
    visibility at six times the consumer's timeout (as SQS advises); dead-lettered after MAX_RECEIVE_COUNT."""
    dead_letters = sqs.Queue(
        scope,
        dead_letters_name,
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        enforce_ssl=True,
        retention_period=Duration.days(14),
    )
    queue = sqs.Queue(
        scope,
        name,
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        data_key_reuse=Duration.minutes(5),
        enforce_ssl=True,
        visibility_timeout=Duration.seconds(consumer_timeout.to_seconds() * 6),
        retention_period=Duration.days(4),
        dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=MAX_RECEIVE_COUNT),
    )
    return queue, dead_letters


class Messaging(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        alarm_email: str,
        source_vpce_ids: list[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.alerts, self.dead_letters = work_queue(self, "Alerts", "AlertDeadLetters", key, ROUTER_TIMEOUT)
        self.events = encrypted_topic(self, "AlertEvents", "Clarion alert events", key, source_vpce_ids)
        self.on_call = encrypted_topic(self, "OnCall", "Clarion on-call alarms", key, source_vpce_ids)
        if alarm_email:
            self.on_call.add_subscription(subs.EmailSubscription(alarm_email))


def encrypted_topic(scope: Construct, name: str, display: str, key: kms.IKey, source_vpce_ids: list[str]) -> sns.Topic:
    """A topic encrypted with Clarion's key, TLS-only, that no other account (and, with private networking, nothing
    outside the VPC endpoint but an AWS service) may publish to."""
    topic = sns.Topic(scope, name, display_name=display, master_key=key, enforce_ssl=True)
    not_a_service = {"Bool": {"aws:PrincipalIsAWSService": "false"}}
    topic.add_to_resource_policy(
        iam.PolicyStatement(
            sid="DenyPublishFromOtherAccounts",
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
            conditions={"StringNotEquals": {"aws:PrincipalAccount": Aws.ACCOUNT_ID}, **not_a_service},
        )
    )
    if source_vpce_ids:
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="DenyPublishOutsideTheVpcEndpoint",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions={"StringNotEquals": {"aws:SourceVpce": source_vpce_ids}, **not_a_service},
            )
        )
    return topic


def subscribe_queue(scope: Construct, name: str, topic: sns.ITopic, queue: sqs.IQueue) -> None:
    """`queue` receives `topic`'s messages raw, and only that topic may send to it. Not `SqsSubscription`: it would
    also grant sns.amazonaws.com Clarion's key with no condition; the key policy's own statement (aws:SourceAccount)
    already lets SNS encrypt for the queue."""
    sns.Subscription(
        scope,
        name,
        topic=topic,
        endpoint=queue.queue_arn,
        protocol=sns.SubscriptionProtocol.SQS,
        raw_message_delivery=True,
    )
    queue.add_to_resource_policy(
        iam.PolicyStatement(
            sid=f"Allow{name}",
            principals=[iam.ServicePrincipal("sns.amazonaws.com")],
            actions=["sqs:SendMessage"],
            resources=[queue.queue_arn],
            conditions={"ArnEquals": {"aws:SourceArn": topic.topic_arn}},
        )
    )
