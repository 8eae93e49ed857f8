"""Escalation timers: a queue whose messages are delayed until a stage's window ends.

Chosen over Step Functions and EventBridge Scheduler (docs/architecture.md says why): an SQS message is durable
the moment it is sent, encrypted with Clarion's key, redelivered if its handler dies, and dead-lettered after
repeated failures like the alert queue. SQS delays a message by 15 minutes at most; longer windows are chained by
the escalator, one message per 15 minutes of waiting.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

# The escalator's timeout: it waits out at most the last 1.5 s of a timer, then makes a few calls.
ESCALATOR_TIMEOUT = Duration.seconds(30)
MAX_RECEIVE_COUNT = 5


class Timers(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.dead_letters = sqs.Queue(
            self,
            "TimerDeadLetters",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        self.queue = sqs.Queue(
            self,
            "Timers",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            data_key_reuse=Duration.minutes(5),
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(ESCALATOR_TIMEOUT.to_seconds() * 6),
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dead_letters, max_receive_count=MAX_RECEIVE_COUNT),
        )
