from __future__ import annotations

import json
import re
from typing import Any

import boto3
import pytest

from clarion.adapters.clients_repo import ClientsRepo
from clarion.domain import tokens
from tools import tokens as cli

TOKEN_RE = re.compile(r"^clr_[a-z0-9-]+_\S{43}$", re.MULTILINE)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def created_token(out: str) -> str:
    match = TOKEN_RE.search(out)
    assert match, out
    return match.group(0)


def test_create_prints_the_token_once_and_stores_only_its_hash(clarion: Any, capsys: Any) -> None:
    # Given an empty clients table
    table = clarion.env["CLIENTS_TABLE"]
    # When an operator creates an alerts token for lab-system
    code, out, _ = run(capsys, "create", "--client", "lab-system", "--scope", "alerts", "--table", table)
    # Then the token is printed, and the table holds its hash and never the token
    assert code == 0
    token = created_token(out)
    item = clarion.table("CLIENTS_TABLE").get_item(Key={"client_id": "lab-system"})["Item"]
    assert token not in json.dumps(item, default=str)
    assert [t["hash"] for t in item["tokens"].values()] == [tokens.hash_token(token)]
    assert tokens.verify(token, ClientsRepo(table).tokens_of("lab-system")) is not None


def test_list_shows_ids_times_and_scopes_but_no_secret(clarion: Any, capsys: Any) -> None:
    # Given two tokens for lab-system (from $CLIENTS_TABLE) and one admin token
    run(capsys, "create", "--client", "lab-system", "--scope", "alerts")
    _, out, _ = run(capsys, "create", "--client", "ops", "--scope", "admin", "--scope", "alerts")
    token = created_token(out)
    # When the operator lists tokens
    code, listing, _ = run(capsys, "list")
    # Then each token appears with its id, time and scopes, and neither token nor hash is shown
    assert code == 0
    lines = listing.strip().splitlines()
    assert lines[0] == "client\ttoken_id\tcreated_at\tscopes"
    assert [line.split("\t")[0] for line in lines[1:]] == ["lab-system", "ops"]
    assert lines[2].split("\t")[3] == "admin alerts"
    assert re.match(r"tok-[0-9a-f]{8}$", lines[1].split("\t")[1])
    assert token not in listing
    assert tokens.hash_token(token) not in listing


def test_list_of_an_empty_table_says_so(clarion: Any, capsys: Any) -> None:
    # Given no tokens
    # When listed
    code, out, _ = run(capsys, "list")
    # Then the operator is told
    assert (code, out.strip()) == (0, "No active tokens.")


def test_rotation_two_tokens_work_a_third_is_refused_and_revoked_fails(clarion: Any, capsys: Any) -> None:
    # Given lab-system has two active tokens
    first = created_token(run(capsys, "create", "--client", "lab-system", "--scope", "alerts")[1])
    second = created_token(run(capsys, "create", "--client", "lab-system", "--scope", "alerts")[1])
    repo = ClientsRepo(clarion.env["CLIENTS_TABLE"])
    # When a third is requested
    code, _, err = run(capsys, "create", "--client", "lab-system", "--scope", "alerts")
    # Then it is refused with a clear message, and both existing tokens still verify
    assert code == 2
    assert "already has 2 active tokens" in err
    assert "revoke one" in err
    assert tokens.verify(first, repo.tokens_of("lab-system")) is not None
    assert tokens.verify(second, repo.tokens_of("lab-system")) is not None
    # When the first is revoked
    first_id = next(t.token_id for t in repo.tokens_of("lab-system") if tokens.verify(first, [t]))
    code, out, _ = run(capsys, "revoke", "--client", "lab-system", "--token-id", first_id)
    # Then it no longer verifies, the second still does, and a new one may be created
    assert code == 0
    assert f"Revoked token {first_id}" in out
    assert tokens.verify(first, repo.tokens_of("lab-system")) is None
    assert tokens.verify(second, repo.tokens_of("lab-system")) is not None
    assert run(capsys, "create", "--client", "lab-system", "--scope", "alerts")[0] == 0


def test_revoking_an_unknown_token_is_an_error(clarion: Any, capsys: Any) -> None:
    # Given no such token
    # When it is revoked
    code, _, err = run(capsys, "revoke", "--client", "lab-system", "--token-id", "tok-00000000")
    # Then the operator is told and nothing is written
    assert code == 2
    assert "has no active token tok-00000000" in err


def test_bad_client_id_is_refused(clarion: Any, capsys: Any) -> None:
    # Given a client id with an underscore (it separates the token's parts)
    # When a token is created for it
    code, _, err = run(capsys, "create", "--client", "lab_system", "--scope", "alerts")
    # Then it is refused before anything is stored
    assert code == 2
    assert "--client must be" in err


def test_table_is_read_from_the_stack_outputs(clarion: Any, capsys: Any) -> None:
    # Given the deployed data stack, whose ClientsTable output names the table
    # When a token is created naming the stack
    code, _, _ = run(capsys, "create", "--client", "ehr", "--scope", "alerts", "--stack", "Clarion-dev-Data")
    # Then it lands in that table
    assert code == 0
    assert ClientsRepo(clarion.env["CLIENTS_TABLE"]).tokens_of("ehr")


def test_stack_without_the_output_is_an_error(clarion: Any, capsys: Any) -> None:
    # Given a stack with no ClientsTable output
    boto3.client("cloudformation").create_stack(
        StackName="other",
        TemplateBody=json.dumps({"Resources": {"Handle": {"Type": "AWS::SNS::Topic"}}}),
    )
    # When it is named
    code, _, err = run(capsys, "list", "--stack", "other")
    # Then the operator is told to pass --table
    assert code == 2
    assert "no ClientsTable output" in err


def test_no_table_anywhere_is_an_error(clarion: Any, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given no --table, no --stack and no $CLIENTS_TABLE
    monkeypatch.delenv("CLIENTS_TABLE")
    # When tokens are listed
    code, _, err = run(capsys, "list")
    # Then the operator is told how to name the table
    assert code == 2
    assert "--table or --stack" in err


def test_a_revoke_flushes_the_stages_authorizer_cache(
    clarion: Any, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.stub import Stubber

    # Given a token, and API Gateway (stubbed: the emulator has no authorizer cache to flush)
    _, out, _ = run(capsys, "create", "--client", "lab-system", "--scope", "alerts")
    token_id = next(t.token_id for t in ClientsRepo(clarion.env["CLIENTS_TABLE"]).tokens_of("lab-system"))
    apigateway = boto3.client("apigateway")
    stub = Stubber(apigateway)
    stub.add_response("flush_stage_authorizers_cache", {}, {"restApiId": "a1b2c3", "stageName": "v1"})
    real_client = boto3.client
    monkeypatch.setattr(
        cli.boto3, "client", lambda name, **kw: apigateway if name == "apigateway" else real_client(name, **kw)
    )
    # When the operator revokes it, naming the API
    with stub:
        code, out, _ = run(capsys, "revoke", "--client", "lab-system", "--token-id", token_id, "--api-id", "a1b2c3")
    # Then the stage's authorizer cache was flushed, once, and the operator is told the token is refused at once
    assert code == 0
    stub.assert_no_pending_responses()
    assert "authorizer cache is flushed" in out


def test_a_stack_that_cannot_be_read_is_one_sentence_and_nothing_is_revoked(clarion: Any, capsys: Any) -> None:
    # Given a token, and a stack name that does not exist
    run(capsys, "create", "--client", "lab-system", "--scope", "alerts")
    repo = ClientsRepo(clarion.env["CLIENTS_TABLE"])
    token_id = next(t.token_id for t in repo.tokens_of("lab-system"))
    # When the operator revokes naming that stack
    args = ["revoke", "--client", "lab-system", "--token-id", token_id, "--stack", "Clarion-nowhere-Data"]
    code, _, err = run(capsys, *args)
    # Then one sentence says why, with exit 2, and the token is still active (nothing half done)
    assert code == 2 and "cannot read stack Clarion-nowhere-Data" in err and "Traceback" not in err
    assert [t.token_id for t in repo.tokens_of("lab-system")] == [token_id]
