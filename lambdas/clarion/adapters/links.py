"""Acknowledgement links: `<api>/l/<token>`, one per alert, stage and recipient, needing no Authorization header.

The token is 38 URL-safe characters: a random 8-byte handle, the expiry (4 bytes, epoch seconds) and the first
16 bytes of an HMAC-SHA-256 over both, computed by KMS with Clarion's HMAC key (the key material never leaves
KMS). The handle names a link item in the delivery log (`pk = "link#<handle>"`) that says which alert and which
recipient; it expires with the link (TTL). A token that is malformed, expired, signed with anything else, or
names no item resolves to None: the caller shows one page for all of them and says nothing of why.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import struct
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from clarion.adapters import delivery_log
from clarion.domain.models import Alert
from clarion.names import ENV_LINK_BASE_URL, ENV_LINK_KEY_ID
from clarion.shared import clients, clock
from clarion.shared.settings import required, settings

TOKEN_CHARS = 38
_PAYLOAD = struct.Struct(">8sI")  # handle, expires
_MAC_BYTES = 16
_CONTEXT = b"clarion-ack-link-v1|"
LINK_SK = "LINK"


@dataclass(frozen=True)
class Link:
    client_id: str
    message_id: str
    contact_id: str
    stage: int
    expires: int


def _mac(payload: bytes) -> bytes:
    response = clients.client("kms").generate_mac(
        KeyId=required(settings().link_key_id, ENV_LINK_KEY_ID), Message=_CONTEXT + payload, MacAlgorithm="HMAC_SHA_256"
    )
    return bytes(response["Mac"])[:_MAC_BYTES]


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str) -> bytes | None:
    if len(token) != TOKEN_CHARS or not token.isascii():
        return None
    try:
        return base64.urlsafe_b64decode(token + "==")
    except (binascii.Error, ValueError):
        return None


def issue(alert: Alert, now: float | None = None) -> str:
    """A new link for `alert.recipient` at `alert.stage`: its item written, its URL returned."""
    config = settings()
    handle = os.urandom(8)
    expires = int(now if now is not None else clock.time()) + config.link_expiry_s
    payload = _PAYLOAD.pack(handle, expires)
    token = _encode(payload + _mac(payload))
    delivery_log.table().put_item(
        Item={
            "pk": f"link#{handle.hex()}",
            "sk": LINK_SK,
            "client_id": alert.client_id,
            "message_id": alert.message_id,
            "contact_id": alert.recipient,
            "stage": alert.stage,
            "expires_at": expires,
        }
    )
    return f"{required(config.link_base_url, ENV_LINK_BASE_URL)}/l/{token}"


def resolve(token: str, now: float | None = None) -> Link | None:
    """The link `token` names, or None when it is not (or no longer) a valid link."""
    raw = _decode(token)
    if raw is None or len(raw) != _PAYLOAD.size + _MAC_BYTES:
        return None
    payload, mac = raw[: _PAYLOAD.size], raw[_PAYLOAD.size :]
    handle, expires = _PAYLOAD.unpack(payload)
    if expires <= (now if now is not None else clock.time()):
        return None
    try:
        expected = _mac(payload)
    except ClientError:
        return None
    if not hmac.compare_digest(mac, expected):
        return None
    item: dict[str, Any] | None = (
        delivery_log.table().get_item(Key={"pk": f"link#{handle.hex()}", "sk": LINK_SK}).get("Item")
    )
    if item is None:
        return None
    return Link(item["client_id"], item["message_id"], item["contact_id"], int(item["stage"]), expires)
