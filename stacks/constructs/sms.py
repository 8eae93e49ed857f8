"""Two-way SMS through AWS End User Messaging SMS: the origination identity (a phone number the stack requests, or an
existing number or pool), a configuration set whose event destination is the receipts topic, and the inbound topic
the number's replies reach, with the queue the replies function reads.

Only End User Messaging of this account may publish to the inbound topic (`aws:SourceAccount`); a forged reply
from anyone else is refused by the topic policy. An existing identity's two-way channel is pointed at the inbound
topic by the engineer (docs/operations.md): CloudFormation cannot change a resource it did not create.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_smsvoice as smsvoice
from aws_cdk import aws_sns as sns
from constructs import Construct

from stacks.constructs.messaging import encrypted_topic, subscribe_queue, work_queue

REPLIES_TIMEOUT = Duration.seconds(30)
STOP_TEXT = "Clarion: you will get no more texts from this number. Your hospital will reach you another way."
HELP_TEXT = "Clarion clinical alerts. Reply with an alert's code to acknowledge it, NO and the code to decline."


class TwoWaySms(Construct):
    """Exposes `identity` (what SendTextMessage's OriginationIdentity takes), `identity_arn`, `configuration_set`
    (its name), `inbound` (topic) and `replies` (queue, with `replies_dead_letters`)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        origination: str,
        country: str,
        number_type: str,
        receipts_topic: sns.ITopic,
        source_vpce_ids: list[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.inbound = encrypted_topic(self, "Inbound", "Clarion inbound SMS replies", key, source_vpce_ids)
        self.inbound.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowRepliesFromThisAccountsMessagingService",
                principals=[iam.ServicePrincipal("sms-voice.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.inbound.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
        self.replies, self.replies_dead_letters = work_queue(self, "Replies", "ReplyDeadLetters", key, REPLIES_TIMEOUT)
        subscribe_queue(self, "InboundToReplies", self.inbound, self.replies)
        events = smsvoice.CfnConfigurationSet(
            self,
            "ConfigurationSet",
            event_destinations=[
                smsvoice.CfnConfigurationSet.EventDestinationProperty(
                    enabled=True,
                    event_destination_name="clarion-receipts",
                    matching_event_types=["TEXT_ALL"],
                    sns_destination=smsvoice.CfnConfigurationSet.SnsDestinationProperty(
                        topic_arn=receipts_topic.topic_arn
                    ),
                )
            ],
        )
        self.configuration_set = events.ref
        self.configuration_set_arn = events.attr_arn
        if origination == "request":
            number = smsvoice.CfnPhoneNumber(
                self,
                "PhoneNumber",
                iso_country_code=country,
                number_type=number_type,
                number_capabilities=["SMS"],
                mandatory_keywords=smsvoice.CfnPhoneNumber.MandatoryKeywordsProperty(
                    stop=smsvoice.CfnPhoneNumber.MandatoryKeywordProperty(message=STOP_TEXT),
                    help=smsvoice.CfnPhoneNumber.MandatoryKeywordProperty(message=HELP_TEXT),
                ),
                two_way=smsvoice.CfnPhoneNumber.TwoWayProperty(enabled=True, channel_arn=self.inbound.topic_arn),
            )
            self.identity = number.attr_arn
            self.identity_arn = number.attr_arn
        elif origination.startswith("arn:"):
            self.identity = self.identity_arn = origination
        else:
            kind = "pool" if origination.startswith("pool-") else "phone-number"
            self.identity = origination
            self.identity_arn = f"arn:{Aws.PARTITION}:sms-voice:{Aws.REGION}:{Aws.ACCOUNT_ID}:{kind}/{origination}"
