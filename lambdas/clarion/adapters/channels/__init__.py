"""Delivery channels. A new channel is one module implementing `ChannelAdapter` and one line in `ADAPTERS`."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from clarion.adapters.channels.base import ChannelAdapter, Delivery, SendError, to_send_error
from clarion.adapters.channels.call import CallAdapter
from clarion.adapters.channels.email import EmailAdapter
from clarion.adapters.channels.sms import SmsAdapter
from clarion.domain import routing
from clarion.domain.models import Alert, Channel, Contact

ADAPTERS: dict[Channel, ChannelAdapter] = {
    adapter.channel: adapter for adapter in (CallAdapter(), SmsAdapter(), EmailAdapter())
}

__all__ = ["ADAPTERS", "ChannelAdapter", "Delivery", "SendError", "send"]


def send(
    channel: Channel,
    alert: Alert,
    contact: Contact,
    attempt: int,
    link: str | None = None,
    reply_code: str | None = None,
) -> str:
    """Send `alert` to `contact` on `channel` (with its acknowledgement `link` and SMS `reply_code`, if any);
    return the provider's id or raise `SendError`."""
    destination = contact.destination(channel)
    if not destination:
        raise SendError(retryable=False, code=routing.NO_DESTINATION, detail=f"contact has no {channel.value} address")
    adapter = ADAPTERS.get(channel)
    if adapter is None:
        raise SendError(retryable=False, code="ChannelNotAvailable", detail=channel.value)
    try:
        delivery = Delivery(alert=alert, attempt=attempt, destination=destination, link=link, reply_code=reply_code)
        return adapter.send(delivery)
    except (ClientError, BotoCoreError) as error:
        raise to_send_error(channel, error) from error
