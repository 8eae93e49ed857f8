from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clarion.domain import tokens
from clarion.domain.errors import TooManyTokens
from clarion.domain.tokens import MalformedToken, Scope

AT = "2026-01-01T00:00:00Z"


def test_generated_token_names_its_client_and_only_its_hash_is_kept() -> None:
    # Given a new token for lab-system
    issued = tokens.generate("lab-system", [Scope.ALERTS], AT)
    # When it is inspected
    stored = issued.stored
    # Then it names the client, and what is stored is its SHA-256, not the token
    assert issued.token.startswith("clr_lab-system_")
    assert tokens.client_id_of(issued.token) == "lab-system"
    assert stored.token_hash == tokens.hash_token(issued.token)
    assert issued.token not in repr(stored)
    assert stored.scopes == frozenset({Scope.ALERTS})


def test_two_generated_tokens_differ() -> None:
    # Given two tokens for the same client
    first = tokens.generate("lab", [Scope.ALERTS], AT)
    second = tokens.generate("lab", [Scope.ALERTS], AT)
    # When compared
    # Then neither the token nor its id repeats
    assert first.token != second.token
    assert first.stored.token_id != second.stored.token_id


@pytest.mark.parametrize("client_id", ["", "Lab", "lab_system", "-lab", "a" * 64])
def test_client_id_outside_the_pattern_is_refused(client_id: str) -> None:
    # Given a client id that would make the token ambiguous or unreadable
    # When a token is generated for it
    # Then it is refused
    with pytest.raises(ValueError, match="client id"):
        tokens.generate(client_id, [Scope.ALERTS], AT)


def test_token_without_scope_is_refused() -> None:
    # Given no scopes
    # When a token is generated
    # Then it is refused
    with pytest.raises(ValueError, match="scope"):
        tokens.generate("lab", [], AT)


def test_header_may_hold_the_bare_token_or_a_bearer_token() -> None:
    # Given a token
    token = tokens.generate("lab", [Scope.ALERTS], AT).token
    # When it is sent bare, as Bearer, or with odd case and spacing
    # Then the same token is read
    assert tokens.token_from_header(token) == token
    assert tokens.token_from_header(f"Bearer {token}") == token
    assert tokens.token_from_header(f"  bearer   {token} ") == token


@pytest.mark.parametrize("header", [None, "", "   ", "Bearer", "Bearer ", "abc", "Basic dXNlcjpwYXNz", "clr_lab_short"])
def test_empty_or_foreign_header_is_malformed(header: str | None) -> None:
    # Given a header that holds no Clarion token
    # When it is read
    # Then it is malformed
    with pytest.raises(MalformedToken):
        tokens.token_from_header(header)


def test_client_id_of_a_foreign_string_is_malformed() -> None:
    # Given a string that is not a token
    # When its client is asked for
    # Then it is malformed
    with pytest.raises(MalformedToken):
        tokens.client_id_of("not-a-token")


def test_verify_finds_the_matching_token_among_the_active_ones() -> None:
    # Given a client with two active tokens
    old = tokens.generate("lab", [Scope.ALERTS], AT)
    new = tokens.generate("lab", [Scope.ALERTS, Scope.ADMIN], AT)
    active = [old.stored, new.stored]
    # When each is verified
    # Then each matches its own stored record
    assert tokens.verify(old.token, active) == old.stored
    assert tokens.verify(new.token, active) == new.stored


def test_verify_refuses_a_token_that_is_not_active() -> None:
    # Given a revoked token (no longer among the active ones)
    revoked = tokens.generate("lab", [Scope.ALERTS], AT)
    active = [tokens.generate("lab", [Scope.ALERTS], AT).stored]
    # When it is verified, against the active list or an empty one
    # Then nothing matches
    assert tokens.verify(revoked.token, active) is None
    assert tokens.verify(revoked.token, []) is None


@given(st.text(min_size=1, max_size=80))
def test_no_other_string_verifies_against_a_token(guess: str) -> None:
    # Given a client's token
    issued = tokens.generate("lab", [Scope.ALERTS], AT)
    # When any other string is verified
    # Then it does not match
    if guess != issued.token:
        assert tokens.verify(guess, [issued.stored]) is None


def test_each_scope_opens_its_own_routes_only() -> None:
    # Given each scope alone and both together
    # When the allowed routes are listed
    alerts = tokens.allowed_routes([Scope.ALERTS])
    admin = tokens.allowed_routes([Scope.ADMIN])
    both = tokens.allowed_routes([Scope.ADMIN, Scope.ALERTS])
    # Then alerts opens sending and reading alerts, admin the contacts, both the union
    assert alerts == [("POST", "/alerts"), ("POST", "/notification"), ("GET", "/alerts/*"), ("POST", "/alerts/*")]
    assert admin == [
        (method, f"/{collection}/*")
        for collection in ("contacts", "escalation-policies")
        for method in ("PUT", "GET", "DELETE")
    ] + [(method, "/schedules/*") for method in ("PUT", "GET", "POST", "DELETE")]
    assert both == alerts + admin
    assert tokens.allowed_routes([]) == []


def test_a_third_active_token_is_refused() -> None:
    # Given a client with one, then two active tokens
    one = [tokens.generate("lab", [Scope.ALERTS], AT).stored]
    two = [*one, tokens.generate("lab", [Scope.ALERTS], AT).stored]
    # When room for another is checked
    tokens.ensure_room_for_another(one)
    # Then the second is allowed and a third refused with a clear message
    with pytest.raises(TooManyTokens, match="revoke one"):
        tokens.ensure_room_for_another(two)


def test_a_trailing_newline_makes_no_client_id_and_no_token() -> None:
    # Given a client id and a token that would match their patterns but for a trailing newline ("$" lets it by)
    issued = tokens.generate("lab", [tokens.Scope.ALERTS], "2026-12-02T00:00:00Z")
    # When they are checked
    # Then neither is taken: patterns are matched whole
    assert tokens.is_client_id("lab") and not tokens.is_client_id("lab\n")
    assert tokens.token_from_header(issued.token) == issued.token
    with pytest.raises(tokens.MalformedToken):
        tokens.client_id_of(issued.token + "\n")


@given(
    st.from_regex(r"[a-z0-9][a-z0-9-]{0,62}", fullmatch=True), st.sampled_from(["", "Bearer ", "bearer ", "BEARER  "])
)
def test_the_gateways_identity_expression_lets_every_issued_token_through(client_id: str, prefix: str) -> None:
    import re

    from clarion import names

    # Given a token as issued, sent bare or after a Bearer prefix
    issued = tokens.generate(client_id, [Scope.ALERTS], "2026-12-02T00:00:00Z")
    header = prefix + issued.token
    # When API Gateway checks the header against the authorizer's identity validation expression
    # Then it passes (so only junk is refused unasked), and the authorizer reads the same token from it
    assert re.fullmatch(names.TOKEN_HEADER_PATTERN, header)
    assert tokens.token_from_header(header) == issued.token


@pytest.mark.parametrize(
    "header", ["", "Basic dXNlcjpwYXNz", "clr_lab_short", "Bearer", "x" * 2000, "clr_Lab_" + "A" * 43]
)
def test_the_gateways_identity_expression_refuses_what_no_token_is(header: str) -> None:
    import re

    from clarion import names

    assert not re.fullmatch(names.TOKEN_HEADER_PATTERN, header)
    with pytest.raises(MalformedToken):
        tokens.token_from_header(header)
