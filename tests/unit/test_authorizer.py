"""The authorizer's answers, with the clients table replaced by an in-memory one."""

from __future__ import annotations

from typing import Any

import pytest

from clarion.adapters.clients_repo import ClientRecord, Usage
from clarion.domain import tokens
from clarion.domain.tokens import Scope, StoredToken
from clarion.handlers import authorizer
from clarion.usecases import authorize_client
from tests.helpers import FakeContext
from tests.integration.api_events import log_to_captured_stdout

ARN = "arn:aws:execute-api:eu-west-2:123456789012:abc123/prod/POST/alerts"
BASE = "arn:aws:execute-api:eu-west-2:123456789012:abc123/prod"


class MemoryRepo:
    def __init__(self) -> None:
        self.tokens: dict[str, list[StoredToken]] = {}

    def record_of(self, client_id: str) -> ClientRecord:
        return ClientRecord(self.tokens.get(client_id, []), Usage(None, None, None))


@pytest.fixture
def repo(monkeypatch: pytest.MonkeyPatch) -> MemoryRepo:
    memory = MemoryRepo()
    monkeypatch.setattr(authorize_client, "_repo", lambda: memory)
    return memory


def issue(repo: MemoryRepo, client_id: str, *scopes: Scope) -> str:
    issued = tokens.generate(client_id, scopes, "2026-01-01T00:00:00Z")
    repo.tokens.setdefault(client_id, []).append(issued.stored)
    return issued.token


def authorize(header: str, method_arn: str = ARN) -> dict[str, Any]:
    result: dict[str, Any] = authorizer.handler(
        {"type": "TOKEN", "authorizationToken": header, "methodArn": method_arn}, FakeContext()
    )
    return result


def statements(answer: dict[str, Any]) -> dict[str, list[str]]:
    return {s["Effect"]: s["Resource"] for s in answer["policyDocument"]["Statement"]}


def test_alerts_token_allows_every_alerts_route_and_nothing_else(repo: MemoryRepo) -> None:
    # Given lab-system holds an alerts token
    token = issue(repo, "lab-system", Scope.ALERTS)
    # When it calls through the authorizer, bare as in the AWS sample
    answer = authorize(token)
    # Then the policy allows exactly the alerts routes of this API and stage, and names the client
    assert statements(answer) == {
        "Allow": [
            f"{BASE}/POST/alerts",
            f"{BASE}/POST/notification",
            f"{BASE}/GET/alerts/*",
            f"{BASE}/POST/alerts/*",
        ]
    }
    assert answer["principalId"] == "lab-system"
    assert answer["context"] == {"client_id": "lab-system", "scopes": "alerts"}


def test_admin_and_alerts_token_allows_both_sets_of_routes(repo: MemoryRepo) -> None:
    # Given a token with both scopes
    token = issue(repo, "ops", Scope.ADMIN, Scope.ALERTS)
    # When it calls with a Bearer header on a contacts route
    answer = authorize(f"Bearer {token}", f"{BASE}/PUT/contacts/C-1")
    # Then every route of both scopes is allowed, whatever route was called first
    assert len(statements(answer)["Allow"]) == 14
    assert f"{BASE}/DELETE/contacts/*" in statements(answer)["Allow"]
    assert answer["context"]["scopes"] == "admin alerts"


def test_wrong_token_for_a_known_client_is_denied(repo: MemoryRepo) -> None:
    # Given lab-system has a token
    issue(repo, "lab-system", Scope.ALERTS)
    # When someone presents another well-formed token for lab-system
    forged = tokens.generate("lab-system", [Scope.ALERTS], "2026-01-01T00:00:00Z").token
    answer = authorize(forged)
    # Then every route is denied (403) and no context is passed on
    assert statements(answer) == {"Deny": [f"{BASE}/*/*"]}
    assert "context" not in answer or not answer["context"]


def test_token_of_an_unknown_client_is_denied(repo: MemoryRepo) -> None:
    # Given no client named ghost
    token = tokens.generate("ghost", [Scope.ALERTS], "2026-01-01T00:00:00Z").token
    # When its token is presented
    answer = authorize(token)
    # Then every route is denied
    assert statements(answer) == {"Deny": [f"{BASE}/*/*"]}


@pytest.mark.parametrize("header", ["", "Bearer ", "let-me-in"])
def test_empty_or_malformed_header_is_unauthorized(repo: MemoryRepo, header: str) -> None:
    # Given a header holding no Clarion token
    # When it is presented
    # Then the authorizer raises "Unauthorized", which API Gateway answers with 401
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(header)


def test_token_never_reaches_the_logs(
    repo: MemoryRepo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a valid and a forged token, and the logs captured
    log_to_captured_stdout(monkeypatch)
    token = issue(repo, "lab-system", Scope.ALERTS)
    forged = tokens.generate("lab-system", [Scope.ALERTS], "2026-01-01T00:00:00Z").token
    # When both are presented
    authorize(token)
    authorize(f"Bearer {forged}")
    # Then neither token nor its hash appears in anything written
    out = capsys.readouterr()
    for secret in (token, forged, tokens.hash_token(token)):
        assert secret not in out.out + out.err
    assert "token accepted" in out.out


@pytest.mark.parametrize("method_arn", ["", "not-an-arn", "arn:aws:execute-api:eu-west-2:123456789012:abc123"])
def test_a_method_arn_that_is_not_an_execute_api_arn_is_an_error(repo: MemoryRepo, method_arn: str) -> None:
    # Given a valid token, but a methodArn API Gateway would never send
    token = issue(repo, "lab-system", Scope.ALERTS)
    # Then the authorizer fails rather than grant routes of an unknown API (API Gateway answers 500)
    with pytest.raises(ValueError, match="methodArn"):
        authorize(token, method_arn)
