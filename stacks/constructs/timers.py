"""Escalation timers: a queue whose messages are delayed until a stage's window ends.

Chosen over Step Functions and EventBridge Scheduler (docs/architecture.md says why): an SQS message is durable
the moment it is sent, encrypted with Clarion's key, redelivered if its handler dies, and dead-lettered after
repeated failures like the alert queue. SQS delays a message by 15 minutes at most; longer windows are chained by
the escalator, one message per 15 minutes of waiting.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.constructs.messaging import work_queue

# The escalator's timeout: it waits out at most the last 1.5 s of a timer, then makes a few calls.
ESCALATOR_TIMEOUT = Duration.seconds(30)


class Timers(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.queue, self.dead_letters = work_queue(self, "Timers", "TimerDeadLetters", key, ESCALATOR_TIMEOUT)
