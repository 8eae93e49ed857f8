"""Each client's own rate, burst and daily quota, over the local API: a client over its tier's plan is answered 429
with Retry-After, and nobody else is slowed by it."""

from __future__ import annotations

import http.client
import json
import secrets
import time
from concurrent.futures import ThreadPoolExecutor

from clarion.adapters.clients_repo import Usage
from clarion.domain.tokens import Scope
from clarion_local.system import LocalClarion
from clarion_local.usage import Plan
from tests.system.conftest import WITNESS

STANDARD_RATE, STANDARD_BURST = 20, 40  # cdk.json's dev tier `standard`


def get(port: int, token: str, path: str = "/alerts/usage-probe") -> tuple[int, str | None, bytes]:
    """One request, its 429 taken as it comes (not retried as the suites' client does): here it is the subject."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers={"Authorization": token})
        response = conn.getresponse()
        return response.status, response.getheader("Retry-After"), response.read()
    finally:
        conn.close()


def test_a_client_over_its_tiers_burst_gets_429_with_retry_after_and_the_others_do_not(local: LocalClarion) -> None:
    # Given a new client with its own key in the standard tier (20/s, burst 40)
    token = local.add_client("usage-burst", Scope.ALERTS, "standard")
    WITNESS.tokens.add(token)
    plan = local.usage.plans[json.loads(local.deployment.output("UsagePlans"))["standard"]]
    assert (plan.rate, plan.burst) == (STANDARD_RATE, STANDARD_BURST)
    # When it sends 300 requests from 48 callers at once
    started = time.monotonic()
    with ThreadPoolExecutor(48) as pool:
        answers = list(pool.map(lambda _: get(local.port, token), range(300)))
        # (and meanwhile the sample client asks too)
        sample = get(local.port, local.client_token or "")
    elapsed = time.monotonic() - started
    passed = [a for a in answers if a[0] != 429]
    throttled = [a for a in answers if a[0] == 429]
    # Then its whole burst passed, and no more than its rate refilled meanwhile
    assert {a[0] for a in passed} == {404}  # the probe alert does not exist: answered by the handler
    assert STANDARD_BURST <= len(passed) <= STANDARD_BURST + STANDARD_RATE * elapsed + 1, (len(passed), elapsed)
    # And the rest were told to retry after a second, in Clarion's error format
    assert throttled
    assert {a[1] for a in throttled} == {"1"}
    assert {json.loads(a[2])["error"]["code"] for a in throttled} == {"throttled"}
    # And the sample client, with its own key, was not slowed by it
    assert sample[0] == 404
    # And a second later the client may send again
    time.sleep(1.1)  # time is the subject: the rate refills the bucket
    assert get(local.port, token)[0] == 404


def test_a_client_over_its_daily_quota_gets_429_with_retry_after_and_nobody_else_is_slowed(local: LocalClarion) -> None:
    # Given a plan of 5 requests a day (beside the template's, as API Gateway's CreateUsagePlan makes one; the
    # template's quotas are far above what a test can send), and two clients each with its own key in it
    local.usage.add_plan(Plan("plan-quota-probe", "quota-probe", rate=50, burst=100, daily_quota=5))
    tokens = []
    for client in ("usage-quota-a", "usage-quota-b"):
        token, _ = local.issue_token(client, Scope.ALERTS)
        key = secrets.token_hex(20)
        local.usage.register(key, "plan-quota-probe")
        local.clients_repo().set_usage(client, Usage("standard", f"local-{client}", key))
        tokens.append(token)
    WITNESS.tokens.update(tokens)
    spender, neighbour = tokens
    # When the first sends 8 requests
    answers = [get(local.port, spender) for _ in range(8)]
    # Then its quota's 5 were answered by the handler, and the rest by the gateway: 429, retry in an hour, in
    # Clarion's error format naming the spent quota
    assert [a[0] for a in answers] == [404] * 5 + [429] * 3
    assert {a[1] for a in answers[5:]} == {"3600"}
    errors = [json.loads(a[2])["error"] for a in answers[5:]]
    assert {e["code"] for e in errors} == {"quota_exceeded"} and all("daily quota" in e["message"] for e in errors)
    # And nobody else was slowed: the other client of the plan, and the sample client, are answered as before
    assert [get(local.port, neighbour)[0] for _ in range(5)] == [404] * 5
    assert get(local.port, local.client_token or "")[0] == 404
    # And the spender stays refused (its quota renews only with the UTC day)
    assert get(local.port, spender)[0] == 429


def test_clients_without_their_own_key_share_their_tiers_key(local: LocalClarion) -> None:
    # Given two clients in the default tier with no key of their own (made before each client had its own, until
    # `tools.tokens keys` gives them one)
    first, _ = local.issue_token("usage-shared-a", Scope.ALERTS)
    second, _ = local.issue_token("usage-shared-b", Scope.ALERTS)
    WITNESS.tokens.update({first, second})
    assert get(local.port, first)[0] == get(local.port, second)[0] == 404  # (their authorizer answers cached)
    time.sleep(0.2)  # time is the subject: the shared key's bucket refills to its whole burst first
    # When both send at once, 150 requests each
    started = time.monotonic()
    with ThreadPoolExecutor(48) as pool:
        answers = list(pool.map(lambda i: (i % 2, get(local.port, (first, second)[i % 2])[0]), range(300)))
    elapsed = time.monotonic() - started
    # Then both were throttled, and together they passed no more than one client's budget
    passed = [who for who, status in answers if status != 429]
    assert {who for who, status in answers if status == 429} == {0, 1}
    assert len(passed) <= STANDARD_BURST + STANDARD_RATE * elapsed + 1, (len(passed), elapsed)


def test_a_usage_key_in_no_plan_is_clarions_403(local: LocalClarion) -> None:
    # Given a client whose own key is in no usage plan (removed from API Gateway by hand)
    token, _ = local.issue_token("usage-ghost", Scope.ALERTS)
    WITNESS.tokens.add(token)
    local.clients_repo().set_usage("usage-ghost", Usage("standard", "gone", "clarion0000000000000000000000000000"))
    # When it calls
    status, _, body = get(local.port, token)
    # Then API Gateway's answer is 403 in Clarion's format, naming what to ask for
    assert status == 403
    error = json.loads(body)["error"]
    assert error["code"] == "forbidden" and "usage plan" in error["message"]
