"""Delivery receipts: a topic the providers publish their events to (SES's configuration set; End User Messaging
SMS's event destination), Amazon Connect's contact events through an EventBridge rule, and the queue all of them
arrive on for the receipts function (which also receives, delayed, the deadline of each receipt awaited).

Only AWS services of this account may publish to the topic (`aws:SourceAccount`); anyone else is refused by
the topic policy, and the rule matches only this deployment's Connect instance.
"""

from __future__ import annotations

import jsii
from aws_cdk import Aws, Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from aws_cdk.interfaces.aws_events import IRuleRef
from constructs import Construct

from stacks.constructs.messaging import encrypted_topic, subscribe_queue, work_queue

RECEIPTS_TIMEOUT = Duration.seconds(30)
PUBLISHERS = ("ses.amazonaws.com", "sms-voice.amazonaws.com")
CALL_EVENTS = ("DISCONNECTED",)  # answered calls are settled by the keypress; the others by how they ended


class Receipts(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        source_vpce_ids: list[str],
        connect_instance_arn: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.queue, self.dead_letters = work_queue(self, "Receipts", "ReceiptDeadLetters", key, RECEIPTS_TIMEOUT)
        self.topic = encrypted_topic(self, "ReceiptsTopic", "Clarion delivery receipts", key, source_vpce_ids)
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowReceiptsFromThisAccountsMessagingServices",
                principals=[iam.ServicePrincipal(p) for p in PUBLISHERS],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
        subscribe_queue(self, "ReceiptsToQueue", self.topic, self.queue)
        if connect_instance_arn is not None:
            rule = events.Rule(
                self,
                "CallEvents",
                description="Clarion: outbound alert calls answered or ended, as delivery receipts",
                event_pattern=events.EventPattern(
                    source=["aws.connect"],
                    detail_type=["Amazon Connect Contact Event"],
                    detail={"eventType": list(CALL_EVENTS), "instanceArn": [connect_instance_arn]},
                ),
                targets=[_ToQueue(self.queue)],
            )
            self.queue.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="AllowTheCallEventsRuleOnly",
                    principals=[iam.ServicePrincipal("events.amazonaws.com")],
                    actions=["sqs:SendMessage"],
                    resources=[self.queue.queue_arn],
                    conditions={"ArnEquals": {"aws:SourceArn": rule.rule_arn}},
                )
            )


@jsii.implements(events.IRuleTarget)
class _ToQueue:
    """The receipts queue as the rule's target. Not `targets.SqsQueue`: it would also grant events.amazonaws.com
    the key without a condition; the key policy's own statement (aws:SourceAccount) already lets it encrypt."""

    def __init__(self, queue: sqs.IQueue) -> None:
        self.queue = queue

    def bind(self, rule: IRuleRef, id: str | None = None) -> events.RuleTargetConfig:
        return events.RuleTargetConfig(arn=self.queue.queue_arn)
