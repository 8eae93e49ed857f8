"""Runtime settings read from the environment the stack sets (names in `clarion.names`)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cache

from clarion import names


class ConfigurationError(RuntimeError):
    """A required environment variable is missing or malformed."""


def required(value: str, name: str) -> str:
    """Return `value`, or fail with the name of the variable the stack should have set."""
    if not value:
        raise ConfigurationError(f"environment variable {name} is not set")
    return value


@dataclass(frozen=True)
class Settings:
    contacts_table: str
    clients_table: str
    idempotency_table: str
    delivery_table: str
    alert_queue_url: str
    events_topic_arn: str
    sender_email: str
    ses_configuration_set: str | None
    email_templates: dict[str, str]
    sms_sender_id: str | None
    sms_type: str
    sms_max_price: str | None
    call_enabled: bool
    connect_instance_id: str | None
    connect_flow_id: str | None
    connect_source_phone: str | None
    dialer_function: str | None
    delivery_retention_days: int
    max_attempts_per_channel: int
    policies_table: str = ""
    audit_table: str = ""
    schedules_table: str = ""
    timer_queue_url: str = ""
    ack_policy: dict[str, dict[str, int]] = field(default_factory=dict)
    link_base_url: str = ""
    link_key_id: str = ""
    link_expiry_s: int = 86_400
    sms_detail: str = "description"
    notify_on_ack: bool = True
    receipts_queue_url: str = ""
    receipt_timeouts: dict[str, int] = field(default_factory=dict)  # channel -> seconds; absent: no receipts
    sms_origination: str = ""  # End User Messaging identity: two-way SMS; empty: one-way through SNS
    sms_configuration_set: str = ""
    sms_bare_ack: bool = False  # a reply without the code answers the number's only open alert
    usage_keys: dict[str, str] = field(default_factory=dict)  # tier -> the key its clients without their own share
    usage_tier_default: str = ""
    dead_letter_sources: dict[str, str] = field(default_factory=dict)  # dead-letter queue ARN -> what it holds

    def ack_window_s(self, priority: str) -> int | None:
        """How long the addressee has to acknowledge an alert of `priority`; None: it needs no acknowledgement."""
        entry = self.ack_policy.get(priority)
        return int(entry["window_s"]) if entry else None

    def ack_target_s(self, priority: str) -> int | None:
        entry = self.ack_policy.get(priority)
        return int(entry["target_s"]) if entry else None


@cache
def settings() -> Settings:
    env = os.environ.get
    return Settings(
        contacts_table=env(names.ENV_CONTACTS_TABLE, ""),
        clients_table=env(names.ENV_CLIENTS_TABLE, ""),
        idempotency_table=env(names.ENV_IDEMPOTENCY_TABLE, ""),
        delivery_table=env(names.ENV_DELIVERY_TABLE, ""),
        alert_queue_url=env(names.ENV_ALERT_QUEUE_URL, ""),
        events_topic_arn=env(names.ENV_EVENTS_TOPIC_ARN, ""),
        sender_email=env(names.ENV_SENDER_EMAIL, ""),
        ses_configuration_set=env(names.ENV_SES_CONFIGURATION_SET) or None,
        email_templates=json.loads(env(names.ENV_EMAIL_TEMPLATES) or "{}"),
        sms_sender_id=env(names.ENV_SMS_SENDER_ID) or None,
        sms_type=env(names.ENV_SMS_TYPE) or "Transactional",
        sms_max_price=env(names.ENV_SMS_MAX_PRICE) or None,
        call_enabled=env(names.ENV_CALL_ENABLED, "false").lower() == "true",
        connect_instance_id=env(names.ENV_CONNECT_INSTANCE_ID) or None,
        connect_flow_id=env(names.ENV_CONNECT_FLOW_ID) or None,
        connect_source_phone=env(names.ENV_CONNECT_SOURCE_PHONE) or None,
        dialer_function=env(names.ENV_DIALER_FUNCTION) or None,
        delivery_retention_days=int(env(names.ENV_DELIVERY_RETENTION_DAYS) or "90"),
        max_attempts_per_channel=int(env(names.ENV_MAX_ATTEMPTS_PER_CHANNEL) or "3"),
        policies_table=env(names.ENV_POLICIES_TABLE, ""),
        audit_table=env(names.ENV_AUDIT_TABLE, ""),
        schedules_table=env(names.ENV_SCHEDULES_TABLE, ""),
        timer_queue_url=env(names.ENV_TIMER_QUEUE_URL, ""),
        ack_policy=json.loads(env(names.ENV_ACK_POLICY) or "{}"),
        link_base_url=env(names.ENV_LINK_BASE_URL, "").rstrip("/"),
        link_key_id=env(names.ENV_LINK_KEY_ID, ""),
        link_expiry_s=int(env(names.ENV_LINK_EXPIRY_S) or "86400"),
        sms_detail=env(names.ENV_SMS_DETAIL) or "description",
        notify_on_ack=(env(names.ENV_NOTIFY_ON_ACK) or "true").lower() == "true",
        receipts_queue_url=env(names.ENV_RECEIPTS_QUEUE_URL, ""),
        sms_origination=env(names.ENV_SMS_ORIGINATION, ""),
        sms_configuration_set=env(names.ENV_SMS_CONFIGURATION_SET, ""),
        sms_bare_ack=(env(names.ENV_SMS_BARE_ACK) or "false").lower() == "true",
        usage_keys=json.loads(env(names.ENV_USAGE_KEYS) or "{}"),
        usage_tier_default=env(names.ENV_USAGE_TIER_DEFAULT, ""),
        dead_letter_sources=json.loads(env(names.ENV_DEAD_LETTER_SOURCES) or "{}"),
        receipt_timeouts={k: int(v) for k, v in json.loads(env(names.ENV_RECEIPT_TIMEOUTS) or "{}").items() if v},
    )
