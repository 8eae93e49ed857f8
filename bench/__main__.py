"""`make bench`: Clarion's speed on this machine, as ratios inside one run (these machines are shared and noisy).

Prints a table and writes bench/results.json; exits 1 when a correctness check fails (`bench/verdict.py`), never
for a timing. Sizes come from the environment: BENCH_INTAKE (default 2000 alerts), BENCH_BURST (default 10000
alerts), BENCH_CALLERS (default 16 concurrent callers), BENCH_LOOP (default 50 alerts per closed-loop figure,
`bench/loop.py`), BENCH_PHONES (default 30 alerts per figure from the phone, `bench/phones.py`), BENCH_TIMERS
(default 1000 alerts whose windows end in the same second, `bench/timers.py`; measured last, so what their
acknowledgements and returning timers leave to do runs beside no other figure).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import loop, phones, timers, verdict
from clarion_local.stack import zip_directory
from clarion_local.system import LocalClarion, http_call, synthesize

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "results.json"
INTAKE = int(os.environ.get("BENCH_INTAKE", "2000"))
BURST = int(os.environ.get("BENCH_BURST", "10000"))
CALLERS = int(os.environ.get("BENCH_CALLERS", "16"))
STALL_S = 300  # the burst's wait gives up once no alert has ended for this long
HANDLERS = ["authorizer", "intake", "contacts", "router", "dialer", "escalator", "links"]

# Why each AWS call an alert costs is needed (keyed as /_local/calls names them).
WHY = {
    "dynamodb.GetItem": (
        "the contact (intake checks it before accepting, the router reads its destinations); on a token's first"
        " request, the authorizer's read of the client's token hashes (cached 5 minutes after)"
    ),
    "dynamodb.PutItem": (
        "idempotency record (intake), the alert record (intake), an attempt's `pending` mark before its send and"
        " its outcome after (router)"
    ),
    "dynamodb.UpdateItem": "idempotency record completed (intake); the alert's final status (router)",
    "dynamodb.Query": "the alert's record and attempts, once per invocation (router: where to resume)",
    "sqs.SendMessage": (
        "the durable accept: the alert on the queue before 202; for an alert that needs an acknowledgement, the"
        " addressee's window timer too (intake); a check for the escalator when a recipient is unreachable or"
        " declines"
    ),
    "kms.GenerateMac": "the signature of an SMS's or email's acknowledgement link (router), checked on use (links)",
    "sqs.ChangeMessageVisibility": "release a message early when the time budget runs out",
    "sns.Publish": "a status event on the alert-events topic, or the SMS itself",
    "ses.SendTemplatedEmail": "the email itself",
    "connect.PUT contact": "the call itself (StartOutboundVoiceContact)",
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def alert(contact: str = "C-2", priority: str = "M") -> dict[str, str]:
    return {
        "message_id": f"bench-{uuid.uuid4().hex}",
        "type": "blood_test_alert",
        "patient_id": "anon-bench",
        "contact_id": contact,
        "description": "Potassium 6.9 mmol/L on ward 7",
        "priority": priority,
    }


class Bench:
    def __init__(self, system: LocalClarion) -> None:
        self.system = system
        assert system.client_token
        self.headers = {"Authorization": system.client_token, "Content-Type": "application/json"}

    def post(self, body: dict[str, str]) -> tuple[int, float]:
        started = time.perf_counter()
        status, _ = http_call(self.system.port, "POST", "/alerts", json.dumps(body).encode(), self.headers)
        return status, time.perf_counter() - started

    def calls(self, reset: bool = False) -> Counter[str]:
        _, payload = http_call(self.system.port, "DELETE" if reset else "GET", "/_local/calls", None, {})
        return Counter(json.loads(payload))

    def wait_ended(self, message_ids: list[str], stall_s: float = STALL_S) -> tuple[float, dict[str, str]]:
        """Seconds until every alert has ended, or none more has for `stall_s`, and how each that did ended
        ("delivered" or "failed"), read from the status events the router publishes."""
        wanted = set(message_ids)
        started = progressed = time.monotonic()
        ended: dict[str, str] = {}
        while True:
            before = len(ended)
            for event in self.system.events():
                message = event["message"]
                if message.get("message_id") in wanted and message.get("status") in ("delivered", "failed"):
                    ended[message["message_id"]] = message["status"]
            now = time.monotonic()
            progressed = now if len(ended) > before else progressed
            if len(ended) == len(wanted) or now - progressed > stall_s:
                return now - started, ended
            time.sleep(0.5)


# --- the baseline: the same minimal AWS calls intake makes, straight at the emulator ------------------


class Baseline:
    """One durable accept done by hand: idempotency put, contact read, alert put, enqueue, idempotency update,
    event publish. No API, no authorizer, no function process, no validation."""

    def __init__(self, system: LocalClarion) -> None:
        deployment = system.deployment
        self.ddb = system.client("dynamodb")
        self.sqs = system.client("sqs")
        self.sns = system.client("sns")
        self.idempotency = deployment.output("IdempotencyTable")
        self.contacts = deployment.output("ContactsTable")
        self.delivery = deployment.output("DeliveryLogTable")
        self.queue = deployment.output("AlertQueueUrl")
        self.topic = deployment.output("AlertEventsTopicArn")

    def accept(self, body: dict[str, str]) -> float:
        started = time.perf_counter()
        key = {"id": {"S": f"baseline#{body['message_id']}"}}
        self.ddb.put_item(
            TableName=self.idempotency,
            Item={**key, "status": {"S": "INPROGRESS"}},
            ConditionExpression="attribute_not_exists(id)",
        )
        self.ddb.get_item(TableName=self.contacts, Key={"contact_id": {"S": body["contact_id"]}}, ConsistentRead=True)
        self.ddb.put_item(
            TableName=self.delivery,
            Item={"pk": {"S": f"baseline#{body['message_id']}"}, "sk": {"S": "baseline"}},
            ConditionExpression="attribute_not_exists(pk)",
        )
        self.sqs.send_message(QueueUrl=self.queue + "-baseline", MessageBody=json.dumps(body))
        self.ddb.update_item(
            TableName=self.idempotency,
            Key=key,
            UpdateExpression="SET #s = :c",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":c": {"S": "COMPLETED"}},
        )
        self.sns.publish(TopicArn=self.topic, Message=json.dumps({"status": "accepted"}))
        return time.perf_counter() - started


# --- the measurements ---------------------------------------------------------------------------------


def measure_intake(bench: Bench, baseline: Baseline) -> dict[str, Any]:
    local = [bench.post(alert(contact="C-4", priority="L")) for _ in range(INTAKE)]
    assert all(status == 202 for status, _ in local), Counter(s for s, _ in local)
    direct = [baseline.accept(alert()) for _ in range(INTAKE)]
    ours = [t for _, t in local]
    local_ms = {"p50": percentile(ours, 50) * 1000, "p99": percentile(ours, 99) * 1000}
    baseline_ms = {"p50": percentile(direct, 50) * 1000, "p99": percentile(direct, 99) * 1000}
    return {
        "alerts": INTAKE,
        "local_api_ms": local_ms,
        "baseline_ms": baseline_ms,
        "ratio_p50": local_ms["p50"] / baseline_ms["p50"],
        "ratio_p99": local_ms["p99"] / baseline_ms["p99"],
    }


def measure_calls(bench: Bench, system: LocalClarion) -> dict[str, Any]:
    def one(contact: str, priority: str, fault: dict[str, Any] | None = None) -> tuple[Counter[str], Counter[str]]:
        for poller in system.pollers:  # routing waits until intake's calls are counted
            poller.running.clear()
        time.sleep(1.5)  # a receive already waiting (1 s long poll) ends first
        bench.calls(reset=True)
        body = alert(contact, priority)
        status, _ = bench.post(body)
        assert status == 202
        intake = bench.calls()
        if fault:
            http_call(system.port, "POST", "/_local/faults", json.dumps(fault).encode(), {})
        bench.calls(reset=True)
        for poller in system.pollers:
            poller.running.set()
        _, ended = bench.wait_ended([body["message_id"]], stall_s=60)  # the events: a GET would count its calls
        assert ended, f"{body['message_id']} not ended after 60 s"
        time.sleep(0.5)
        return intake, bench.calls()

    intake, happy = one("C-2", "M")
    _, fallback = one("C-2", "M", {"channel": "sms", "mode": "reject", "count": 1})
    http_call(system.port, "DELETE", "/_local/faults", None, {})
    return {
        "intake": dict(intake),
        "routing_happy_path": dict(happy),
        "routing_one_fallback": dict(fallback),
        "why": WHY,
    }


def measure_cold_start(assembly: Path, rounds: int = 15) -> dict[str, Any]:
    """Import times in fresh interpreters, as deployed by default (`sdk_tracing` false: no X-Ray SDK) and with
    `sdk_tracing` true, beside `import boto3` alone. Each round imports boto3 and then every handler, one after
    the other, and a handler's ratio is the median over rounds of its time / boto3's time in the same round, so
    the machine's load drifting during the measurement moves both sides alike."""

    code_dir = next(p for p in assembly.glob("asset.*") if (p / "clarion").is_dir())
    layer = next(p / "python" for p in assembly.glob("asset.*") if (p / "python").is_dir())
    paths = [str(code_dir), str(layer)]

    def import_time(module: str, sdk_tracing: bool = False) -> float:
        code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(paths),
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_SERVICE_NAME": "bench",
            "POWERTOOLS_TRACE_DISABLED": "false" if sdk_tracing else "true",
        }
        done = subprocess.run(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        return float(done.stdout.strip())

    boto3_times: list[float] = []
    times: dict[str, list[float]] = {h: [] for h in HANDLERS}
    ratios: dict[str, list[float]] = {h: [] for h in HANDLERS}
    traced: dict[str, list[float]] = {h: [] for h in HANDLERS}
    for _ in range(rounds):
        boto3_alone = import_time("boto3")
        boto3_times.append(boto3_alone)
        for handler in HANDLERS:
            seconds = import_time(f"clarion.handlers.{handler}")
            times[handler].append(seconds)
            ratios[handler].append(seconds / boto3_alone)
            traced[handler].append(import_time(f"clarion.handlers.{handler}", sdk_tracing=True) / boto3_alone)
    return {
        "rounds": rounds,
        "import_boto3_s": statistics.median(boto3_times),
        "import_handler_s": {h: statistics.median(t) for h, t in times.items()},
        "ratio_to_boto3": {h: statistics.median(r) for h, r in ratios.items()},
        "with_sdk_tracing_ratio_to_boto3": {h: statistics.median(r) for h, r in traced.items()},
        "asset_zip_bytes": _zip_size(code_dir),
    }


def _zip_size(directory: Path) -> int:
    """Bytes of `directory` zipped as the deployment zips an asset."""
    return len(zip_directory(directory))


def measure_burst(bench: Bench, baseline: Baseline, system: LocalClarion) -> dict[str, Any]:
    bodies = [alert(contact="C-2", priority="M") for _ in range(BURST)]
    started = time.monotonic()
    with ThreadPoolExecutor(CALLERS) as pool:
        answers = list(pool.map(bench.post, bodies))
    accepted_s = time.monotonic() - started
    accepted = [b["message_id"] for b, (status, _) in zip(bodies, answers, strict=True) if status == 202]
    waited_s, ended = bench.wait_ended(accepted)
    delivered_s = accepted_s + waited_s
    _, outbox = http_call(system.port, "GET", "/_local/outbox", None, {})
    sends = Counter(e["message_id"] for e in json.loads(outbox))
    lost = [m for m in accepted if sends[m] == 0]
    duplicated = [m for m in accepted if sends[m] > 1]
    started = time.monotonic()
    with ThreadPoolExecutor(CALLERS) as pool:
        list(pool.map(baseline.accept, [alert() for _ in range(BURST)]))
    baseline_s = time.monotonic() - started
    return {
        "alerts": BURST,
        "callers": CALLERS,
        "accepted": len(accepted),
        "refused": Counter(str(s) for s, _ in answers if s != 202),
        "accepted_per_s": len(accepted) / accepted_s,
        "delivered_per_s": len(accepted) / delivered_s,
        "baseline_accepts_per_s": BURST / baseline_s,
        "ratio_accept_to_baseline": (len(accepted) / accepted_s) / (BURST / baseline_s),
        "lost": len(lost),
        "duplicated": len(duplicated),
        "failed": sum(1 for m in accepted if ended.get(m) == "failed"),
        "not_ended": sum(1 for m in accepted if m not in ended),
    }


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def report(results: dict[str, Any]) -> str:
    intake, cold, burst = results["intake"], results["cold_start"], results["burst"]
    lines = [
        f"Clarion bench on {results['machine']['platform']} ({results['machine']['cpus']} CPUs)",
        "",
        f"intake, {intake['alerts']} alerts, one caller      local API   baseline   ratio (target <= 2)",
        *(
            f"  {q} POST -> 202               {intake['local_api_ms'][q]:8.1f} ms {intake['baseline_ms'][q]:8.1f} ms"
            f"   {intake[f'ratio_{q}']:.2f}"
            for q in ("p50", "p99")
        ),
        "",
        "AWS calls per alert (counted at the SDK's endpoint)",
    ]
    for phase in ("intake", "routing_happy_path", "routing_one_fallback"):
        counts = results["calls"][phase]
        lines.append(f"  {phase:22} {sum(counts.values()):3}  " + ", ".join(f"{k} x{v}" for k, v in counts.items()))
    lines += ["", f"cold start: import in a fresh interpreter, median of {cold['rounds']} rounds (target <= 1.5x)"]
    lines.append(f"  import boto3                {cold['import_boto3_s'] * 1000:7.1f} ms           with sdk_tracing")
    for handler, seconds in cold["import_handler_s"].items():
        ratio, traced = cold["ratio_to_boto3"][handler], cold["with_sdk_tracing_ratio_to_boto3"][handler]
        lines.append(f"  clarion.handlers.{handler:10} {seconds * 1000:7.1f} ms   {ratio:.2f}x   {traced:.2f}x")
    lines.append(f"  zipped code asset           {cold['asset_zip_bytes'] / 1024:7.1f} KB (target <= 200 KB)")
    lines += [
        "",
        f"burst: {burst['alerts']} alerts from {burst['callers']} callers",
        f"  accepted {burst['accepted_per_s']:.0f}/s, delivered {burst['delivered_per_s']:.0f}/s; "
        f"baseline accepts {burst['baseline_accepts_per_s']:.0f}/s (ratio {burst['ratio_accept_to_baseline']:.2f})",
        f"  accepted {burst['accepted']}, lost {burst['lost']}, duplicated {burst['duplicated']}, "
        f"failed {burst['failed']}, not ended {burst['not_ended']}",
        "",
        *loop.report(results["loop"]),
        "",
        *phones.report(results["phones"]),
        "",
        *timers.report(results["timers"]),
    ]
    return "\n".join(lines)


def main() -> int:
    started = time.monotonic()
    assembly = Path(sys.argv[1]) if len(sys.argv) > 1 else synthesize(ROOT / ".build" / "bench-cdk.out")
    say = lambda message: print(f"==> [{time.monotonic() - started:6.1f} s] {message}", flush=True)  # noqa: E731
    results: dict[str, Any] = {"machine": machine()}
    say("cold start: importing each handler in fresh interpreters")
    results["cold_start"] = measure_cold_start(assembly)
    with LocalClarion(port=0, assembly=assembly, progress=say) as system:
        bench, baseline = Bench(system), Baseline(system)
        baseline.sqs.create_queue(QueueName=baseline.queue.rsplit("/", 1)[1] + "-baseline")
        say("AWS calls per alert")
        results["calls"] = measure_calls(bench, system)
        say(f"intake latency: {INTAKE} alerts through the local API, then the baseline (routing paused)")
        for poller in system.pollers:
            poller.running.clear()
        results["intake"] = measure_intake(bench, baseline)
        sqs = system.client("sqs")
        sqs.purge_queue(QueueUrl=baseline.queue)  # the intake-only alerts are not routed
        for poller in system.pollers:
            poller.running.set()
        say(f"closed loop: stage lateness and acknowledgements, {loop.LOOP} alerts each")
        results["loop"] = loop.measure_loop(system)
        say(f"from the phone: receipts, SMS replies and keypresses, {phones.PHONES} alerts each")
        results["phones"] = phones.measure_phones(system)
        say(f"burst: {BURST} alerts from {CALLERS} callers")
        results["burst"] = measure_burst(bench, baseline, system)
        say(f"timers: {timers.TIMERS} alerts whose addressee windows end in the same second")
        results["timers"] = timers.measure_timers(system)
    results["seconds"] = time.monotonic() - started
    results["correctness_failures"] = failed = verdict.failures(results)
    OUT.write_text(json.dumps(results, indent=1, default=str) + "\n")
    print()
    print(report(results))
    print(f"\nwritten to {OUT.relative_to(ROOT)} in {results['seconds']:.0f} s")
    print(verdict.final_line(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
