"""Many callers at once: the same alert, and the same message_id with different bodies."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.system.conftest import Api, new_alert

CALLERS = 50


def test_fifty_concurrent_identical_posts_deliver_once(api: Api) -> None:
    # Given one alert, posted by 50 callers at the same moment
    body = new_alert(priority="M")
    with ThreadPoolExecutor(CALLERS) as pool:
        answers = list(pool.map(lambda _: api.call("POST", "/alerts", body, api.client_token), range(CALLERS)))
    # Then each answer is the accepted alert, or "in progress" for those that arrived while it was being accepted
    codes = [a[0] for a in answers]
    assert 202 in codes
    assert all(a[1]["error"]["code"] == "in_progress" for a in answers if a[0] == 409), answers
    assert set(codes) <= {202, 409}
    assert all(a[1]["channels"] == ["sms", "email"] for a in answers if a[0] == 202)
    # And it is delivered exactly once
    assert api.wait(body["message_id"])["status"] == "delivered"
    assert len(api.outbox_of(body["message_id"])) == 1


def test_fifty_concurrent_posts_with_different_bodies_accept_exactly_one(api: Api) -> None:
    # Given 50 bodies sharing one message_id
    first = new_alert(priority="M")
    bodies = [{**first, "description": f"Result {i} ready"} for i in range(CALLERS)]
    with ThreadPoolExecutor(CALLERS) as pool:
        answers = list(pool.map(lambda b: api.call("POST", "/alerts", b, api.client_token), bodies))
    # Then exactly one is accepted and every other is refused with 409
    codes = sorted(a[0] for a in answers)
    assert codes == [202] + [409] * (CALLERS - 1)
    assert {a[1]["error"]["code"] for a in answers if a[0] == 409} <= {"conflict", "in_progress"}
    # And only the accepted body is delivered, once
    accepted = next(i for i, a in enumerate(answers) if a[0] == 202)
    api.wait(first["message_id"])
    [sent] = api.outbox_of(first["message_id"])
    assert f"Result {accepted} ready" in sent["text"]
