"""System fixtures: the whole local system (emulator, deployed assembly, functions, API), driven over HTTP."""

from __future__ import annotations

import contextlib
import json
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from clarion_local import samples
from clarion_local.system import LocalClarion
from tests.helpers import http_call, wait_until
from tests.synth import Synth


@dataclass
class Witness:
    """What must never leak: every token and patient reference the suites used, and every answer they got."""

    tokens: set[str] = field(default_factory=set)
    patients: set[str] = field(default_factory=set)
    answers: list[str] = field(default_factory=list)
    replies: set[str] = field(default_factory=set)  # what the clinicians' phones replied

    def leaks(self, system: LocalClarion) -> list[str]:
        assert system.log_dir is not None
        places = {f"log {p.name}": p.read_text(errors="replace") for p in system.log_dir.glob("*.log")}
        places["events"] = json.dumps(system.events())
        places["outbox"] = json.dumps(system.outbox())
        places["answers"] = "\n".join(self.answers)
        secrets = {f"token {t[:18]}...": t for t in self.tokens} | {f"patient {p}": p for p in self.patients}
        found = [f"{what} in {where}" for where, text in places.items() for what, s in secrets.items() if s in text]
        # And what reached the clinicians stays out of Clarion's own logs: destinations, texts, reply codes
        logs = {k: v for k, v in places.items() if k.startswith("log ") and k != "log emulator.log"}
        destinations = {str(e["destination"]) for e in system.outbox()}
        for where, text in logs.items():
            seen = set(re.findall(r"\+\d{7,15}|[\w.+-]+@[\w-]+\.[\w.]+", text)) & destinations
            found += [f"destination {d} in {where}" for d in sorted(seen)]
            found += [f"message text {m.group(0)!r} in {where}" for m in MESSAGE_TEXT.finditer(text)]
            found += [f"reply {r[:20]!r} in {where}" for r in self.replies if r in text]
        return found


# What only a message's text holds: the SMS's reply line, the answers to replies, the notices, the suites' description
MESSAGE_TEXT = re.compile(
    r"Reply \d{6} to acknowledge|Clarion: \d{6} (acknowledged|declined)|Clarion: taken by|Potassium 6\.9 mmol/L"
)
WITNESS = Witness()
# An alert that reached nobody: counted by the router (no acknowledgement needed), by the escalator (its walk
# ended with nobody reached) or by the dead-letters function; the AlertsUnroutable alarm watches their sum.
UNROUTABLE = ("router.AlertsUnroutable", "escalator.AlertsUnroutable", "dead-letters.AlertsUnroutable")


@dataclass
class Api:
    """A plain HTTP client of the local API, as an integrator's code would be."""

    port: int
    client_token: str
    admin_token: str

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        sent = {"Content-Type": "application/json", **(headers or {})}
        if token:
            sent["Authorization"] = token
        status, payload = http_call(self.port, method, path, data, sent)
        if not path.startswith("/_local/"):
            WITNESS.answers.append(payload.decode(errors="replace"))
        if path == "/_local/sms/reply" and isinstance(body, dict) and len(str(body.get("text", ""))) >= 6:
            WITNESS.replies.add(str(body["text"]))
        try:
            return status, json.loads(payload) if payload else None
        except ValueError:
            return status, payload.decode(errors="replace")

    def post_alert(self, **fields: Any) -> tuple[int, Any, dict[str, Any]]:
        body = new_alert(**fields)
        status, answer = self.call("POST", "/alerts", body, self.client_token)
        return status, answer, body

    def outbox_of(self, message_id: str) -> list[dict[str, Any]]:
        _, entries = self.call("GET", "/_local/outbox")
        return [e for e in entries if e.get("message_id") == message_id]

    def metrics(self) -> dict[str, float]:
        return dict(self.call("GET", "/_local/metrics")[1])

    def metric_reaches(self, key: str | tuple[str, ...], value: float, timeout: float = 10) -> float:
        """The metric (or the sum of several) once it reaches `value` (a function flushes its metrics as it
        returns)."""
        keys = (key,) if isinstance(key, str) else key
        seen: list[float] = []

        def reached() -> bool:
            seen.append(self.total(keys))
            return seen[-1] >= value

        wait_until(reached, timeout, message=lambda: f"{keys} at {seen[-1]}, not {value}")
        return seen[-1]

    def total(self, keys: tuple[str, ...]) -> float:
        metrics = self.metrics()
        return sum(metrics.get(k, 0) for k in keys)

    def fault(self, channel: str, mode: str, **amount: float) -> None:
        status, answer = self.call("POST", "/_local/faults", {"channel": channel, "mode": mode, **amount})
        assert status == 201, answer

    def view(self, message_id: str) -> dict[str, Any]:
        status, view = self.call("GET", f"/alerts/{message_id}", token=self.client_token)
        assert status == 200, view
        return dict(view)

    @staticmethod
    def until(found: Any, timeout: float = 30) -> Any:
        """What `found()` returns once it is truthy."""
        return wait_until(found, timeout, interval=0.05)

    def wait(self, message_id: str, timeout: float = 60) -> dict[str, Any]:
        """The alert's view once it is delivered or failed."""
        seen: list[Any] = []

        def ended() -> dict[str, Any] | None:
            status, view = self.call("GET", f"/alerts/{message_id}", token=self.client_token)
            seen.append(view)
            return dict(view) if status == 200 and view["status"] in ("delivered", "failed") else None

        return wait_until(ended, timeout, message=lambda: f"{message_id} still {seen[-1]}")


# The queues that hold the system's work: a visible message is work to do now, one in flight work under way, and a
# delayed one (a window's timer, a receipt's deadline) work for later
WORK_QUEUES = ("AlertQueueUrl", "ReceiptsQueueUrl", "RepliesQueueUrl", "TimerQueueUrl")


def idle(system: LocalClarion) -> bool:
    """Nothing for the system to do now: no work queue holds a message to handle or being handled, no provider's
    receipt is on its way (the local providers send them from timer threads) and no call waits for a keypress."""
    if any(isinstance(t, threading.Timer) and t.is_alive() for t in threading.enumerate()):
        return False
    if system.bridge.receipts is not None and system.bridge.receipts.ringing:
        return False
    sqs, counts = system.client("sqs"), ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    for name in WORK_QUEUES:
        with contextlib.suppress(KeyError):  # (an assembly without two-way SMS has no replies queue)
            attributes = sqs.get_queue_attributes(QueueUrl=system.deployment.output(name), AttributeNames=counts)
            if any(attributes["Attributes"][c] != "0" for c in counts):
                return False
    return True


def wait_idle(system: LocalClarion, timeout: float = 30) -> None:
    """Until the system is `idle` at two looks in a row (work moves from one queue to the next between looks)."""
    looks: list[bool] = []

    def twice() -> bool:
        looks.append(idle(system))
        return looks[-2:] == [True, True]

    wait_until(twice, timeout, 0.1, "the local system never fell idle")


def new_alert(**fields: Any) -> dict[str, Any]:
    patient = f"anon-{uuid.uuid4().hex[:10]}"
    WITNESS.patients.add(patient)
    body = {
        "message_id": f"e2e-{uuid.uuid4().hex[:12]}",
        "type": "blood_test_alert",
        "patient_id": patient,
        "contact_id": "C-1",
        "description": "Potassium 6.9 mmol/L on ward 7",
        "priority": "M",
    }
    body.update(fields)
    return body


@contextmanager
def watched(assembly: Path) -> Iterator[LocalClarion]:
    """A local system of `assembly`; when the suite is done with it, no token or patient reference may be found in
    any function log, published event, outbox entry or API answer."""
    with LocalClarion(port=0, assembly=assembly) as system:
        assert system.client_token and system.admin_token
        WITNESS.tokens.update({system.client_token, system.admin_token})
        yield system
        assert WITNESS.leaks(system) == []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The system suites run after every other suite, and schemathesis after every other system suite: the shared
    system then lives only while they run, and the fuzzer's contacts, policies and alerts (still walking their
    escalation policies when it ends) disturb no suite that counts alerts, messages or metrics after it."""
    here = Path(__file__).parent

    def order(item: pytest.Item) -> tuple[bool, bool]:
        return here in item.path.parents, item.path.name == "test_schemathesis.py"

    items.sort(key=order)  # stable: each group keeps its order


@pytest.fixture(scope="session")
def local(dev: Synth) -> Iterator[LocalClarion]:
    """The one local system of the dev assembly that every system suite shares (started once: a start deploys
    both stacks into a new emulator and starts every function's workers). Those that cannot share it start their
    own and say why: test_commands.py (the start itself is what it tests) and test_sns_sms_status.py (another
    assembly)."""
    with watched(dev.assembly) as system:
        LOADED[system.port] = stored_samples(system)
        yield system


# The sample contacts as the shared system last loaded them (port -> contacts table items)
LOADED: dict[int, list[dict[str, Any]]] = {}


def stored_samples(system: LocalClarion) -> list[dict[str, Any]]:
    """The sample contacts as the contacts table holds them, with when each was written (one read, no API call)."""
    table = system.deployment.output("ContactsTable")
    keys = [{"contact_id": {"S": contact_id}} for contact_id in samples.CONTACTS]
    got = system.client("dynamodb").batch_get_item(RequestItems={table: {"Keys": keys, "ConsistentRead": True}})
    return sorted(got["Responses"][table], key=lambda item: str(item["contact_id"]["S"]))


@pytest.fixture
def api(local: LocalClarion) -> Iterator[Api]:
    assert local.client_token and local.admin_token
    client = Api(local.port, local.client_token, local.admin_token)
    client.call("DELETE", "/_local/faults")
    # The fuzzers hold an admin token and may have changed a sample contact: if any was written since they were
    # last loaded, they are loaded again through the API
    if stored_samples(local) != LOADED[local.port]:
        for contact_id, contact in samples.CONTACTS.items():
            assert client.call("PUT", f"/contacts/{contact_id}", contact, client.admin_token)[0] in (200, 201)
        LOADED[local.port] = stored_samples(local)
    yield client
    client.call("DELETE", "/_local/faults")
