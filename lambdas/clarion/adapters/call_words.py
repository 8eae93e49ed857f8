"""What a call says, kept in the delivery log under an opaque handle: the only contact attribute a call carries.

Amazon Connect keeps a contact's attributes for 24 months, outside Clarion's key and TTL, so the call's attributes
hold just `call`: 16 random bytes (22 URL-safe characters) that nothing links to the alert, the recipient or the
patient. The handle names the item `pk = "call#<handle>"`, `sk = "WORDS"`: the SSML to speak, under the table's key,
expiring `WORDS_TTL_S` after it is written (DynamoDB's TTL deletes late, so a read checks the expiry too). The
router writes it before it starts the call, and the flow fetches it (through the keypress function) by the handle
alone, so the words are there even before the router has recorded the call's ContactId.
"""

from __future__ import annotations

import re
import secrets

from clarion.adapters import delivery_log
from clarion.shared import clock

CALL_ATTRIBUTE = "call"  # the contact attribute the flow reads (`$.Attributes.call`)
WORDS_SK = "WORDS"
WORDS_TTL_S = 3600  # a call is answered (or rings out) within minutes; an hour leaves room for a slow one
HANDLE_BYTES = 16
_HANDLE = re.compile(r"[A-Za-z0-9_-]{22}")


def _key(handle: str) -> dict[str, str]:
    return {"pk": f"call#{handle}", "sk": WORDS_SK}


def store(ssml: str, now: float | None = None) -> str:
    """Keep `ssml` under a new handle; the handle."""
    handle = secrets.token_urlsafe(HANDLE_BYTES)
    expires = int(now if now is not None else clock.time()) + WORDS_TTL_S
    delivery_log.table().put_item(Item={**_key(handle), "ssml": ssml, "expires_at": expires})
    return handle


def fetch(handle: str, now: float | None = None) -> str | None:
    """The SSML kept under `handle`; None for a handle that is malformed, unknown or expired."""
    if not _HANDLE.fullmatch(handle):
        return None
    item = delivery_log.table().get_item(Key=_key(handle), ConsistentRead=True).get("Item")
    if not item or int(item["expires_at"]) <= (now if now is not None else clock.time()):
        return None
    return str(item["ssml"])
