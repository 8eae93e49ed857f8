"""The clients table: one item per client system, holding the hashes of its active tokens.

Item: client_id, version (optimistic lock), tokens = {token_id: {hash, scopes: [...], created_at}}.
"""

from __future__ import annotations

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
        item = self._item(client_id) or {}
        return sorted(
            (_to_stored(tid, data) for tid, data in item.get("tokens", {}).items()), key=lambda t: t.created_at
        )

    def list_clients(self) -> dict[str, list[StoredToken]]:
        out: dict[str, list[StoredToken]] = {}
        kwargs: dict[str, Any] = {"ConsistentRead": True}
        while True:
            page = self._table.scan(**kwargs)
            for item in page.get("Items", []):
                out[item["client_id"]] = sorted(
                    (_to_stored(tid, data) for tid, data in item.get("tokens", {}).items()),
                    key=lambda t: t.created_at,
                )
            if "LastEvaluatedKey" not in page:
                return dict(sorted(out.items()))
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _write(self, client_id: str, item: dict[str, Any] | None, token_map: dict[str, Any]) -> None:
        version = int(item["version"]) if item else 0
        condition: dict[str, Any] = (
            {"ConditionExpression": "version = :v", "ExpressionAttributeValues": {":v": version}}
            if item
            else {"ConditionExpression": "attribute_not_exists(client_id)"}
        )
        try:
            self._table.put_item(
                Item={"client_id": client_id, "version": version + 1, "tokens": token_map}, **condition
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
