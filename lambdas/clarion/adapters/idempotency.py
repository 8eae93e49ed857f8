"""The idempotency table: Powertools' idempotency over DynamoDB, so a client's retry of an alert gets the first
answer instead of a second alert, and a reused message id with a different body is refused.

The key is the client and its message id (two clients may use the same message id); the whole alert body is
validated against the first one's hash. Records expire with the delivery log's retention.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.typing import LambdaContext

from clarion.names import ENV_IDEMPOTENCY_TABLE
from clarion.shared import clients
from clarion.shared.settings import required, settings

CONFIG = IdempotencyConfig(
    event_key_jmespath="[client_id, alert.message_id]",
    payload_validation_jmespath="alert",
    raise_on_no_idempotency_key=True,
    hash_function="sha256",
)


def register(context: LambdaContext) -> None:
    """Let the records of this invocation expire as in-progress with its remaining time (a crash mid-accept)."""
    CONFIG.register_lambda_context(context)


@cache
def once(function: Callable[..., dict[str, Any]], keyword: str, prefix: str) -> Callable[..., dict[str, Any]]:
    """`function`, answered once per key of its `keyword` argument. Built on first use, so importing needs no table
    and no AWS client."""
    CONFIG.expires_after_seconds = settings().delivery_retention_days * 86400
    persistence = DynamoDBPersistenceLayer(
        table_name=required(settings().idempotency_table, ENV_IDEMPOTENCY_TABLE),
        boto3_client=clients.client("dynamodb"),
    )
    wrapped: Callable[..., dict[str, Any]] = idempotent_function(
        function, data_keyword_argument=keyword, persistence_store=persistence, config=CONFIG, key_prefix=prefix
    )
    return wrapped
