"""CloudWatch alarms for on-call, each notifying the on-call topic, and the end-to-end dashboard."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from clarion import names
from stacks.constructs import alarm_metrics as m

FIVE_MINUTES = m.FIVE_MINUTES


@dataclass(frozen=True)
class Watched:
    api: apigw.RestApi
    stage: str
    router: lambda_.IFunction
    functions: Sequence[lambda_.IFunction]
    queue: sqs.IQueue
    dead_letters: sqs.IQueue
    timer_dead_letters: sqs.IQueue
    receipt_dead_letters: sqs.IQueue
    reply_dead_letters: sqs.IQueue | None  # with two-way SMS only
    receipt_channels: tuple[str, ...]  # the channels whose delivery receipts the router awaits
    delivery_rate_alarm_pct: float
    ack_target_s: dict[str, int]  # priority -> the organisation's acknowledgement target
    ack_required: tuple[str, ...]
    on_call: sns.ITopic
    sms_spend_limit_usd: float
    runbook_url: str


class Monitoring(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, watched: Watched) -> None:
        super().__init__(scope, construct_id)
        w = watched
        self._action = cw_actions.SnsAction(w.on_call)
        self._runbook = w.runbook_url
        self.alarms: dict[str, cw.Alarm] = {}
        api_dims = {"ApiName": w.api.rest_api_name, "Stage": w.stage}

        self._alarm(
            "RouterErrors",
            w.router.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
            threshold=1,
            what="The router function failed",
            anchor="router-errors",
        )
        self._alarm(
            "DeadLetters",
            m.dead_lettered(w.dead_letters),
            threshold=1,
            what="Alerts reached the dead-letter queue: they are failed and parked until an operator redrives them",
            anchor="dead-letter-queue-not-empty",
        )
        attempts = m.router_metric(names.METRIC_DELIVERY_ATTEMPTS)
        failures = m.router_metric(names.METRIC_DELIVERY_FAILURES)
        self._alarm(
            "DeliveryFailureRate",
            m.percent("failures", failures, "attempts", attempts, "Delivery failure rate (%)"),
            threshold=5,
            what="More than 5% of delivery attempts failed over 5 minutes",
            anchor="delivery-failure-rate",
            comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        )
        self._alarm(
            "FallbackRate",
            m.percent("fallbacks", m.router_metric(names.METRIC_FALLBACKS), "attempts", attempts, "Fallback rate (%)"),
            threshold=10,
            what="More than 10% of delivery attempts fell back to the next channel over 5 minutes",
            anchor="fallback-rate",
            comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        )
        self._alarm(
            "AlertsUnroutable",
            m.unroutable(),
            threshold=1,
            what="An alert exhausted every channel and reached nobody",
            anchor="alerts-unroutable",
            periods=1,
        )
        self._alarm(
            "Api5xxRate",
            m.percent(
                "errors",
                m.api_metric("5XXError", api_dims),
                "requests",
                m.api_metric("Count", api_dims),
                "API 5xx rate (%)",
            ),
            threshold=1,
            what="More than 1% of API requests failed with a 5xx over 5 minutes",
            anchor="api-5xx-rate",
            comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        )
        self._alarm(
            "ApiLatencyP99",
            m.api_metric("Latency", api_dims, "p99"),
            threshold=2000,
            what="API p99 latency above 2 s over 5 minutes",
            anchor="api-p99-latency",
            periods=2,
        )
        # An alarm's expression takes 10 metrics at most: LambdaThrottles, then LambdaThrottles2 for the rest.
        for n, start in enumerate(range(0, len(w.functions), 10), start=1):
            group = w.functions[start : start + 10]
            self._alarm(
                "LambdaThrottles" + (str(n) if n > 1 else ""),
                cw.MathExpression(
                    expression=" + ".join(f"t{i}" for i in range(len(group))),
                    using_metrics={
                        f"t{i}": fn.metric_throttles(period=FIVE_MINUTES, statistic="Sum") for i, fn in enumerate(group)
                    },
                    period=FIVE_MINUTES,
                    label="Throttled invocations (Clarion functions)",
                ),
                threshold=1,
                what="Clarion functions were throttled",
                anchor="lambda-throttles",
            )
        self._alarm(
            "SmsSpendNearLimit",
            cw.Metric(
                namespace="AWS/SNS", metric_name="SMSMonthToDateSpentUSD", statistic="Maximum", period=Duration.hours(1)
            ),
            threshold=round(0.8 * w.sms_spend_limit_usd, 2),
            what=f"SMS spend this month passed 80% of the {w.sms_spend_limit_usd:g} USD limit",
            anchor="sms-spend-near-limit",
            periods=1,
        )
        self._loop_alarms(w)
        self.dashboard = self._dashboard(w, attempts, failures)

    def _loop_alarms(self, w: Watched) -> None:
        self._alarm(
            "TimerDeadLetters",
            m.dead_lettered(
                w.timer_dead_letters,
                names.METRIC_TIMERS_DEAD_LETTERED,
                names.SERVICE_TIMER_DEAD_LETTERS,
                "Dead-lettered timers",
            ),
            threshold=1,
            what="Escalation timers reached their dead-letter queue: each walk was moved on, or ended unacknowledged",
            anchor="timer-dead-letters",
        )
        self._alarm(
            "ReceiptDeadLetters",
            m.dead_lettered(
                w.receipt_dead_letters, names.METRIC_RECEIPTS_DEAD_LETTERED, label="Dead-lettered receipts"
            ),
            threshold=1,
            what="Delivery receipts reached their dead-letter queue (parked): those attempts wait for their receipt "
            "deadline",
            anchor="receipt-dead-letters",
        )
        if w.reply_dead_letters is not None:
            self._alarm(
                "ReplyDeadLetters",
                m.dead_lettered(
                    w.reply_dead_letters, names.METRIC_REPLIES_DEAD_LETTERED, label="Dead-lettered replies"
                ),
                threshold=1,
                what="SMS replies reached their dead-letter queue (parked): those clinicians' answers were not "
                "recorded; their alerts escalate on",
                anchor="reply-dead-letters",
            )
            self._alarm(
                "SmsOptOuts",
                m.service_metric(names.METRIC_SMS_OPT_OUTS, names.SERVICE_REPLIES),
                threshold=1,
                what="A clinician's number opted out of SMS (STOP): Clarion can no longer text that clinician",
                anchor="sms-opt-out",
            )
        for channel in w.receipt_channels:
            self._alarm(
                f"DeliveryRate{channel.title()}",
                m.delivery_rate(channel),
                threshold=w.delivery_rate_alarm_pct,
                what=f"Under {w.delivery_rate_alarm_pct:g}% of {channel} receipts said delivered over 15 minutes",
                anchor="delivery-rate-low",
                comparison=cw.ComparisonOperator.LESS_THAN_THRESHOLD,
            )
        for priority in w.ack_required:
            self._alarm(
                f"Unacknowledged{priority}",
                m.loop_metric(names.METRIC_UNACKNOWLEDGED, priority),
                threshold=1,
                what=f"A priority {priority} alert ended unacknowledged: every escalation stage's window ran out",
                anchor="alert-unacknowledged",
            )
            target = w.ack_target_s[priority]
            self._alarm(
                f"TimeToAckP90{priority}",
                m.loop_metric(names.METRIC_TIME_TO_ACK, priority, "p90", Duration.hours(1)),
                threshold=target,
                what=f"Priority {priority}: 90th percentile time to acknowledge over the {target} s target for an hour",
                anchor="time-to-acknowledge-over-target",
                comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            )

    def _alarm(
        self,
        name: str,
        metric: cw.IMetric,
        *,
        threshold: float,
        what: str,
        anchor: str,
        periods: int = 1,
        comparison: cw.ComparisonOperator = cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    ) -> None:
        alarm = cw.Alarm(
            self,
            name,
            metric=metric,
            threshold=threshold,
            evaluation_periods=periods,
            comparison_operator=comparison,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            alarm_description=f"{what}. First step: {self._runbook}#{anchor}",
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms[name] = alarm

    def _dashboard(self, w: Watched, attempts: cw.Metric, failures: cw.Metric) -> cw.Dashboard:
        api_dims = {"ApiName": w.api.rest_api_name, "Stage": w.stage}
        dashboard = cw.Dashboard(self, "Dashboard", default_interval=Duration.hours(3))
        dashboard.add_widgets(
            cw.GraphWidget(
                title="1. API: requests and errors",
                left=[m.api_metric(name, api_dims) for name in ("Count", "4XXError", "5XXError")],
            ),
            cw.GraphWidget(
                title="2. Accepted alerts and queue depth",
                left=[
                    cw.Metric(
                        namespace=names.METRICS_NAMESPACE,
                        metric_name=names.METRIC_ALERTS_ACCEPTED,
                        dimensions_map={"service": names.SERVICE_INTAKE},
                        statistic="Sum",
                        period=FIVE_MINUTES,
                    )
                ],
                right=[w.queue.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES)],
            ),
            cw.GraphWidget(
                title="3. Delivery attempts, successes, failures",
                left=[
                    attempts,
                    m.router_metric(names.METRIC_DELIVERY_SUCCESSES),
                    failures,
                    m.router_metric(names.METRIC_FALLBACKS),
                ],
            ),
            cw.GraphWidget(
                title="4. Unroutable alerts and dead letters",
                left=[m.unroutable()],
                right=[w.dead_letters.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES)],
            ),
            cw.GraphWidget(
                title="5. Accept-to-delivered latency (ms)",
                left=[
                    m.router_metric(names.METRIC_ACCEPT_TO_DELIVERED, "p50"),
                    m.router_metric(names.METRIC_ACCEPT_TO_DELIVERED, "p99"),
                ],
            ),
            cw.GraphWidget(
                title="6. Time to first delivery and to acknowledge (s, p90)",
                left=[m.loop_metric(names.METRIC_TIME_TO_FIRST_DELIVERY, p, "p90") for p in w.ack_required]
                + [m.loop_metric(names.METRIC_TIME_TO_ACK, p, "p90") for p in w.ack_required],
            ),
            cw.GraphWidget(
                title="7. Acknowledged within target, late, unacknowledged; escalations",
                left=[
                    m.loop_metric(name, p)
                    for p in w.ack_required
                    for name in (
                        names.METRIC_ACK_WITHIN_TARGET,
                        names.METRIC_ACK_LATE,
                        names.METRIC_UNACKNOWLEDGED,
                        names.METRIC_ESCALATIONS,
                    )
                ],
                right=[w.timer_dead_letters.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES)],
            ),
            cw.GraphWidget(
                title="8. Delivery rate by receipts (%) and time from send to delivery receipt (s, p90)",
                left=[m.delivery_rate(c) for c in w.receipt_channels],
                right=[m.receipt_metric(names.METRIC_SEND_TO_RECEIPT, c, "p90") for c in w.receipt_channels],
            ),
            cw.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms.values()), width=24),
        )
        return dashboard
