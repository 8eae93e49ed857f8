"""What Clarion's call says: the contact flow asks with the call's handle (its only contact attribute), before it
speaks. The words were written under the handle before the call started, so the flow never waits for the router; a
handle Clarion does not hold (malformed, forged or expired) gets none, and the flow says only to check Clarion."""

from __future__ import annotations

from clarion.adapters import call_words
from clarion.shared.observability import logger

CALL_ATTRIBUTE = call_words.CALL_ATTRIBUTE  # the flow passes the handle under this name


def words(handle: str) -> str | None:
    """The SSML the call with `handle` speaks; None for a handle Clarion holds no words for."""
    ssml = call_words.fetch(handle)
    if ssml is None:
        logger.warning("Words asked for a call Clarion holds none for")
    return ssml
