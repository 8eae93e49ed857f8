"""The local event source mappings keep time under load, in real time against the local system's emulator: a delayed
message reaches an idle poller as it comes due; a burst due together is handed out at once while slow invocations
run, never more batches at once than the mapping's maximum concurrency; and each mapping of the template is polled
with its own batch size and maximum concurrency, its function warm to it."""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.config import Config

from clarion_local.poller import QueuePoller
from clarion_local.stack import QueueSource
from clarion_local.system import LocalClarion
from tests.helpers import wait_until
from tests.synth import Synth


class Handler:
    """A function that notes when each batch reached it and takes `seconds` to answer (none of them failed)."""

    def __init__(self, seconds: float = 0) -> None:
        self.seconds = seconds
        self.batches: list[tuple[float, list[dict[str, Any]]]] = []  # (epoch seconds handed, records)
        self.running = self.most = 0
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.batches.append((time.time(), event["Records"]))
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(self.seconds)  # time is the subject: a slow invocation
        with self._lock:
            self.running -= 1
        return {"batchItemFailures": []}

    def handed(self) -> dict[str, float]:
        """message id -> how late it reached the function after its due time (sent + DelaySeconds, 1 s here)."""
        return {
            r["messageId"]: at - (int(r["attributes"]["SentTimestamp"]) + 1000) / 1000
            for at, records in self.batches
            for r in records
        }


@contextmanager
def mapping(local: LocalClarion, handler: Handler, batch_size: int, max_concurrency: int) -> Iterator[Any]:
    """A new queue in the local system's emulator, polled for `handler` as a mapping with these settings."""
    sqs = local.client("sqs", config=Config(max_pool_connections=max_concurrency + 1))
    url = sqs.create_queue(QueueName=f"clarion-poller-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    poller = QueuePoller(sqs, QueueSource("Test", url, batch_size, True, max_concurrency), handler).start()
    try:
        wait_until(lambda: poller.polling == 1, 5, 0.01, "the poller never started its first receive")
        yield sqs, url
    finally:
        QueuePoller.stop_all([poller])
        sqs.delete_queue(QueueUrl=url)
    assert poller.errors == []


def test_a_delayed_message_reaches_an_idle_poller_within_50_ms_of_its_due_time(local: LocalClarion) -> None:
    # Given an idle poller, waiting in its receive, and a control: a thread of this process that wakes at each due time
    handler = Handler()
    control = Control(10)
    with mapping(local, handler, batch_size=1, max_concurrency=2) as (sqs, url):
        # When timers are sent a tenth of a second apart, each delayed by a second (so they come due during receives)
        for i in range(10):
            sent = sqs.send_message(QueueUrl=url, MessageBody=f"timer {i}", DelaySeconds=1)
            control.wake_at(sent["MessageId"], time.time() + 1)
            time.sleep(0.1)  # time is the subject: due times spread across the receive's wait
        wait_until(lambda: len(handler.handed()) == 10, 10, 0.05, "not every timer reached the function")
        control.join()
    # Then each reached the function within 50 ms of its due time (p50), beyond what the control was late: a pause of
    # the whole process (a garbage collection on this shared machine) delays both alike, a poller that slept on does not
    late = handler.handed()
    lateness = sorted(late.values())
    beyond = sorted(late[m] - control.late[m] for m in late)
    p50, most = statistics.median(beyond), beyond[-1]
    print(f"\ndelayed message to the function after its due time: {[round(s * 1000) for s in lateness]} ms; beyond the")
    print(f"control's: p50 {p50 * 1000:.0f} ms, max {most * 1000:.0f} ms")
    assert lateness[0] > -0.002, f"a message came before it was due: {lateness}"
    assert p50 < 0.05, f"p50 {p50 * 1000:.0f} ms after due beyond the control: {beyond}"
    assert most < 0.25, f"max {most * 1000:.0f} ms after due beyond the control: {beyond}"


class Control:
    """One thread of this process that sleeps until each due time in turn and notes how late it woke."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.due: list[tuple[str, float]] = []
        self.late: dict[str, float] = {}
        self._thread = threading.Thread(target=self._run, daemon=True)

    def wake_at(self, key: str, epoch: float) -> None:
        self.due.append((key, epoch))
        if not self._thread.is_alive():
            self._thread.start()

    def _run(self) -> None:
        done = 0
        while done < self.count:
            if done == len(self.due):
                time.sleep(0.005)
                continue
            key, epoch = self.due[done]
            time.sleep(max(0.0, epoch - time.time()))  # time is the subject: the control's own wake
            self.late[key] = time.time() - epoch
            done += 1

    def join(self) -> None:
        self._thread.join(5)
        assert len(self.late) == self.count, "the control thread did not wake at every due time"


@pytest.mark.parametrize(("batch_size", "max_concurrency"), [(1, 20), (10, 2)])
def test_a_burst_due_together_is_handed_out_while_slow_invocations_run(
    local: LocalClarion, batch_size: int, max_concurrency: int
) -> None:
    # Given a mapping whose function takes a second per batch, and more timers than it may take at once
    handler = Handler(seconds=1.0)
    wave = batch_size * max_concurrency
    with mapping(local, handler, batch_size, max_concurrency) as (sqs, url):
        # When they all come due in the same second
        for start in range(0, wave + 5, 10):
            ids = range(start, min(start + 10, wave + 5))
            entries = [{"Id": str(i), "MessageBody": f"timer {i}", "DelaySeconds": 1} for i in ids]
            assert not sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed")
        wait_until(lambda: len(handler.handed()) == wave + 5, 10, 0.05, "not every timer reached the function")
        wait_until(lambda: queue_is_empty(sqs, url), 15, 0.05, "what the function handled was not deleted")
    # Then as many batches as the mapping allows reached the function at once, none waiting for another's invocation
    late = handler.handed()
    first_wave = sorted(late.values())[:wave]
    print(f"\nburst of {wave + 5}, batches of {batch_size}: the first {wave} handed within {first_wave[-1]:.2f} s")
    assert first_wave[-1] < 0.5, f"the first {wave} were handed over {first_wave[-1]:.2f} s after their due time"
    # And never more than its maximum concurrency, the others handed as soon as a batch ended
    assert handler.most == max_concurrency
    rest = sorted(late.values())[wave:]
    assert rest[0] > 0.9 and rest[-1] < 1.5, f"the last 5 were handed {rest} s after their due time"
    # And each batch held at most the batch size, each message handed once
    assert max(len(records) for _, records in handler.batches) == batch_size
    assert sum(len(records) for _, records in handler.batches) == len(late) == wave + 5


def queue_is_empty(sqs: Any, url: str) -> bool:
    counts = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=counts)["Attributes"]
    return all(attributes[c] == "0" for c in counts)


def test_each_mapping_is_polled_as_the_template_says_with_its_function_warm(local: LocalClarion, dev: Synth) -> None:
    # Given the template's SQS event source mappings
    expected = {
        m["Properties"]["FunctionName"]["Ref"]: (
            m["Properties"]["BatchSize"],
            m["Properties"]["ScalingConfig"]["MaximumConcurrency"],
            m["Properties"]["MaximumBatchingWindowInSeconds"],
        )
        for m in dev.resources("AWS::Lambda::EventSourceMapping").values()
    }
    # Then the local system polls each with its batch size, maximum concurrency and batching window
    polled = {p.source.function: p.source for p in local.pollers}
    assert {f: (s.batch_size, s.max_concurrency, s.batching_window) for f, s in polled.items()} == expected
    # And each function's pool holds as many warm workers as its mapping may run batches at once
    assert {f: local.pools[f].workers for f in polled} == {f: e[1] for f, e in expected.items()}
