"""SMS: AWS End User Messaging SMS `SendTextMessage` from the two-way origination identity when the deployment has
one (replies acknowledge, its events are receipts); otherwise Amazon SNS `Publish` to a phone number (one-way)."""

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


def two_way() -> bool:
    return bool(settings().sms_origination)


def _send(destination: str, text: str, receipts: bool) -> str:
    config = settings()
    if not config.sms_origination:
        sns = clients.send_client("sns")
        response = sns.publish(PhoneNumber=destination, Message=text, MessageAttributes=_attributes())
        return str(response["MessageId"])
    request: dict[str, Any] = {
        "DestinationPhoneNumber": destination,
        "OriginationIdentity": config.sms_origination,
        "MessageBody": text,
        "MessageType": "TRANSACTIONAL" if config.sms_type == "Transactional" else "PROMOTIONAL",
    }
    if config.sms_max_price:
        request["MaxPrice"] = config.sms_max_price
    if receipts and config.sms_configuration_set:
        request["ConfigurationSetName"] = config.sms_configuration_set  # its event destination: the receipts
    response = clients.send_client("pinpoint-sms-voice-v2").send_text_message(**request)
    return str(response["MessageId"])


class SmsAdapter:
    channel = Channel.SMS

    def send(self, delivery: Delivery) -> str:
        text = messages.sms_text(delivery.alert, delivery.link, settings().sms_detail, delivery.reply_code)
        return _send(delivery.destination, text, receipts=True)


def send_text(destination: str, text: str) -> str:
    """A plain SMS that is no alert (a notice that an alert was taken, an answer to a reply); the provider's
    message id. Sent without the configuration set: nothing waits for its receipt."""
    return _send(destination, text, receipts=False)


OPTED_OUT = "DESTINATION_PHONE_NUMBER_OPTED_OUT"  # End User Messaging's ConflictException reason


def opted_out(error: Exception) -> bool:
    """Whether `error` is End User Messaging refusing a send because the destination opted out (replied STOP)."""
    response = getattr(error, "response", None)
    return isinstance(response, dict) and response.get("Reason") == OPTED_OUT
