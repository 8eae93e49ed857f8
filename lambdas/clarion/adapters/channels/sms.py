"""SMS: Amazon SNS `Publish` to a phone number."""

from __future__ import annotations

from typing import Any

from clarion.adapters.channels.base import Delivery
from clarion.domain import messages
from clarion.domain.models import Channel
from clarion.shared import clients
from clarion.shared.settings import settings


def _attributes() -> dict[str, dict[str, Any]]:
    config = settings()
    attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": config.sms_type}}
    if config.sms_sender_id:
        attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": config.sms_sender_id}
    if config.sms_max_price:
        attributes["AWS.SNS.SMS.MaxPrice"] = {"DataType": "Number", "StringValue": config.sms_max_price}
    return attributes


class SmsAdapter:
    channel = Channel.SMS

    def send(self, delivery: Delivery) -> str:
        response = clients.client("sns").publish(
            PhoneNumber=delivery.destination,
            Message=messages.sms_text(delivery.alert, delivery.link, settings().sms_detail),
            MessageAttributes=_attributes(),
        )
        return str(response["MessageId"])


def send_text(destination: str, text: str) -> str:
    """A plain SMS that is no alert (a notice that an alert was taken); the provider's message id."""
    response = clients.client("sns").publish(PhoneNumber=destination, Message=text, MessageAttributes=_attributes())
    return str(response["MessageId"])
