"""Voice: Amazon Connect `StartOutboundVoiceContact` against the alert contact flow (which asks for a keypress)."""

from __future__ import annotations

from clarion.adapters import dialer
from clarion.adapters.channels.base import Delivery, SendError, attempt_token
from clarion.domain import messages
from clarion.domain.models import Channel
from clarion.shared import clients
from clarion.shared.settings import settings


class CallAdapter:
    channel = Channel.CALL

    def send(self, delivery: Delivery) -> str:
        config = settings()
        if not (config.connect_instance_id and config.connect_flow_id and config.connect_source_phone):
            raise SendError(retryable=False, code="CallNotConfigured")
        alert = delivery.alert
        request = dict(
            InstanceId=config.connect_instance_id,
            ContactFlowId=config.connect_flow_id,
            SourcePhoneNumber=config.connect_source_phone,
            DestinationPhoneNumber=delivery.destination,
            ClientToken=attempt_token(alert, delivery.attempt),
            # The words only: the keypress function finds the alert by this call's own ContactId, so the flow holds
            # no reference to the alert (nor, ever, to the patient).
            Attributes={"message": messages.spoken_text(alert), "message_ssml": messages.spoken_ssml(alert)},
        )
        if config.dialer_function:
            return dialer.start_call(config.dialer_function, request)
        response = clients.send_client("connect").start_outbound_voice_contact(**request)
        return str(response["ContactId"])
