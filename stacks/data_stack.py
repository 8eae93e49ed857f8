"""Stateful half: the key, tables, queues, topics, network and voice. Deploy once, keep."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.config import LOG_RETENTION_NAMES, Settings
from stacks.constructs.encryption import Encryption
from stacks.constructs.messaging import Messaging
from stacks.constructs.network import Network
from stacks.constructs.receipts import Receipts
from stacks.constructs.sms import TwoWaySms
from stacks.constructs.storage import Storage
from stacks.constructs.timers import Timers
from stacks.constructs.voice import Voice


class DataStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        s = settings
        self.settings = s
        self.log_retention = getattr(logs.RetentionDays, LOG_RETENTION_NAMES[s.log_retention_days])
        # SNS's SMS delivery status holds destination numbers: kept as long as the delivery log, not longer
        # (the longest period CloudWatch Logs accepts that is not past it).
        status_days = max(d for d in LOG_RETENTION_NAMES if d <= s.delivery_log_retention_days)
        self.delivery_status_retention = getattr(logs.RetentionDays, LOG_RETENTION_NAMES[status_days])
        encryption = Encryption(self, "Encryption", retain=s.retain_data)
        self.key = encryption.key
        self.link_key = encryption.link_key
        self.storage = Storage(self, "Storage", key=self.key, retain=s.retain_data)
        self.network = (
            Network(self, "Network", key=self.key, log_retention=self.log_retention, two_way_sms=s.sms_two_way)
            if s.private_networking
            else None
        )
        self.messaging = Messaging(
            self,
            "Messaging",
            key=self.key,
            alarm_email=s.alarm_email,
            source_vpce_ids=[self.network.sns_endpoint_id] if self.network else [],
        )
        self.timers = Timers(self, "Timers", key=self.key)
        self.voice = (
            Voice(
                self,
                "Voice",
                mode=s.connect_mode,
                instance_id=s.connect_instance_id,
                phone_number=s.connect_flow_phone_number,
                country_code=s.connect_country_code,
                alias=f"clarion-{s.env_name}-{self.node.addr[-8:]}",
            )
            if s.call_enabled
            else None
        )
        self.receipts = Receipts(
            self,
            "Receipts",
            key=self.key,
            source_vpce_ids=[self.network.sns_endpoint_id] if self.network else [],
            connect_instance_arn=self.voice.instance_arn if self.voice else None,
        )
        self.sms = (
            TwoWaySms(
                self,
                "Sms",
                key=self.key,
                origination=s.sms_origination,
                country=s.sms_number_country,
                number_type=s.sms_number_type,
                receipts_topic=self.receipts.topic,
                source_vpce_ids=[self.network.sns_endpoint_id] if self.network else [],
            )
            if s.sms_two_way
            else None
        )

        outputs = {
            "ContactsTable": self.storage.contacts.table_name,
            "PoliciesTable": self.storage.policies.table_name,
            "SchedulesTable": self.storage.schedules.table_name,
            "AuditTable": self.storage.audit.table_name,
            "TimerQueueUrl": self.timers.queue.queue_url,
            "TimerDeadLetterQueueUrl": self.timers.dead_letters.queue_url,
            "ClientsTable": self.storage.clients.table_name,
            "IdempotencyTable": self.storage.idempotency.table_name,
            "DeliveryLogTable": self.storage.delivery_log.table_name,
            "AlertQueueUrl": self.messaging.alerts.queue_url,
            "DeadLetterQueueUrl": self.messaging.dead_letters.queue_url,
            "AlertEventsTopicArn": self.messaging.events.topic_arn,
            "OnCallTopicArn": self.messaging.on_call.topic_arn,
            "ReceiptsTopicArn": self.receipts.topic.topic_arn,
            "ReceiptsQueueUrl": self.receipts.queue.queue_url,
            "ReceiptDeadLetterQueueUrl": self.receipts.dead_letters.queue_url,
        }
        if self.sms is not None:
            outputs["InboundSmsTopicArn"] = self.sms.inbound.topic_arn
            outputs["RepliesQueueUrl"] = self.sms.replies.queue_url
            outputs["ReplyDeadLetterQueueUrl"] = self.sms.replies_dead_letters.queue_url
            outputs["SmsOriginationIdentity"] = self.sms.identity
        for name, value in outputs.items():
            CfnOutput(self, name, value=value)
