"""A client's own API key in its tier's usage plan, for `python -m tools.tokens` (create, tier, keys).

API Gateway holds each key of a usage plan to the plan's rate, burst and daily quota on its own; the authorizer
names the client's key as its usage identifier. The key is created once per client and moved between plans when its
tier changes; its value is kept with the client (it opens nothing: the API reads keys from the authorizer only).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from clarion.adapters.clients_repo import ClientsRepo, Usage

__all__ = ["OUTPUT", "Usage", "UsageKeyError", "plan_of", "register", "register_keyless"]
OUTPUT = "UsagePlans"  # the service stack's output: JSON tier -> usage plan id


class UsageKeyError(Exception):
    """A tier or plan the operator named that is not there; printed without a traceback."""


def plan_of(plans: dict[str, str], tier: str) -> str:
    if tier not in plans:
        raise UsageKeyError(f"there is no tier {tier!r}; the deployed tiers are {', '.join(sorted(plans))}")
    return plans[tier]


def register(apigateway: Any, repo: ClientsRepo, client: str, tier: str, plans: dict[str, str]) -> str:
    """Put `client`'s own key (created if it has none) in `tier`'s plan, and record it; what was done."""
    plan = plan_of(plans, tier)
    usage = repo.record_of(client).usage
    key_id, key = usage.key_id, usage.key
    if key_id and key:
        if usage.tier == tier and _in_plan(apigateway, plan, key_id):
            return f"{client} is already in tier {tier} with its own key."
        old = plans.get(usage.tier or "")
        if old and old != plan:
            try:
                apigateway.delete_usage_plan_key(usagePlanId=old, keyId=key_id)
            except ClientError as error:
                if error.response["Error"]["Code"] != "NotFoundException":
                    raise
    else:
        created = apigateway.create_api_key(
            name=f"clarion-{client}", description=f"Clarion client {client}: its usage identifier", enabled=True
        )
        key_id, key = str(created["id"]), str(created["value"])
    if not _in_plan(apigateway, plan, key_id):
        apigateway.create_usage_plan_key(usagePlanId=plan, keyId=key_id, keyType="API_KEY")
    repo.set_usage(client, Usage(tier, key_id, key))
    return f"{client} is in tier {tier} with its own key {key_id}."


def register_keyless(apigateway: Any, repo: ClientsRepo, plans: dict[str, str], default_tier: str) -> list[str]:
    """Give each client with no key of its own one, in its recorded tier's plan (the default tier's when it has none
    or its tier is not deployed); what was done, a line per client."""
    done = []
    for client, record in repo.list_records().items():
        if not record.usage.key:
            tier = record.usage.tier if record.usage.tier in plans else default_tier
            done.append(register(apigateway, repo, client, str(tier), plans))
    return done


def _in_plan(apigateway: Any, plan: str, key_id: str) -> bool:
    try:
        apigateway.get_usage_plan_key(usagePlanId=plan, keyId=key_id)
    except ClientError as error:
        if error.response["Error"]["Code"] == "NotFoundException":
            return False
        raise
    return True
