"""The metrics and metric math the on-call alarms and the dashboard watch (`clarion.names` names the metrics the
functions emit)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_sqs as sqs

from clarion import names

FIVE_MINUTES = Duration.minutes(5)


def service_metric(name: str, service: str, statistic: str = "Sum") -> cw.Metric:
    """A function's own metric over five minutes (dimension service)."""
    return cw.Metric(
        namespace=names.METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={"service": service},
        statistic=statistic,
        period=FIVE_MINUTES,
    )


def router_metric(name: str, statistic: str = "Sum") -> cw.Metric:
    return service_metric(name, names.SERVICE_ROUTER, statistic)


def unroutable() -> cw.MathExpression:
    """Alerts that reached nobody: the router counts those that need no acknowledgement, the escalator those
    whose walk ended with nobody reached."""
    escalator = service_metric(names.METRIC_UNROUTABLE, names.SERVICE_ESCALATOR)
    dead = service_metric(names.METRIC_UNROUTABLE, names.SERVICE_DEAD_LETTERS)
    return cw.MathExpression(
        expression="FILL(router, 0) + FILL(escalator, 0) + FILL(dead, 0)",
        using_metrics={"router": router_metric(names.METRIC_UNROUTABLE), "escalator": escalator, "dead": dead},
        period=FIVE_MINUTES,
        label="Alerts that reached nobody",
    )


def dead_lettered(
    dead_letters: sqs.IQueue,
    metric: str = names.METRIC_DEAD_LETTERED,
    service: str = names.SERVICE_DEAD_LETTERS,
    label: str = "Dead-lettered alerts",
) -> cw.MathExpression:
    """Messages a drainer (`service`) took from `dead_letters` over five minutes (its count `metric`), plus any it
    could not take (still in the queue: it drains the queue within seconds)."""
    parked = service_metric(metric, service)
    waiting = dead_letters.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES, statistic="Maximum")
    return cw.MathExpression(
        expression="FILL(parked, 0) + FILL(waiting, 0)",
        using_metrics={"parked": parked, "waiting": waiting},
        period=FIVE_MINUTES,
        label=label,
    )


def loop_metric(name: str, priority: str, statistic: str = "Sum", period: Duration = FIVE_MINUTES) -> cw.Metric:
    """A closed-loop metric (dimensions service `acks` and priority)."""
    return cw.Metric(
        namespace=names.METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={"service": names.SERVICE_ACKS, "priority": priority},
        statistic=statistic,
        period=period,
    )


def receipt_metric(
    name: str, channel: str, statistic: str = "Sum", period: Duration = FIVE_MINUTES, service: str = ""
) -> cw.Metric:
    return cw.Metric(
        namespace=names.METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={"service": service or names.SERVICE_RECEIPTS, "channel": channel},
        statistic=statistic,
        period=period,
    )


MIN_RECEIPTS_FOR_RATE = 5  # fewer receipts than this in 15 minutes say nothing about a carrier or SES
# Who records a channel's verdicts: the receipts function, and for calls also the keypress function (answered calls)
RECEIPT_SERVICES = {"call": (names.SERVICE_RECEIPTS, names.SERVICE_KEYPRESS)}


def delivery_rate(channel: str) -> cw.MathExpression:
    """The share of `channel`'s receipts that said delivered over 15 minutes (100 when too few came to judge)."""
    period = Duration.minutes(15)
    services = RECEIPT_SERVICES.get(channel, (names.SERVICE_RECEIPTS,))
    metrics: dict[str, cw.IMetric] = {}
    for i, service in enumerate(services):
        metrics[f"{channel}_delivered{i}"] = receipt_metric(
            names.METRIC_RECEIPTS_DELIVERED, channel, period=period, service=service
        )
        metrics[f"{channel}_failed{i}"] = receipt_metric(
            names.METRIC_RECEIPTS_FAILED, channel, period=period, service=service
        )
    d = " + ".join(f"FILL({k}, 0)" for k in metrics if "_delivered" in k)
    f = " + ".join(f"FILL({k}, 0)" for k in metrics if "_failed" in k)
    return cw.MathExpression(
        expression=f"IF((({d}) + ({f})) >= {MIN_RECEIPTS_FOR_RATE}, 100 * ({d}) / (({d}) + ({f})), 100)",
        using_metrics=metrics,
        period=period,
        label=f"{channel} delivery rate by receipts (%)",
    )


def api_metric(name: str, dims: dict[str, str], statistic: str = "Sum") -> cw.Metric:
    return cw.Metric(
        namespace="AWS/ApiGateway", metric_name=name, dimensions_map=dims, statistic=statistic, period=FIVE_MINUTES
    )


def percent(part: str, part_metric: cw.IMetric, whole: str, whole_metric: cw.IMetric, label: str) -> cw.MathExpression:
    """100 * part / whole over five minutes, 0 when nothing happened."""
    return cw.MathExpression(
        expression=f"IF({whole} > 0, 100 * {part} / {whole}, 0)",
        using_metrics={whole: whole_metric, part: part_metric},
        period=FIVE_MINUTES,
        label=label,
    )
