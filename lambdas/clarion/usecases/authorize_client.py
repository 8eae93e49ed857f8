"""Authorize a caller of the API: which client a token belongs to, whether it is still valid, which routes its
scopes open, and which usage plan key holds it to its tier's rate, burst and daily quota.

A token is checked against the hashes of its client's live tokens (`clarion.domain.tokens`); the answer lists
every route the scopes allow, since API Gateway caches it per token across routes. A client with its own API key
is held to it (every client made by `python -m tools.tokens create` has one); one made before that shares its
tier's key, with a warning, until `tools.tokens keys` gives it its own; a client whose tier is no longer configured
gets the default tier's shared key, so that it keeps working.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from clarion.adapters.clients_repo import ClientsRepo, Usage
from clarion.domain import tokens
from clarion.shared.observability import logger
from clarion.shared.settings import settings


@dataclass(frozen=True)
class Verdict:
    client_id: str
    allowed: bool
    scopes: tuple[str, ...] = ()
    routes: tuple[tuple[str, str], ...] = ()  # (method, path) the scopes open
    usage_key: str | None = None  # the API key that holds the client to its plan; None: no usage plans


@cache
def _repo() -> ClientsRepo:
    return ClientsRepo.from_settings()


def authorize(header: str) -> Verdict:
    """The verdict on the Authorization `header`; `tokens.MalformedToken` when it holds no Clarion token."""
    token = tokens.token_from_header(header)
    client_id = tokens.client_id_of(token)
    record = _repo().record_of(client_id)
    match = tokens.verify(token, record.tokens)
    if match is None:
        logger.info("token refused", extra={"client_id": client_id})
        return Verdict(client_id, allowed=False)
    scopes = tuple(sorted(s.value for s in match.scopes))
    logger.info("token accepted", extra={"client_id": client_id, "token_id": match.token_id, "scopes": list(scopes)})
    if not record.usage.key:
        logger.warning("client has no usage key of its own: it shares its tier's", extra={"client_id": client_id})
    config = settings()
    return Verdict(
        client_id,
        allowed=True,
        scopes=scopes,
        routes=tuple(tokens.allowed_routes(match.scopes)),
        usage_key=usage_key(record.usage, config.usage_keys, config.usage_tier_default),
    )


def usage_key(usage: Usage, shared: dict[str, str], default_tier: str) -> str | None:
    """The usage identifier for a client: its own key, else its tier's shared key; None when this API has no usage
    plans."""
    if usage.tier and usage.tier not in shared:
        logger.warning("client's tier is not configured; using the default tier", extra={"tier": usage.tier})
        return shared.get(default_tier)
    if usage.key:
        return usage.key
    return shared.get(usage.tier or default_tier)
