"""What the suites share: waiting for a condition, calling an HTTP API as a well-behaved client does, and the
builders of what the Lambda runtime hands a handler (a context, an SQS event's records)."""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from clarion_local import poller

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T | None], timeout: float = 30, interval: float = 0.1, message: str | Callable[[], str] = ""
) -> T:
    """What `predicate()` returns once it is truthy, asked every `interval` seconds; after `timeout` seconds an
    AssertionError saying `message` (or a callable's answer) and what the predicate returned last."""
    deadline = time.monotonic() + timeout
    while True:
        seen = predicate()
        if seen:
            return seen
        if time.monotonic() >= deadline:
            said = message() if callable(message) else message
            raise AssertionError(f"waited {timeout} s in vain{': ' + said if said else ''} (last seen: {seen!r})")
        time.sleep(interval)


def retry_after_s(value: str | None) -> float:
    """Seconds to wait as a `Retry-After` header says: a number of seconds or an HTTP date; 1 when absent."""
    if not value:
        return 1.0
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return 1.0


def request(
    method: str,
    url: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60,
    patience: float = 60,
) -> tuple[int, bytes]:
    """One HTTP request to `url`; (status, body). Answered 429, it waits as `Retry-After` says and asks again, for
    up to `patience` seconds in all (then the 429 is the answer): the API's own throttling is not a test failure."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return _exchange(parts.scheme == "https", parts.netloc, method, target, body, headers or {}, timeout, patience)


def http_call(
    port: int, method: str, path: str, body: bytes | None, headers: dict[str, str], timeout: float = 60
) -> tuple[int, bytes]:
    """`clarion_local.system.http_call` (one request to the local API on 127.0.0.1:`port`, `path` sent as given),
    honouring 429 as `request` does."""
    return _exchange(False, f"127.0.0.1:{port}", method, path, body, headers, timeout, patience=60)


def _exchange(
    tls: bool,
    netloc: str,
    method: str,
    target: str,
    body: bytes | None,
    headers: dict[str, str],
    timeout: float,
    patience: float,
) -> tuple[int, bytes]:
    connection = http.client.HTTPSConnection if tls else http.client.HTTPConnection
    give_up = time.monotonic() + patience
    while True:
        conn = connection(netloc, timeout=timeout)
        try:
            conn.request(method, target, body=body, headers=headers)
            response = conn.getresponse()
            status, payload, retry_after = response.status, response.read(), response.getheader("Retry-After")
        finally:
            conn.close()
        pause = retry_after_s(retry_after)
        if status != 429 or time.monotonic() + pause > give_up:
            return status, payload
        time.sleep(pause)  # as long as the server asked: here time is the subject


FULL_BUDGET_MS = 60_000  # a handler's whole time budget, as a fresh context counts it
QUEUE_ARN = "arn:aws:sqs:eu-west-2:123456789012:q"


@dataclass
class FakeContext:
    """The Lambda context the runtime passes a handler; its remaining time follows `budgets_ms`, one value per
    question (the last one repeats)."""

    budgets_ms: list[int] = field(default_factory=lambda: [FULL_BUDGET_MS])
    function_name: str = "clarion-test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:eu-west-2:123456789012:function:clarion-test"
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return self.budgets_ms.pop(0) if len(self.budgets_ms) > 1 else self.budgets_ms[0]


def sqs_record(message: dict[str, Any], queue_arn: str = QUEUE_ARN, region: str = "eu-west-2") -> dict[str, Any]:
    """One record of an SQS event, as Lambda's event source mapping builds it from a received message (`MessageId`,
    `ReceiptHandle`, `Body`; `Attributes` and `MessageAttributes` when it has them): the local system's builder."""
    return poller.sqs_record(message, queue_arn, region)
