"""Client tokens: generation, hashing, parsing and verification, and the routes each scope opens.

A token reads `clr_<client_id>_<secret>`: the client id selects the client's record, the secret is
32 random bytes (URL-safe base64). Only the SHA-256 of the whole token is ever stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from clarion.domain.errors import TooManyTokens

PREFIX = "clr"
MAX_ACTIVE_TOKENS = 2
CLIENT_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"  # no underscore: it separates the token's parts
_CLIENT_ID_RE = re.compile(CLIENT_ID_PATTERN)
_TOKEN_RE = re.compile(r"^clr_(?P<client_id>[a-z0-9][a-z0-9-]{0,62})_(?P<secret>[A-Za-z0-9_-]{43})$")
_BEARER_RE = re.compile(r"^bearer\s+", re.IGNORECASE)
# Compared against when a client has no token, so an unknown client costs as much as a known one.
_DUMMY_HASH = hashlib.sha256(b"clarion-no-such-token").hexdigest()


class Scope(StrEnum):
    ALERTS = "alerts"  # send alerts, read the status of its own alerts
    ADMIN = "admin"  # manage contacts, escalation policies and on-call schedules


SCOPE_ROUTES: dict[Scope, tuple[tuple[str, str], ...]] = {
    # POST /alerts/* is an answer to an alert: /alerts/{id}/ack and /alerts/{id}/decline.
    Scope.ALERTS: (("POST", "/alerts"), ("POST", "/notification"), ("GET", "/alerts/*"), ("POST", "/alerts/*")),
    Scope.ADMIN: (
        ("PUT", "/contacts/*"),
        ("GET", "/contacts/*"),
        ("DELETE", "/contacts/*"),
        ("PUT", "/escalation-policies/*"),
        ("GET", "/escalation-policies/*"),
        ("DELETE", "/escalation-policies/*"),
        ("PUT", "/schedules/*"),
        ("GET", "/schedules/*"),
        ("POST", "/schedules/*"),  # an override
        ("DELETE", "/schedules/*"),
    ),
}


class MalformedToken(ValueError):
    """The Authorization header is empty or does not hold a Clarion token."""


@dataclass(frozen=True)
class StoredToken:
    token_id: str
    token_hash: str
    scopes: frozenset[Scope]
    created_at: str


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once to the operator, never stored
    stored: StoredToken


def is_client_id(value: str) -> bool:
    return bool(_CLIENT_ID_RE.fullmatch(value))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def generate(client_id: str, scopes: Iterable[Scope], created_at: str) -> IssuedToken:
    if not is_client_id(client_id):
        raise ValueError("client id must be 1-63 characters of a-z, 0-9 and '-', starting with a letter or digit")
    scope_set = frozenset(scopes)
    if not scope_set:
        raise ValueError("a token needs at least one scope")
    token = f"{PREFIX}_{client_id}_{secrets.token_urlsafe(32)}"
    stored = StoredToken(
        token_id=f"tok-{secrets.token_hex(4)}",
        token_hash=hash_token(token),
        scopes=scope_set,
        created_at=created_at,
    )
    return IssuedToken(token=token, stored=stored)


def token_from_header(header: str | None) -> str:
    """The token in `Authorization: <token>` or `Authorization: Bearer <token>`."""
    token = _BEARER_RE.sub("", (header or "").strip(), count=1).strip()
    if not _TOKEN_RE.fullmatch(token):
        raise MalformedToken("the Authorization header does not hold a Clarion token")
    return token


def client_id_of(token: str) -> str:
    match = _TOKEN_RE.fullmatch(token)
    if match is None:
        raise MalformedToken("not a Clarion token")
    return match.group("client_id")


def verify(token: str, stored: Iterable[StoredToken]) -> StoredToken | None:
    """The stored token matching `token`, compared in constant time against every candidate."""
    presented = hash_token(token)
    candidates = list(stored)
    found: StoredToken | None = None
    for candidate in candidates:
        if hmac.compare_digest(presented, candidate.token_hash):
            found = candidate
    if not candidates:
        hmac.compare_digest(presented, _DUMMY_HASH)
    return found


def allowed_routes(scopes: Iterable[Scope]) -> list[tuple[str, str]]:
    """Every (method, resource path) the scopes open, in a stable order."""
    granted = set(scopes)
    return [route for scope in Scope if scope in granted for route in SCOPE_ROUTES[scope]]


def ensure_room_for_another(active: Iterable[StoredToken]) -> None:
    count = len(list(active))
    if count >= MAX_ACTIVE_TOKENS:
        raise TooManyTokens(
            f"the client already has {count} active tokens (the most allowed); revoke one before creating another",
            field="client",
        )
