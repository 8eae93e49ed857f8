from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from clarion.adapters.clients_repo import ClientsRepo
from clarion.domain import tokens
from clarion.domain.errors import ConcurrentChange, TooManyTokens
from clarion.domain.tokens import Scope
from clarion.handlers import authorizer
from tests.integration.api_events import FakeContext

BASE = "arn:aws:execute-api:eu-west-2:123456789012:abc123/prod"


@pytest.fixture
def repo(clarion: Any) -> Iterator[ClientsRepo]:
    authorizer._repo.cache_clear()
    yield ClientsRepo(clarion.env["CLIENTS_TABLE"])
    authorizer._repo.cache_clear()


def issue(repo: ClientsRepo, client_id: str, *scopes: Scope) -> tokens.IssuedToken:
    issued = tokens.generate(client_id, scopes, "2026-01-01T00:00:00Z")
    repo.add_token(client_id, issued.stored)
    return issued


def allowed(header: str, route: str = "POST/alerts") -> list[str]:
    answer = authorizer.handler(
        {"type": "TOKEN", "authorizationToken": header, "methodArn": f"{BASE}/{route}"}, FakeContext()
    )
    return [r for s in answer["policyDocument"]["Statement"] if s["Effect"] == "Allow" for r in s["Resource"]]


def test_both_active_tokens_work_during_rotation_and_the_revoked_one_stops(repo: ClientsRepo) -> None:
    # Given lab-system holds an old and a new token
    old = issue(repo, "lab-system", Scope.ALERTS)
    new = issue(repo, "lab-system", Scope.ALERTS)
    # When either is presented
    # Then both are allowed to send alerts
    assert f"{BASE}/POST/alerts" in allowed(old.token)
    assert f"{BASE}/POST/notification" in allowed(f"Bearer {new.token}")
    # When the old one is revoked
    assert repo.revoke_token("lab-system", old.stored.token_id)
    # Then the old one is denied and the new one still works
    assert allowed(old.token) == []
    assert f"{BASE}/POST/alerts" in allowed(new.token)


def test_a_third_active_token_is_refused_by_the_table(repo: ClientsRepo) -> None:
    # Given two active tokens
    issue(repo, "lab-system", Scope.ALERTS)
    issue(repo, "lab-system", Scope.ALERTS)
    # When a third is stored
    # Then it is refused and two remain
    with pytest.raises(TooManyTokens):
        issue(repo, "lab-system", Scope.ALERTS)
    assert len(repo.tokens_of("lab-system")) == 2


def test_alerts_token_is_not_allowed_on_contacts_routes(repo: ClientsRepo) -> None:
    # Given an alerts-only token
    issued = issue(repo, "lab-system", Scope.ALERTS)
    # When it calls a contacts route
    routes = allowed(issued.token, "PUT/contacts/C-1")
    # Then the policy does not cover any contacts route (403)
    assert routes
    assert not [r for r in routes if "/contacts/" in r]


def test_admin_token_is_not_allowed_to_send_alerts(repo: ClientsRepo) -> None:
    # Given an admin-only token
    issued = issue(repo, "ops", Scope.ADMIN)
    # When it calls POST /alerts
    routes = allowed(issued.token)
    # Then only the contacts and escalation policies routes are allowed
    assert routes == [
        f"{BASE}/{method}/{collection}/*"
        for collection in ("contacts", "escalation-policies")
        for method in ("PUT", "GET", "DELETE")
    ]


def test_a_concurrent_change_to_the_same_client_is_refused_not_lost(
    repo: ClientsRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an operator read lab-system's tokens just before another operator added one
    issue(repo, "lab-system", Scope.ALERTS)
    stale = repo._item("lab-system")
    issue(repo, "lab-system", Scope.ALERTS)
    repo.revoke_token("lab-system", repo.tokens_of("lab-system")[0].token_id)
    monkeypatch.setattr(repo, "_item", lambda client_id: stale)
    # When the first operator writes from the stale read
    # Then the write is refused, and the other operator's token is kept
    with pytest.raises(ConcurrentChange, match="try again"):
        issue(repo, "lab-system", Scope.ALERTS)
    monkeypatch.undo()
    assert len(repo.tokens_of("lab-system")) == 1
