"""The SQS event source mapping, as Lambda runs it: poll the queue, invoke the function with a batch, delete
what succeeded.

With `ReportBatchItemFailures` the messages named in `batchItemFailures` stay on the queue; a failed invocation
(error or timeout) leaves the whole batch. Either way they come back after the queue's visibility timeout, and
the queue's redrive policy moves them to the dead-letter queue after its max receive count — the emulator's
queue does that, exactly as configured in the template.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from clarion_local.functions import FunctionPool, InvocationError


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
    """`pollers` threads, each receiving up to `batch_size` messages and invoking `pool` with them."""

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        pool: FunctionPool,
        batch_size: int,
        report_batch_item_failures: bool,
        pollers: int = 2,
        wait_seconds: int = 1,
    ) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.pool = pool
        self.batch_size = batch_size
        self.report_failures = report_batch_item_failures
        self.wait_seconds = wait_seconds
        attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
        self.queue_arn = attributes["QueueArn"]
        self.region = self.queue_arn.split(":")[3]
        self._stop = threading.Event()
        self.running = threading.Event()  # cleared: the mapping is disabled (no polling) until set again
        self.running.set()
        self._threads = [
            threading.Thread(target=self._run, name=f"sqs-poller-{i}", daemon=True) for i in range(pollers)
        ]
        self.invocations = 0
        self.polling = 0  # polls under way (a receive, then its invocation): 0 once `running` is cleared, all done
        self.errors: list[str] = []
        self._lock = threading.Lock()

    def start(self) -> QueuePoller:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(self.wait_seconds + 65)

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
            with self._lock:
                if not self.running.is_set():
                    continue
                self.polling += 1
            try:
                self.poll_once()
            except Exception as error:  # keep polling, as the service does; the error is kept for the user
                with self._lock:
                    self.errors.append(f"{type(error).__name__}: {error}")
                self._stop.wait(1)
            finally:
                with self._lock:
                    self.polling -= 1

    def poll_once(self) -> int:
        """Receive one batch and hand it to the function; the number of messages received."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=self.wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        event = {"Records": [sqs_record(m, self.queue_arn, self.region) for m in messages]}
        with self._lock:
            self.invocations += 1
        try:
            response = self.pool.invoke(event)
        except InvocationError as error:
            with self._lock:
                self.errors.append(str(error))
            return len(messages)  # the batch stays; it returns after the visibility timeout
        failed = set()
        if self.report_failures and isinstance(response, dict):
            failed = {f["itemIdentifier"] for f in response.get("batchItemFailures") or []}
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start:][:10])],
            )
        return len(messages)
