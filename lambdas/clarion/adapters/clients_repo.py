"""The clients table: one item per client system, holding the hashes of its active tokens.

Item: client_id, version (optimistic lock), tokens = {token_id: {hash, scopes: [...], created_at}}, and the client's
usage: `tier` (its usage plan) and, once registered with API Gateway, `usage_key_id` and `usage_key` (the API key
the authorizer names as the client's usage identifier; it opens nothing by itself, since the API reads keys only
from the authorizer).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from clarion.domain import tokens
from clarion.domain.errors import ConcurrentChange
from clarion.domain.tokens import Scope, StoredToken
from clarion.names import ENV_CLIENTS_TABLE
from clarion.shared import clients
from clarion.shared.settings import required, settings


def _to_stored(token_id: str, data: dict[str, Any]) -> StoredToken:
    return StoredToken(
        token_id=token_id,
        token_hash=data["hash"],
        scopes=frozenset(Scope(s) for s in data.get("scopes", [])),
        created_at=data["created_at"],
    )


def _to_map(token: StoredToken) -> dict[str, Any]:
    return {"hash": token.token_hash, "scopes": sorted(s.value for s in token.scopes), "created_at": token.created_at}


@dataclass(frozen=True)
class Usage:
    """Which usage plan a client is in, and its own API key there (None: it shares its tier's key)."""

    tier: str | None
    key_id: str | None
    key: str | None


@dataclass(frozen=True)
class ClientRecord:
    tokens: list[StoredToken]
    usage: Usage


_USAGE_FIELDS = ("tier", "usage_key_id", "usage_key")


def _usage(item: dict[str, Any]) -> Usage:
    return Usage(item.get("tier"), item.get("usage_key_id"), item.get("usage_key"))


def _tokens(item: dict[str, Any]) -> list[StoredToken]:
    return sorted((_to_stored(tid, data) for tid, data in item.get("tokens", {}).items()), key=lambda t: t.created_at)


class ClientsRepo:
    def __init__(self, table_name: str, table: Any = None) -> None:
        """`table`: a boto3 Table to use instead of the shared client's (operator tools bring their own)."""
        self._table = table if table is not None else clients.dynamodb_table(table_name)

    @classmethod
    def from_settings(cls) -> ClientsRepo:
        return cls(required(settings().clients_table, ENV_CLIENTS_TABLE))

    def _item(self, client_id: str) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self._table.get_item(Key={"client_id": client_id}, ConsistentRead=True).get(
            "Item"
        )
        return item

    def tokens_of(self, client_id: str) -> list[StoredToken]:
        return _tokens(self._item(client_id) or {})

    def record_of(self, client_id: str) -> ClientRecord:
        """The client's tokens and usage, in one read (the authorizer's)."""
        item = self._item(client_id) or {}
        return ClientRecord(_tokens(item), _usage(item))

    def list_records(self) -> dict[str, ClientRecord]:
        out: dict[str, ClientRecord] = {}
        kwargs: dict[str, Any] = {"ConsistentRead": True}
        while True:
            page = self._table.scan(**kwargs)
            for item in page.get("Items", []):
                out[item["client_id"]] = ClientRecord(_tokens(item), _usage(item))
            if "LastEvaluatedKey" not in page:
                return dict(sorted(out.items()))
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def list_clients(self) -> dict[str, list[StoredToken]]:
        return {client: record.tokens for client, record in self.list_records().items()}

    def _write(
        self, client_id: str, item: dict[str, Any] | None, token_map: dict[str, Any], usage: Usage | None = None
    ) -> None:
        """Write the client's tokens (and `usage`, else the usage it had), if nobody changed it since `item`."""
        version = int(item["version"]) if item else 0
        condition: dict[str, Any] = (
            {"ConditionExpression": "version = :v", "ExpressionAttributeValues": {":v": version}}
            if item
            else {"ConditionExpression": "attribute_not_exists(client_id)"}
        )
        try:
            kept = usage if usage is not None else _usage(item or {})
            values = dict(zip(_USAGE_FIELDS, (kept.tier, kept.key_id, kept.key), strict=True))
            self._table.put_item(
                Item={
                    "client_id": client_id,
                    "version": version + 1,
                    "tokens": token_map,
                    **{k: v for k, v in values.items() if v is not None},
                },
                **condition,
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ConcurrentChange("the client's tokens changed meanwhile; try again", field="client") from error
            raise

    def add_token(self, client_id: str, token: StoredToken) -> None:
        """Store `token` for the client, refusing a third active token."""
        item = self._item(client_id)
        token_map: dict[str, Any] = dict(item.get("tokens", {})) if item else {}
        tokens.ensure_room_for_another(_to_stored(tid, data) for tid, data in token_map.items())
        token_map[token.token_id] = _to_map(token)
        self._write(client_id, item, token_map)

    def revoke_token(self, client_id: str, token_id: str) -> bool:
        """Remove the token. Returns False when the client has no such token."""
        item = self._item(client_id)
        token_map: dict[str, Any] = dict(item.get("tokens", {})) if item else {}
        if token_id not in token_map:
            return False
        del token_map[token_id]
        self._write(client_id, item, token_map)
        return True

    def set_usage(self, client_id: str, usage: Usage) -> None:
        """Set the client's tier and own key (a client with no token yet gets an item holding only that)."""
        item = self._item(client_id)
        self._write(client_id, item, dict(item.get("tokens", {})) if item else {}, usage)
