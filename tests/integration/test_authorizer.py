from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from clarion.adapters.clients_repo import ClientsRepo
from clarion.domain import tokens
from clarion.domain.errors import ConcurrentChange, TooManyTokens
from clarion.domain.tokens import Scope
from clarion.handlers import authorizer
from clarion.usecases import authorize_client
from tests.helpers import FakeContext

BASE = "arn:aws:execute-api:eu-west-2:123456789012:abc123/prod"


@pytest.fixture
def repo(clarion: Any) -> Iterator[ClientsRepo]:
    authorize_client._repo.cache_clear()
    yield ClientsRepo(clarion.env["CLIENTS_TABLE"])
    authorize_client._repo.cache_clear()


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
    # Then only the contacts, escalation policies and schedules routes are allowed
    assert routes == [
        f"{BASE}/{method}/{collection}/*"
        for collection in ("contacts", "escalation-policies")
        for method in ("PUT", "GET", "DELETE")
    ] + [f"{BASE}/{method}/schedules/*" for method in ("PUT", "GET", "POST", "DELETE")]


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


def answer_for(header: str) -> dict[str, Any]:
    return authorizer.handler(
        {"type": "TOKEN", "authorizationToken": header, "methodArn": f"{BASE}/POST/alerts"}, FakeContext()
    )


def test_the_answer_names_the_clients_own_usage_key_else_its_tiers_shared_one(repo: ClientsRepo, clarion: Any) -> None:
    from clarion.adapters.clients_repo import Usage

    shared = json.loads(clarion.env["USAGE_KEYS"])
    default = clarion.env["USAGE_TIER_DEFAULT"]
    # Given a client with its own key in bulk, one placed in bulk without a key, and one never placed
    own, placed, unplaced = (issue(repo, c, Scope.ALERTS) for c in ("ehr", "lab", "pharmacy"))
    repo.set_usage("ehr", Usage("bulk", "k1", "ehr-own-key-0123456789"))
    repo.set_usage("lab", Usage("bulk", None, None))
    # When each calls
    # Then API Gateway is told the own key, bulk's shared key, and the default tier's shared key
    assert answer_for(own.token)["usageIdentifierKey"] == "ehr-own-key-0123456789"
    assert answer_for(placed.token)["usageIdentifierKey"] == shared["bulk"]
    assert answer_for(unplaced.token)["usageIdentifierKey"] == shared[default] != shared["bulk"]
    # And the token's hash still had to match: another token of ehr's is denied with no usage key
    denied = answer_for(tokens.generate("ehr", [Scope.ALERTS], "2026-01-01T00:00:00Z").token)
    assert "usageIdentifierKey" not in denied and denied["policyDocument"]["Statement"][0]["Effect"] == "Deny"


def test_a_client_that_shares_its_tiers_key_is_warned_of_in_the_log(
    repo: ClientsRepo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from clarion.adapters.clients_repo import Usage
    from tests.integration.api_events import log_to_captured_stdout

    log_to_captured_stdout(monkeypatch)
    # Given a client made before each had its own key, and one with its own
    shared, own = issue(repo, "lab", Scope.ALERTS), issue(repo, "ehr", Scope.ALERTS)
    repo.set_usage("ehr", Usage("bulk", "k1", "ehr-own-key-0123456789"))
    # When each is authorized
    answer_for(shared.token)
    answer_for(own.token)
    # Then one warning names the client that shares its tier's key (for `tools.tokens keys`), and no token
    warnings = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"WARNING"' in line]
    assert [(w["message"], w["client_id"]) for w in warnings] == [
        ("client has no usage key of its own: it shares its tier's", "lab")
    ]
    assert shared.token not in json.dumps(warnings)


def test_a_client_whose_tier_is_no_longer_configured_keeps_working_in_the_default_tier(
    repo: ClientsRepo, clarion: Any
) -> None:
    from clarion.adapters.clients_repo import Usage

    # Given a client with its own key in a tier since taken out of cdk.json (its plan, and the key's place, gone)
    issued = issue(repo, "ehr", Scope.ALERTS)
    repo.set_usage("ehr", Usage("gold", "k1", "ehr-own-key-0123456789"))
    # When it calls
    # Then it is allowed under the default tier's shared key, not the key that is in no plan
    answer = answer_for(issued.token)
    assert answer["usageIdentifierKey"] == json.loads(clarion.env["USAGE_KEYS"])[clarion.env["USAGE_TIER_DEFAULT"]]
    assert f"{BASE}/POST/alerts" in answer["policyDocument"]["Statement"][0]["Resource"]


def test_a_token_write_keeps_the_clients_usage(repo: ClientsRepo) -> None:
    from clarion.adapters.clients_repo import Usage

    # Given a client with its own key
    first = issue(repo, "ehr", Scope.ALERTS)
    repo.set_usage("ehr", Usage("bulk", "k1", "ehr-own-key-0123456789"))
    # When a second token is added and the first revoked (rotation)
    issue(repo, "ehr", Scope.ALERTS)
    repo.revoke_token("ehr", first.stored.token_id)
    # Then the client is still in bulk with its own key
    assert repo.record_of("ehr").usage == Usage("bulk", "k1", "ehr-own-key-0123456789")
