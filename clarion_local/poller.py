"""The SQS event source mapping, as Lambda runs it: poll the queue, invoke the function with a batch, delete
what succeeded.

One receiver per mapping receives only for its free invokers (the mapping's maximum concurrency, each running one
batch at a time) and hands the batches over, so a slow invocation never holds back the next receive; its long poll
wakes when a delayed message comes due (the emulator's `wake_long_polls_when_due`). With `ReportBatchItemFailures`
the messages named in `batchItemFailures` stay on the queue; a failed invocation (error or timeout) leaves the whole
batch. Either way they come back after the queue's visibility timeout, and the queue's redrive policy moves them to
the dead-letter queue after its max receive count — the emulator's queue does that, exactly as configured in the
template.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from clarion_local.functions import InvocationError
from clarion_local.stack import QueueSource


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One record of an SQS event, as Lambda builds it from a received message."""
    attributes = message.get("MessageAttributes", {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value["DataType"],
            }
            for name, value in attributes.items()
        },
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


class QueuePoller:
    """One mapping: a receiver thread handing batches of up to `batch_size` to up to `max_concurrency` invokers."""

    def __init__(self, sqs: Any, source: QueueSource, invoke: Callable[[Any], Any], wait_seconds: int = 1) -> None:
        self.sqs = sqs
        self.source = source
        self.queue_url = source.queue_url
        self.invoke = invoke
        self.wait_seconds = wait_seconds
        attributes = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]
        self.queue_arn = attributes["QueueArn"]
        self.region = self.queue_arn.split(":")[3]
        self._stop = threading.Event()
        self.running = threading.Event()  # cleared: the mapping is disabled (no polling) until set again
        self.running.set()
        self._receiver = threading.Thread(target=self._run, name="sqs-receiver", daemon=True)
        self._invokers = ThreadPoolExecutor(source.max_concurrency, thread_name_prefix="sqs-invoker")
        self.busy = 0  # batches being invoked
        self.invocations = 0
        self.polling = 0  # receives and invocations under way: 0 once `running` is cleared, all done
        self.errors: list[str] = []
        self._lock = threading.Condition()

    def start(self) -> QueuePoller:
        self._receiver.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            self._lock.notify_all()
        self._receiver.join(self.wait_seconds + 65)
        self._invokers.shutdown(wait=True)

    @staticmethod
    def stop_all(pollers: list[QueuePoller]) -> None:
        """Stop `pollers` together: every one told first, so their receives under way end in one wait, not one each."""
        for poller in pollers:
            poller._stop.set()
        for poller in pollers:
            poller.stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self.running.wait(0.5):
                continue
            with self._lock:  # receive only for free invokers: the rest stays on the queue, as the service leaves it
                free = self._lock.wait_for(lambda: self.busy < self.source.max_concurrency or self._stop.is_set(), 0.5)
                if not free or not self.running.is_set() or self._stop.is_set():
                    continue
                free_invokers = self.source.max_concurrency - self.busy
                self.polling += 1
            try:
                for batch in self.receive(free_invokers):
                    self._hand(batch)
            except Exception as error:  # keep polling, as the service does; the error is kept for the user
                with self._lock:
                    self.errors.append(f"{type(error).__name__}: {error}")
                self._stop.wait(1)
            finally:
                with self._lock:
                    self.polling -= 1

    def receive(self, free_invokers: int) -> list[list[dict[str, Any]]]:
        """Batches for up to `free_invokers` invocations: one receive (a long poll), then, with a batching window,
        more until a whole batch or the window's end."""
        size = self.source.batch_size
        messages = self._receive(min(10, size * free_invokers), self.wait_seconds)
        window_end = time.monotonic() + self.source.batching_window
        while messages and len(messages) < size and (left := window_end - time.monotonic()) > 0:
            more = self._receive(min(10, size - len(messages)), int(left))
            messages += more
            if not more:
                self._stop.wait(min(left, 0.05))
        return [messages[i : i + size] for i in range(0, len(messages), size)]

    def _receive(self, count: int, wait_seconds: int) -> list[dict[str, Any]]:
        return list(
            self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=count,
                WaitTimeSeconds=wait_seconds,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
        )

    def _hand(self, batch: list[dict[str, Any]]) -> None:
        with self._lock:
            self.busy += 1
            self.polling += 1
            self.invocations += 1
        self._invokers.submit(self._invoke, batch)

    def _invoke(self, messages: list[dict[str, Any]]) -> None:
        """Invoke the function with one batch and delete what it handled; a free invoker again either way."""
        event = {"Records": [sqs_record(m, self.queue_arn, self.region) for m in messages]}
        try:
            self.settle(messages, self.invoke(event))
        except Exception as error:  # a failed invocation (or delete): the batch returns after the visibility timeout
            with self._lock:
                self.errors.append(
                    str(error) if isinstance(error, InvocationError) else f"{type(error).__name__}: {error}"
                )
        finally:
            with self._lock:
                self.busy -= 1
                self.polling -= 1
                self._lock.notify_all()

    def settle(self, messages: list[dict[str, Any]], response: Any) -> None:
        """Delete the messages the function handled: all but those named in `batchItemFailures`."""
        failed = set()
        if self.source.report_batch_item_failures and isinstance(response, dict):
            failed = {f["itemIdentifier"] for f in response.get("batchItemFailures") or []}
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start:][:10])],
            )
