"""The embedded emulator: moto's server, with three performance bridges and three fidelity bridges.

`start_emulator` launches it in its own process on a free port (so its state never mixes with in-process mocks);
`python -m clarion_local.emulator -H 127.0.0.1 -p PORT` runs moto's own server after
- narrowing one of moto's search paths: a DynamoDB `Query` on a table's own key gathers every item of the table,
  sorts them all, then keeps those of the queried partition. Clarion's delivery log is queried by partition at
  every routing step, so a run of thousands of alerts slows to a crawl (quadratic). The bridge hands that search
  only the queried partition; the results are the same (`tests/integration/test_emulator.py` compares both ways);
- telling the time cheaply when SQS asks every message of a queue whether it is visible or delayed (it does so
  on every send and receive, so a backlog of thousands makes each call slow): the same epoch milliseconds from
  `time.time()` instead of a datetime computed per message;
- remembering the list of moto's service modules, which its request router otherwise reads from the disk (a
  directory listing and a `stat` per service) on every request.
And, for fidelity: moto's long-polling SQS receive waits for a new message, or a second, before it looks again,
so a delayed message (a window's timer) or one whose visibility timeout ends came up to a second late;
`wake_long_polls_when_due` wakes it when the soonest of them comes due, as SQS's does. Moto's CloudFormation creates
every `AWS::KMS::Key` as a symmetric encryption key, whatever its `KeySpec` and `KeyUsage`; `honour_kms_key_spec`
makes it create the HMAC key that signs acknowledgement links as the template says (the integration tests apply it
to in-process moto too). And moto's DynamoDB checks a write's
condition and then writes, with no lock between, so two concurrent conditional puts of one key could both succeed
(the concurrency suite saw two different bodies of one `message_id` accepted); `atomic_dynamodb_writes` makes each
write atomic, as DynamoDB's are.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

_partition = threading.local()


def narrow_partition_queries() -> None:
    """Make moto's base-table Query read only the queried partition. Idempotent."""
    from moto.dynamodb.models.table import Table

    if getattr(Table, "_clarion_narrowed", False):
        return
    query, all_items = Table.query, Table.all_items

    def narrowed_query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        # `index_name` is the eighth parameter after `hash_key`'s neighbours; moto passes it by position.
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        if index_name is not None or hash_key is None:
            return query(self, hash_key, *args, **kwargs)
        _partition.target = (self, hash_key)
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            _partition.target = None

    def narrowed_all_items(self: Any) -> Any:
        target = getattr(_partition, "target", None)
        if target is None or target[0] is not self:
            return all_items(self)
        bucket = self.items.get(target[1])
        if bucket is None:
            return []
        items = list(bucket.values()) if self.range_key_attr else [bucket]
        return sorted(items, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)

    Table.query = narrowed_query  # type: ignore[method-assign]
    Table.all_items = narrowed_all_items  # type: ignore[method-assign]
    Table._clarion_narrowed = True  # type: ignore[attr-defined]


def cheap_sqs_clock() -> None:
    from moto.sqs.models import Message

    def visible(self: Any) -> bool:
        return time.time() * 1000 > self.visible_at

    def delayed(self: Any) -> bool:
        return time.time() * 1000 < self.delayed_until

    Message.visible = property(visible)  # type: ignore[method-assign,assignment]
    Message.delayed = property(delayed)  # type: ignore[method-assign,assignment]


def wake_long_polls_when_due() -> None:
    """A long-polling receive that found nothing waits for a new message or the next message to come due (its delay
    or visibility timeout ending), whichever is first; moto's waits for a new one or a second. Idempotent."""
    from moto.sqs.models import Queue

    def wait_for_messages(self: Any, timeout: int) -> None:
        with self._messages_lock:
            now = time.time() * 1000
            # visible after `visible_at`, no longer delayed at `delayed_until` (cheap_sqs_clock)
            due = (max(m.visible_at + 1, m.delayed_until) for m in list(self._messages))
            soonest = min((d for d in due if d > now), default=now + timeout * 1000)
            wake = (soonest - now) / 1000 + 0.001  # and those due in the same millisecond with it
            self._messages_lock.wait_for(lambda: self.messages, timeout=min(timeout, wake))

    Queue.wait_for_messages = wait_for_messages  # type: ignore[method-assign]


def remember_service_modules() -> None:
    from moto import backends

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]


def honour_kms_key_spec() -> None:
    """Create a template's KMS key with its own KeySpec and KeyUsage. Idempotent."""
    from moto.kms.models import Key, kms_backends

    if getattr(Key, "_clarion_key_spec", False):
        return
    original = Key.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create(
        cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kw: Any
    ) -> Any:
        properties = cloudformation_json["Properties"]
        spec = properties.get("KeySpec", "SYMMETRIC_DEFAULT")
        if spec == "SYMMETRIC_DEFAULT":
            return original(cls, resource_name, cloudformation_json, account_id, region_name, **kw)
        key = kms_backends[account_id][region_name].create_key(
            policy=properties["KeyPolicy"],
            key_usage=properties.get("KeyUsage", "ENCRYPT_DECRYPT"),
            key_spec=spec,
            description=properties.get("Description"),
            tags=properties.get("Tags", []),
        )
        key.enabled = properties.get("Enabled", True)
        return key

    Key.create_from_cloudformation_json = classmethod(create)  # type: ignore[method-assign,assignment]
    Key._clarion_key_spec = True  # type: ignore[attr-defined]


_WRITES = threading.RLock()


def atomic_dynamodb_writes() -> None:
    """Check-and-write of every DynamoDB write under one lock, as DynamoDB's conditional writes are atomic."""
    from moto.dynamodb.models import DynamoDBBackend

    if getattr(DynamoDBBackend, "_clarion_atomic", False):
        return
    for name in ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item"):
        original = getattr(DynamoDBBackend, name, None)
        if original is None:
            continue

        def atomic(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with _WRITES:
                return _original(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, atomic)
    DynamoDBBackend._clarion_atomic = True  # type: ignore[attr-defined]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_emulator(log_path: Path, timeout: float = 60) -> tuple[str, Callable[[], None]]:
    """A moto server in its own process on a free port: (endpoint URL, stop)."""
    port = free_port()
    log = log_path.open("ab")
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments, no shell
        [sys.executable, "-m", "clarion_local.emulator", "-H", "127.0.0.1", "-p", str(port)],
        cwd=ROOT,
        stdout=log,
        stderr=log,
    )

    def stop() -> None:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
        log.close()

    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                stop()
                raise RuntimeError(f"the emulator did not start; see {log_path}") from None
            time.sleep(0.1)
    return f"http://127.0.0.1:{port}", stop


def main() -> None:
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access-log line per request
    narrow_partition_queries()
    cheap_sqs_clock()
    wake_long_polls_when_due()
    remember_service_modules()
    honour_kms_key_spec()
    atomic_dynamodb_writes()
    from moto.server import main as moto_main

    moto_main(sys.argv[1:])


if __name__ == "__main__":
    main()
