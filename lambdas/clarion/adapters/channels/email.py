"""Email: Amazon SES (v1) `SendTemplatedEmail` with one template per kind of alert."""

from __future__ import annotations

import json
import re
from typing import Any

from clarion.adapters.channels.base import Delivery, SendError
from clarion.domain import messages
from clarion.domain.messages import TemplateKind
from clarion.domain.models import Channel
from clarion.shared import clients
from clarion.shared.settings import settings

_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def template_name(kind: TemplateKind) -> str:
    """The SES template for `kind`, or the generic one when the deployment has none for it."""
    templates = settings().email_templates
    name = templates.get(kind.value) or templates.get(TemplateKind.GENERIC.value)
    if not name:
        raise SendError(retryable=False, code="TemplateDoesNotExist", detail=f"no template for {kind.value}")
    return name


def _tag(name: str, value: str) -> dict[str, str]:
    """SES tag values allow only letters, digits, `_` and `-` (256 at most)."""
    return {"Name": name, "Value": _TAG_UNSAFE.sub("_", value)[:256] or "_"}


class EmailAdapter:
    channel = Channel.EMAIL

    def send(self, delivery: Delivery) -> str:
        config = settings()
        content = messages.email_content(delivery.alert, delivery.link)
        request: dict[str, Any] = {
            "Source": config.sender_email,
            "Destination": {"ToAddresses": [delivery.destination]},
            "Template": template_name(content.kind),
            "TemplateData": json.dumps(content.template_data()),
            "Tags": [_tag("message_id", delivery.alert.message_id), _tag("attempt", str(delivery.attempt))],
        }
        if config.ses_configuration_set:
            request["ConfigurationSetName"] = config.ses_configuration_set
        response = clients.send_client("ses").send_templated_email(**request)
        return str(response["MessageId"])


def send_taken(destination: str, text: str) -> str:
    """Send the "taken by" notice (`messages.taken_text`) to `destination` with the `taken` template; the
    provider's message id."""
    config = settings()
    request: dict[str, Any] = {
        "Source": config.sender_email,
        "Destination": {"ToAddresses": [destination]},
        "Template": template_name(TemplateKind.TAKEN),
        "TemplateData": json.dumps({"subject": "Clarion: alert taken", "body": text}),
    }
    if config.ses_configuration_set:
        request["ConfigurationSetName"] = config.ses_configuration_set
    return str(clients.send_client("ses").send_templated_email(**request)["MessageId"])
