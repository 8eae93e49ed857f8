"""The tokens the local system holds for its sample client and admin: given (`CLARION_CLIENT_TOKEN`,
`CLARION_ADMIN_TOKEN`) or generated, stored hashed in the clients table as the token CLI stores them; and each
client's own key in its tier's usage plan, as `python -m tools.tokens ... --stack` registers one."""

from __future__ import annotations

import secrets

from clarion.adapters.clients_repo import ClientsRepo, Usage
from clarion.domain import tokens
from clarion_local.usage import LocalUsage


def form(client_id: str) -> str:
    """How a token of `client_id` reads, for a person."""
    return f"clr_{client_id}_ followed by 43 characters of A-Z, a-z, 0-9, '-' and '_'"


def belongs_to(given: str, client_id: str) -> bool:
    """Whether `given` is a well-formed token of `client_id`."""
    try:
        return tokens.client_id_of(given) == client_id
    except tokens.MalformedToken:
        return False


def store_token(repo: ClientsRepo, given: str | None, client_id: str, scope: tokens.Scope, now: str) -> str:
    """Store `given` (checked to belong to `client_id`) or a newly generated token for `client_id`; the token."""
    if given:
        if not belongs_to(given, client_id):
            raise ValueError(f"the token given for {client_id} must read {form(client_id)}")
        stored = tokens.StoredToken("tok-local", tokens.hash_token(given), frozenset({scope}), now)
        repo.add_token(client_id, stored)
        return given
    issued = tokens.generate(client_id, [scope], now)
    repo.add_token(client_id, issued.stored)
    return issued.token


def give_own_key(repo: ClientsRepo, usage: LocalUsage, plan_ids: dict[str, str], client_id: str, tier: str) -> None:
    """Register a key of the client's own in `tier`'s plan (API Gateway's CreateApiKey and CreateUsagePlanKey) and
    record it with the client, as the token CLI does."""
    if tier not in plan_ids:
        raise ValueError(f"no usage tier {tier!r}; the tiers are {', '.join(plan_ids)}")
    key = secrets.token_hex(20)
    usage.register(key, plan_ids[tier])
    repo.set_usage(client_id, Usage(tier, f"local-{client_id}", key))
