"""Voice: Amazon Connect `StartOutboundVoiceContact` against the alert contact flow (which asks for a keypress).

The call's only attribute is an opaque handle; the words are kept under it in the delivery log first
(`clarion.adapters.call_words`), and the flow fetches them through the keypress function.
"""

from __future__ import annotations

from clarion.adapters import call_words, dialer
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
        # Written before the call starts: the flow may ask for the words before this returns the ContactId.
        handle = call_words.store(messages.spoken_ssml(alert))
        request = dict(
            InstanceId=config.connect_instance_id,
            ContactFlowId=config.connect_flow_id,
            SourcePhoneNumber=config.connect_source_phone,
            DestinationPhoneNumber=delivery.destination,
            ClientToken=attempt_token(alert, delivery.attempt),
            # The handle only: Connect keeps attributes for 24 months, so they hold no words and no reference to the
            # alert or the patient (the keypress function finds the alert by this call's own ContactId).
            Attributes={call_words.CALL_ATTRIBUTE: handle},
        )
        if config.dialer_function:
            return dialer.start_call(config.dialer_function, request)
        response = clients.send_client("connect").start_outbound_voice_contact(**request)
        return str(response["ContactId"])
