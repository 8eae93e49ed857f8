"""Create, list and revoke client tokens; place clients in usage tiers.

    python -m tools.tokens create --client lab-system --scope alerts [--scope admin] [--tier NAME] --stack NAME
    python -m tools.tokens tier --client lab-system --tier bulk --stack NAME
    python -m tools.tokens keys --stack NAME
    python -m tools.tokens list [--table NAME | --stack NAME]
    python -m tools.tokens revoke --client lab-system --token-id tok-1a2b3c4d [--table NAME | --stack NAME]
                                  [--api-id ID]

The table is `--table`, else the data stack's `ClientsTable` output (`--stack`), else $CLIENTS_TABLE.
A token is printed once, on create; only its SHA-256 is stored. A client may hold two active tokens:
to rotate, create the second, switch the client to it, then revoke the old one. A revoke also flushes the API
stage's authorizer cache (`--api-id`, else the `RestApiId` output of the data stack's service stack), so API Gateway
stops accepting the token at once rather than up to 5 minutes later.

Each client has its own rate, burst and daily quota: its own API key in its tier's usage plan (`usage_tiers` in
cdk.json), which the service stack's plans hold, hence `--stack`. `create` gives a new client its key (`--tier`,
else the deployment's default tier), `tier` moves a client to another tier, and `keys` gives every client made
before each had its own (and so sharing its tier's key with the others) a key of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import boto3

from clarion.adapters.clients_repo import ClientsRepo
from clarion.domain import tokens
from clarion.domain.errors import ClarionError
from clarion.names import ENV_CLIENTS_TABLE
from tools import usage_keys

STACK_OUTPUT = "ClientsTable"  # CfnOutput of the data stack


class UsageError(Exception):
    """A mistake the operator can fix; printed without a traceback."""


def _describe(stack: str) -> dict[str, Any]:
    try:
        return dict(boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0])
    except Exception as error:  # botocore's errors name the stack; the operator needs only that
        raise UsageError(f"cannot read stack {stack} ({type(error).__name__})") from None


def table_from_stack(stack: str) -> str:
    described = _describe(stack)
    for output in described.get("Outputs", []):
        if output["OutputKey"] == STACK_OUTPUT:
            return str(output["OutputValue"])
    raise UsageError(f"stack {stack} has no {STACK_OUTPUT} output; pass --table instead")


def resolve_table(args: argparse.Namespace) -> str:
    if args.table:
        return str(args.table)
    if args.stack:
        return table_from_stack(args.stack)
    if os.environ.get(ENV_CLIENTS_TABLE):
        return os.environ[ENV_CLIENTS_TABLE]
    raise UsageError(f"name the clients table with --table or --stack (or set {ENV_CLIENTS_TABLE})")


def create(repo: ClientsRepo, client: str, scopes: Sequence[str]) -> str:
    if not tokens.is_client_id(client):
        raise UsageError("--client must be 1-63 characters of a-z, 0-9 and '-', starting with a letter or digit")
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    issued = tokens.generate(client, [tokens.Scope(s) for s in scopes], now)
    repo.add_token(client, issued.stored)
    return (
        f"Created token {issued.stored.token_id} for {client} (scopes: {', '.join(sorted(scopes))}).\n"
        "It is shown only this once; give it to the client system now:\n"
        f"{issued.token}"
    )


def placing(repo: ClientsRepo, args: argparse.Namespace) -> Callable[[], str] | None:
    """What puts the client in its tier, checked before anything is written: its own key in the tier's plan (a
    client that has one keeps it unless --tier names another; only then is --stack not needed)."""
    usage = repo.record_of(args.client).usage
    if usage.key and not args.tier:
        return None
    if not args.stack:
        raise UsageError(
            f"{args.command} needs --stack: each client gets its own key in its tier's usage plan, which the "
            "service stack holds"
        )
    plans = json.loads(service_output(args.stack, usage_keys.OUTPUT))
    tier = args.tier or usage.tier or service_output(args.stack, "UsageTierDefault")
    usage_keys.plan_of(plans, tier)
    return lambda: usage_keys.register(boto3.client("apigateway"), repo, args.client, tier, plans)


def list_tokens(repo: ClientsRepo) -> str:
    rows = ["client\ttoken_id\tcreated_at\tscopes\ttier\tusage_key"]
    for client, record in repo.list_records().items():
        tier = record.usage.tier or "(default)"
        key = record.usage.key_id or "shared"
        for token in record.tokens:
            scopes = " ".join(sorted(token.scopes))
            rows.append(f"{client}\t{token.token_id}\t{token.created_at}\t{scopes}\t{tier}\t{key}")
    if len(rows) == 1:
        return "No active tokens."
    return "\n".join(rows)


API_STAGE = "v1"  # stacks.constructs.api.STAGE


def revoke(repo: ClientsRepo, client: str, token_id: str, api_id: str | None) -> str:
    if not repo.revoke_token(client, token_id):
        raise UsageError(f"{client} has no active token {token_id}; see `python -m tools.tokens list`")
    done = f"Revoked token {token_id} of {client}."
    if api_id is None:
        return f"{done} API Gateway may accept it for up to its cache TTL (5 minutes): pass --api-id to flush it."
    boto3.client("apigateway").flush_stage_authorizers_cache(restApiId=api_id, stageName=API_STAGE)
    return f"{done} The API's authorizer cache is flushed: it is refused from now on."


def service_output(stack: str, key: str) -> str:
    """Output `key` of the service stack beside the data stack `stack`."""
    service = re.sub(r"-Data$", "-Service", stack)
    for output in _describe(service).get("Outputs", []):
        if output["OutputKey"] == key:
            return str(output["OutputValue"])
    raise UsageError(f"stack {service} has no {key} output" + ("; pass --api-id" if key == "RestApiId" else ""))


def api_id_of(args: argparse.Namespace) -> str | None:
    """The REST API whose authorizer cache a revoke flushes: --api-id, else the data stack's service stack's."""
    if args.api_id or not args.stack:
        return str(args.api_id) if args.api_id else None
    return service_output(str(args.stack), "RestApiId")


def tier(repo: ClientsRepo, args: argparse.Namespace) -> str:
    place = placing(repo, args)
    return (place() if place else "") + _flushed(args, "the tier holds from now on")


def keys(repo: ClientsRepo, args: argparse.Namespace) -> str:
    """Give every client that shares its tier's key one of its own."""
    if not args.stack:
        raise UsageError("keys needs --stack: each client gets its own key in its tier's usage plan")
    plans = json.loads(service_output(args.stack, usage_keys.OUTPUT))
    default = service_output(args.stack, "UsageTierDefault")
    done = usage_keys.register_keyless(boto3.client("apigateway"), repo, plans, default)
    if not done:
        return "Every client has its own key."
    return "\n".join(done) + _flushed(args, "each holds from now on")


def _flushed(args: argparse.Namespace, holds: str) -> str:
    """Flush the stage's authorizer cache (its answers name a client's old key for up to 5 minutes); what to say."""
    api_id = api_id_of(args)
    if not api_id:
        return ""
    boto3.client("apigateway").flush_stage_authorizers_cache(restApiId=api_id, stageName=API_STAGE)
    return f" The API's authorizer cache is flushed: {holds}."


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m tools.tokens", description="Manage Clarion client tokens.")
    where = argparse.ArgumentParser(add_help=False)
    group = where.add_mutually_exclusive_group()
    group.add_argument("--table", help="clients table name")
    group.add_argument("--stack", help=f"data stack whose {STACK_OUTPUT} output names the clients table")
    commands = top.add_subparsers(dest="command", required=True)
    make = commands.add_parser("create", parents=[where], help="create a token (printed once)")
    make.add_argument("--client", required=True, help="client system id, e.g. lab-system")
    make.add_argument(
        "--scope", required=True, action="append", choices=[s.value for s in tokens.Scope], help="repeatable"
    )
    make.add_argument("--tier", help="usage tier (cdk.json usage_tiers); default: the deployment's default")
    move = commands.add_parser("tier", parents=[where], help="give a client its own key in a tier's usage plan")
    move.add_argument("--client", required=True)
    move.add_argument("--tier", required=True, help="usage tier (cdk.json usage_tiers)")
    move.add_argument("--api-id", help="REST API whose authorizer cache to flush (default: from --stack)")
    own = commands.add_parser("keys", parents=[where], help="give each client that shares its tier's key its own")
    own.add_argument("--api-id", help="REST API whose authorizer cache to flush (default: from --stack)")
    commands.add_parser("list", parents=[where], help="list active tokens (ids, creation time, scopes)")
    drop = commands.add_parser("revoke", parents=[where], help="revoke a token")
    drop.add_argument("--client", required=True)
    drop.add_argument("--token-id", required=True)
    drop.add_argument("--api-id", help="REST API whose authorizer cache to flush (default: from --stack)")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        repo = ClientsRepo(resolve_table(args))
        if args.command == "create":
            place = placing(repo, args) if tokens.is_client_id(args.client) else None
            print(create(repo, args.client, sorted(set(args.scope))))
            if place:
                print(place())
        elif args.command == "tier":
            print(tier(repo, args))
        elif args.command == "keys":
            print(keys(repo, args))
        elif args.command == "list":
            print(list_tokens(repo))
        else:
            print(revoke(repo, args.client, args.token_id, api_id_of(args)))
    except (UsageError, usage_keys.UsageKeyError, ClarionError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
