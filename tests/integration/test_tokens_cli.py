from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from clarion.adapters.clients_repo import ClientsRepo, Usage
from clarion.domain import tokens
from tools import tokens as cli

TOKEN_RE = re.compile(r"^clr_[a-z0-9-]+_\S{43}$", re.MULTILINE)
STACK = "Clarion-test-Data"  # the `usage` fixture's deployment


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def created_token(out: str) -> str:
    match = TOKEN_RE.search(out)
    assert match, out
    return match.group(0)


def test_create_prints_the_token_once_and_stores_only_its_hash(clarion: Any, capsys: Any, usage: Any) -> None:
    # Given an empty clients table
    table = clarion.env["CLIENTS_TABLE"]
    # When an operator creates an alerts token for lab-system
    code, out, _ = run(capsys, "create", "--client", "lab-system", "--scope", "alerts", "--stack", STACK)
    # Then the token is printed, and the table holds its hash and never the token
    assert code == 0
    token = created_token(out)
    item = clarion.table("CLIENTS_TABLE").get_item(Key={"client_id": "lab-system"})["Item"]
    assert token not in json.dumps(item, default=str)
    assert [t["hash"] for t in item["tokens"].values()] == [tokens.hash_token(token)]
    assert tokens.verify(token, ClientsRepo(table).tokens_of("lab-system")) is not None


def test_list_shows_ids_times_and_scopes_but_no_secret(clarion: Any, capsys: Any, usage: Any) -> None:
    # Given two tokens for lab-system (from $CLIENTS_TABLE) and one admin token
    run(capsys, "create", "--client", "lab-system", "--scope", "alerts", "--stack", STACK)
    _, out, _ = run(capsys, "create", "--client", "ops", "--scope", "admin", "--scope", "alerts", "--stack", STACK)
    token = created_token(out)
    # When the operator lists tokens
    code, listing, _ = run(capsys, "list")
    # Then each token appears with its id, time and scopes, and neither token nor hash is shown
    assert code == 0
    lines = listing.strip().splitlines()
    assert lines[0] == "client\ttoken_id\tcreated_at\tscopes\ttier\tusage_key"
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


def test_rotation_two_tokens_work_a_third_is_refused_and_revoked_fails(clarion: Any, capsys: Any, usage: Any) -> None:
    # Given lab-system has two active tokens (the second made with the table alone: the client has its own key)
    first = created_token(run(capsys, "create", "--client", "lab-system", "--scope", "alerts", "--stack", STACK)[1])
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
    clarion: Any, capsys: Any, monkeypatch: pytest.MonkeyPatch, usage: Any
) -> None:
    from botocore.stub import Stubber

    # Given a token, and API Gateway (stubbed: the emulator has no authorizer cache to flush)
    _, out, _ = run(capsys, "create", "--client", "lab-system", "--scope", "alerts", "--stack", STACK)
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


def test_a_stack_that_cannot_be_read_is_one_sentence_and_nothing_is_revoked(
    clarion: Any, capsys: Any, usage: Any
) -> None:
    # Given a token, and a stack name that does not exist
    run(capsys, "create", "--client", "lab-system", "--scope", "alerts", "--stack", STACK)
    repo = ClientsRepo(clarion.env["CLIENTS_TABLE"])
    token_id = next(t.token_id for t in repo.tokens_of("lab-system"))
    # When the operator revokes naming that stack
    args = ["revoke", "--client", "lab-system", "--token-id", token_id, "--stack", "Clarion-nowhere-Data"]
    code, _, err = run(capsys, *args)
    # Then one sentence says why, with exit 2, and the token is still active (nothing half done)
    assert code == 2 and "cannot read stack Clarion-nowhere-Data" in err and "Traceback" not in err
    assert [t.token_id for t in repo.tokens_of("lab-system")] == [token_id]


@pytest.fixture
def usage(clarion: Any) -> Iterator[dict[str, str]]:
    """Two usage plans in the emulator's API Gateway, and a data/service stack pair (`Clarion-test-*`) whose outputs
    name them and the clients table, as a deployment's do; tier -> plan id. All of it removed afterwards."""
    apigateway, cfn = boto3.client("apigateway"), boto3.client("cloudformation")
    for key in apigateway.get_api_keys()["items"]:  # made by other tests' creates against the dev stacks
        apigateway.delete_api_key(apiKey=key["id"])
    plans = {tier: apigateway.create_usage_plan(name=f"test-{tier}")["id"] for tier in ("standard", "bulk")}
    outputs = {
        "Clarion-test-Data": {"ClientsTable": clarion.env["CLIENTS_TABLE"]},
        "Clarion-test-Service": {
            "UsagePlans": json.dumps(plans),
            "UsageTierDefault": "standard",
            "RestApiId": "a1b2c3",
        },
    }
    for name, values in outputs.items():
        template = {
            "Resources": {"Handle": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {key: {"Value": value} for key, value in values.items()},
        }
        cfn.create_stack(StackName=name, TemplateBody=json.dumps(template))
    yield plans
    for name in outputs:
        cfn.delete_stack(StackName=name)
    for plan in plans.values():
        for key in keys_in(plan):
            apigateway.delete_usage_plan_key(usagePlanId=plan, keyId=key)
        apigateway.delete_usage_plan(usagePlanId=plan)
    for key in apigateway.get_api_keys()["items"]:
        apigateway.delete_api_key(apiKey=key["id"])


def keys_in(plan: str) -> list[str]:
    return [k["id"] for k in boto3.client("apigateway").get_usage_plan_keys(usagePlanId=plan)["items"]]


def test_create_with_the_stack_gives_a_new_client_its_own_key_in_the_default_tier(
    clarion: Any, capsys: Any, usage: dict[str, str]
) -> None:
    # Given a deployment with standard (the default) and bulk usage plans
    plans = usage
    # When an operator creates a token for a new client, naming the stack
    code, out, _ = run(capsys, "create", "--client", "ehr", "--scope", "alerts", "--stack", "Clarion-test-Data")
    # Then the client has its own API key, in the standard plan only, and the authorizer will name its value
    assert code == 0, out
    placed = ClientsRepo(clarion.env["CLIENTS_TABLE"]).record_of("ehr").usage
    assert placed.tier == "standard" and placed.key_id and placed.key
    assert keys_in(plans["standard"]) == [placed.key_id] and keys_in(plans["bulk"]) == []
    assert boto3.client("apigateway").get_api_key(apiKey=placed.key_id, includeValue=True)["value"] == placed.key
    assert f"ehr is in tier standard with its own key {placed.key_id}." in out
    # And a second token for it keeps the same key
    run(capsys, "create", "--client", "ehr", "--scope", "alerts", "--stack", "Clarion-test-Data")
    assert ClientsRepo(clarion.env["CLIENTS_TABLE"]).record_of("ehr").usage == placed
    assert len(boto3.client("apigateway").get_api_keys()["items"]) == 1


def test_tier_moves_the_clients_key_to_the_other_plan(
    clarion: Any, capsys: Any, monkeypatch: pytest.MonkeyPatch, usage: dict[str, str]
) -> None:
    # Given a client with its own key in standard
    plans = usage
    run(capsys, "create", "--client", "ehr", "--scope", "alerts", "--stack", "Clarion-test-Data")
    key_id = ClientsRepo(clarion.env["CLIENTS_TABLE"]).record_of("ehr").usage.key_id
    # (the emulator has no authorizer cache to flush: its flush is recorded instead)
    apigateway, flushed = boto3.client("apigateway"), []
    apigateway.flush_stage_authorizers_cache = lambda **kw: flushed.append(kw)
    real_client = boto3.client
    monkeypatch.setattr(
        cli.boto3, "client", lambda name, **kw: apigateway if name == "apigateway" else real_client(name, **kw)
    )
    # When the operator moves it to bulk
    _, out, _ = run(capsys, "tier", "--client", "ehr", "--tier", "bulk", "--stack", "Clarion-test-Data")
    # Then the same key is in bulk and no longer in standard, and the client is recorded in bulk
    assert keys_in(plans["bulk"]) == [key_id] and keys_in(plans["standard"]) == []
    assert ClientsRepo(clarion.env["CLIENTS_TABLE"]).record_of("ehr").usage.tier == "bulk"
    assert f"ehr is in tier bulk with its own key {key_id}." in out
    # And the API's authorizer cache was flushed, so the cached answers naming the key's old plan end at once
    assert flushed == [{"restApiId": "a1b2c3", "stageName": "v1"}] and "the tier holds from now on" in out
    # And moving it again to where it is changes nothing
    _, out, _ = run(capsys, "tier", "--client", "ehr", "--tier", "bulk", "--stack", "Clarion-test-Data")
    assert "already in tier bulk" in out and keys_in(plans["bulk"]) == [key_id]


def test_an_unknown_tier_is_one_sentence_and_no_token_is_made(clarion: Any, capsys: Any, usage: dict[str, str]) -> None:
    # Given a deployment with standard and bulk
    # When a token is created in a tier that is not there
    code, _, err = run(
        capsys, "create", "--client", "ehr", "--scope", "alerts", "--tier", "gold", "--stack", "Clarion-test-Data"
    )
    # Then the operator is told the tiers there are, and nothing was stored or created
    assert code == 2 and "there is no tier 'gold'; the deployed tiers are bulk, standard" in err
    assert ClientsRepo(clarion.env["CLIENTS_TABLE"]).tokens_of("ehr") == []
    assert boto3.client("apigateway").get_api_keys()["items"] == []


def test_create_without_the_stack_is_refused_and_nothing_is_stored(clarion: Any, capsys: Any) -> None:
    # Given only the table (no stack: no usage plans to give a key in)
    table = clarion.env["CLIENTS_TABLE"]
    # When a token is created for a new client
    code, _, err = run(capsys, "create", "--client", "ehr", "--scope", "alerts", "--tier", "bulk", "--table", table)
    # Then it is refused in one sentence, before anything is stored: no client is made without its own key
    assert code == 2 and "create needs --stack: each client gets its own key" in err
    assert ClientsRepo(table).record_of("ehr").tokens == []
    # And `tier` without the stack likewise
    code, _, err = run(capsys, "tier", "--client", "ehr", "--tier", "standard", "--table", table)
    assert code == 2 and "tier needs --stack" in err


def test_keys_gives_each_client_that_shares_its_tiers_key_its_own(
    clarion: Any, capsys: Any, monkeypatch: pytest.MonkeyPatch, usage: dict[str, str]
) -> None:
    # Given two clients made before each had its own key (one in bulk, one in no tier), and one with its own key
    plans, table = usage, clarion.env["CLIENTS_TABLE"]
    repo = ClientsRepo(table)
    for client in ("lab-system", "ehr"):
        repo.add_token(client, tokens.generate(client, [tokens.Scope.ALERTS], "2026-01-01T00:00:00Z").stored)
    repo.set_usage("ehr", Usage("bulk", None, None))
    run(capsys, "create", "--client", "ops", "--scope", "admin", "--stack", STACK)
    own = repo.record_of("ops").usage
    listing = [line.split("\t") for line in run(capsys, "list", "--table", table)[1].splitlines()[1:]]
    assert [row[4:] for row in listing[:2]] == [["bulk", "shared"], ["(default)", "shared"]]
    apigateway, flushed = boto3.client("apigateway"), []
    apigateway.flush_stage_authorizers_cache = lambda **kw: flushed.append(kw)
    real_client = boto3.client
    monkeypatch.setattr(
        cli.boto3, "client", lambda name, **kw: apigateway if name == "apigateway" else real_client(name, **kw)
    )
    # When the operator runs `keys`
    code, out, _ = run(capsys, "keys", "--stack", STACK)
    # Then each of the two has its own key, in its tier's plan (the default's for the one with none)
    assert code == 0, out
    ehr, lab = repo.record_of("ehr").usage, repo.record_of("lab-system").usage
    assert ehr.tier == "bulk" and ehr.key and lab.tier == "standard" and lab.key
    assert sorted(keys_in(plans["standard"])) == sorted([lab.key_id, own.key_id]) and keys_in(plans["bulk"]) == [
        ehr.key_id
    ]
    assert len({ehr.key, lab.key, own.key}) == 3
    # And the one that had its own key kept it, the operator is told, and the authorizer cache was flushed
    assert repo.record_of("ops").usage == own
    assert f"ehr is in tier bulk with its own key {ehr.key_id}." in out and "ops" not in out
    assert flushed == [{"restApiId": "a1b2c3", "stageName": "v1"}]
    # And run again, it changes nothing
    assert run(capsys, "keys", "--stack", STACK)[1].strip() == "Every client has its own key."
