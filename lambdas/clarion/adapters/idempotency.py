"""The idempotency table: Powertools' idempotency over DynamoDB, so a client's retry of an alert gets the first
answer instead of a second alert, and a reused message id with a different body is refused.

The key is the client and its message id (two clients may use the same message id); the whole alert body, patient
reference included, is checked against the first one's. Records expire with the delivery log's retention.

What a record keeps of the body (attribute `validation`) is `hmac-sha256:<hex>`, an HMAC-SHA-256 of the body (its
JSON, keys sorted), not a plain hash: with a plain hash, someone who can read the table and knows or guesses the
rest of a body (type, contact, description, much of which other tables hold) could try patient references until
one matched. The HMAC's key is derived once per container by KMS (`GenerateMac` over a fixed label, with Clarion's
HMAC key, the key that signs acknowledgement links; the label keeps the two uses apart): it is never stored, and
only the roles allowed `GenerateMac` on that key can make it. A KMS failure while deriving it fails the request
with 503 before anything is accepted.

Records written before bodies were keyed hold a plain SHA-256 (`<hex>`, no prefix); until the last of them expires
(`DELIVERY_RETENTION_DAYS` after the change), a body is checked against such a record in that form, so a retry still
gets its first answer and another body still gets 409. Such a record is met first on the conditional put, where the
body is not at hand; Powertools then reads the record and checks it with the body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from clarion.names import ENV_IDEMPOTENCY_TABLE, ENV_LINK_KEY_ID
from clarion.shared import clients
from clarion.shared.settings import required, settings

BODY = "alert"  # what of the submission is checked: the alert as the client sent it
KEYED = "hmac-sha256:"
_LABEL = b"clarion-idempotency-v1|the key of the alert body's HMAC"

CONFIG = IdempotencyConfig(
    event_key_jmespath=f"[client_id, {BODY}.message_id]",
    payload_validation_jmespath=BODY,
    raise_on_no_idempotency_key=True,
    hash_function="sha256",
)


class KeyedBodies(DynamoDBPersistenceLayer):
    """Powertools' DynamoDB layer, keeping an HMAC of the body instead of its SHA-256 (the module's docstring)."""

    def __init__(self, table_name: str, boto3_client: Any) -> None:
        super().__init__(table_name=table_name, boto3_client=boto3_client)
        self._key: bytes | None = None

    def _body_key(self) -> bytes:
        if self._key is None:
            response = clients.client("kms").generate_mac(
                KeyId=required(settings().link_key_id, ENV_LINK_KEY_ID), Message=_LABEL, MacAlgorithm="HMAC_SHA_256"
            )
            self._key = bytes(response["Mac"])
        return self._key

    def _get_hashed_payload(self, data: dict[str, Any]) -> str:
        body = json.dumps(data[BODY], sort_keys=True, separators=(",", ":")).encode()
        return KEYED + hmac.new(self._body_key(), body, hashlib.sha256).hexdigest()

    def _validate_payload(self, data_payload: dict[str, Any] | DataRecord, stored_data_record: DataRecord) -> None:
        stored = stored_data_record.payload_hash or ""
        if stored.startswith(KEYED):
            super()._validate_payload(data_payload, stored_data_record)
        elif isinstance(data_payload, DataRecord):  # a record from before bodies were keyed, met on the put
            raise IdempotencyItemAlreadyExistsError  # no record given: Powertools reads it, then checks it below
        elif stored != super()._get_hashed_payload(data_payload):  # the body's plain SHA-256, as such a record holds
            raise IdempotencyValidationError("Payload does not match stored record for this event key")


def register(context: LambdaContext) -> None:
    """Let the records of this invocation expire as in-progress with its remaining time (a crash mid-accept)."""
    CONFIG.register_lambda_context(context)


@cache
def once(function: Callable[..., dict[str, Any]], keyword: str, prefix: str) -> Callable[..., dict[str, Any]]:
    """`function`, answered once per key of its `keyword` argument. Built on first use, so importing needs no table
    and no AWS client."""
    CONFIG.expires_after_seconds = settings().delivery_retention_days * 86400
    persistence = KeyedBodies(
        table_name=required(settings().idempotency_table, ENV_IDEMPOTENCY_TABLE),
        boto3_client=clients.client("dynamodb"),
    )
    wrapped: Callable[..., dict[str, Any]] = idempotent_function(
        function, data_keyword_argument=keyword, persistence_store=persistence, config=CONFIG, key_prefix=prefix
    )
    return wrapped
