"""Send the alerts the router gave up on back to it, once their cause is fixed.

    python -m tools.redrive --stack Clarion-prod-Data [--dry-run]
    python -m tools.redrive --table NAME --queue-url URL [--dry-run]

The dead-letters function ended each such alert `failed` (reason `dead_lettered`) and parked its queue message in
the delivery log. For each parked message this reopens the alert, queues the message on the alert queue and
unparks it; the router then resumes from the delivery log, so nothing already sent is sent again. Running it
twice sends nothing more: a message is unparked once queued, and an alert that ended meanwhile is not reopened.
Parked receipts and SMS replies go back on their own queues (named by the data stack's outputs), where their
functions act on them as they would have; parked timers are listed and left parked, as their walks were moved on
or ended when they were drained (docs/runbook.md).
The stack is the data stack (outputs DeliveryLogTable and AlertQueueUrl). Set AWS_ENDPOINT_URL for the emulator.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import boto3

from clarion.adapters import dead_letters, delivery_log
from clarion.domain.models import Alert
from clarion.names import ENV_DELIVERY_TABLE
from clarion.shared import clock
from clarion.usecases.notify_taken import TakenRequest


class UsageError(Exception):
    """A mistake the operator can fix; printed without a traceback."""


@dataclass
class Outcome:
    queued: list[str] = field(default_factory=list)  # "<client>/<message id>" (or "taken notice")
    dropped: list[str] = field(default_factory=list)  # alerts that ended meanwhile: nothing to send
    unreadable: list[str] = field(default_factory=list)  # SQS message ids of bodies that are no alert
    kept: dict[str, int] = field(default_factory=dict)  # parked and not redriven, by source: how many
    resent: dict[str, int] = field(default_factory=dict)  # receipts and replies queued again, by source

    def report(self, dry_run: bool) -> str:
        if not (self.queued or self.dropped or self.unreadable or self.kept or self.resent):
            return "Nothing is parked: there is nothing to redrive."
        verb = "Would queue" if dry_run else "Queued"
        lines = [f"{verb} {len(self.queued)}: {', '.join(self.queued) or '-'}"]
        if self.dropped:
            ended = ", ".join(self.dropped)
            lines.append(f"Unparked without sending {len(self.dropped)} that ended meanwhile: {ended}")
        if self.unreadable:
            lines.append(
                f"Left parked {len(self.unreadable)} whose body is no alert (SQS ids {', '.join(self.unreadable)}); "
                "read them in the delivery log (pk dead-letters)."
            )
        if self.resent:
            counts = ", ".join(f"{n} {source}" for source, n in sorted(self.resent.items()))
            lines.append(f"{verb} again on their own queues: {counts}")
        if self.kept:
            counts = ", ".join(f"{n} {source}" for source, n in sorted(self.kept.items()))
            lines.append(f"Left parked: {counts} (timers need no redrive; others: name their queue; docs/runbook.md)")
        return "\n".join(lines)


def _outputs(stack: str) -> dict[str, str]:
    try:
        described = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    except Exception as error:  # botocore's errors name the stack; the operator needs only that
        raise UsageError(f"cannot read stack {stack}: {error}") from None
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def _where(args: argparse.Namespace) -> tuple[str, str, dict[str, str]]:
    """The delivery log table, the alert queue, and the receipts' and replies' queues (by the stack only)."""
    if args.stack:
        outputs = _outputs(args.stack)
        if "DeliveryLogTable" not in outputs or "AlertQueueUrl" not in outputs:
            raise UsageError(f"stack {args.stack} has no DeliveryLogTable/AlertQueueUrl outputs: name the data stack")
        queues = {
            s: outputs[o] for s, o in (("receipts", "ReceiptsQueueUrl"), ("replies", "RepliesQueueUrl")) if o in outputs
        }
        return outputs["DeliveryLogTable"], outputs["AlertQueueUrl"], queues
    if args.table and args.queue_url:
        return str(args.table), str(args.queue_url), {}
    raise UsageError("name the data stack with --stack, or both --table and --queue-url")


def _alert(body: str) -> Alert | None:
    try:
        return Alert.from_message(json.loads(body))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def redrive(queue_url: str, sqs: Any, dry_run: bool = False, queues: Mapping[str, str] | None = None) -> Outcome:
    """Queue every parked message whose alert can take it up again, and each parked receipt or reply on its own
    queue (`queues`: source -> queue URL); see the module's docstring."""
    outcome = Outcome()
    at = clock.stamp()
    for item in dead_letters.parked():
        source = str(item.get("source") or dead_letters.ALERTS)
        if source != dead_letters.ALERTS:
            target = (queues or {}).get(source)
            if target is None:
                outcome.kept[source] = outcome.kept.get(source, 0) + 1
                continue
            if not dry_run:
                sqs.send_message(QueueUrl=target, MessageBody=str(item["body"]))
                dead_letters.unpark(item)
            outcome.resent[source] = outcome.resent.get(source, 0) + 1
            continue
        body = str(item["body"])
        try:
            notice = TakenRequest.read(json.loads(body)) is not None
        except (ValueError, AttributeError):
            notice = False
        alert = None if notice else _alert(body)
        if alert is None and not notice:
            outcome.unreadable.append(str(item["sqs_message_id"]))
            continue
        name = "taken notice" if alert is None else f"{alert.client_id}/{alert.message_id}"
        if dry_run:
            outcome.queued.append(name)
            continue
        # Reopened now, or by an earlier run that stopped before queuing: then the alert has not ended.
        wanted = alert is None or dead_letters.reopen(alert, at) or _still_open(alert)
        if wanted:
            sqs.send_message(QueueUrl=queue_url, MessageBody=body)
        dead_letters.unpark(item)
        (outcome.queued if wanted else outcome.dropped).append(name)
    return outcome


def _still_open(alert: Alert) -> bool:
    record = delivery_log.get_alert(alert.client_id, alert.message_id)
    return record is not None and not record.ended and record.failure_reason is None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.redrive", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", help="the data stack, e.g. Clarion-prod-Data")
    parser.add_argument("--table", help="the delivery log table (with --queue-url)")
    parser.add_argument("--queue-url", help="the alert queue (with --table)")
    parser.add_argument("--dry-run", action="store_true", help="say what would be queued; change nothing")
    args = parser.parse_args(argv)
    try:
        table, queue_url, queues = _where(args)
        os.environ[ENV_DELIVERY_TABLE] = table
        print(redrive(queue_url, boto3.client("sqs"), args.dry_run, queues).report(args.dry_run))
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
