"""Clarion's one way to emit a metric (the alarms and the dashboard watch these; names in `clarion.names`).

Without dimensions a metric joins the function's own (dimension `service`, flushed when the invocation ends by
`metrics.log_metrics` on the handler). With dimensions it is emitted at once with them (and the function's
`service`, unless `dimensions` names another, as the closed loop's metrics do with `acks`).
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from clarion.names import METRICS_NAMESPACE, SERVICE_ACKS
from clarion.shared.observability import metrics


def emit(name: str, value: float = 1, unit: str = "Count", dimensions: Mapping[str, str] | None = None) -> None:
    if not dimensions:
        metrics.add_metric(name=name, unit=MetricUnit(unit), value=value)
        return
    with single_metric(name=name, unit=MetricUnit(unit), value=value, namespace=METRICS_NAMESPACE) as metric:
        for key, dimension in dimensions.items():
            metric.add_dimension(name=key, value=dimension)


def per_channel(name: str, channel: str, value: float = 1, unit: str = "Count") -> None:
    """The aggregate metric (watched by the alarms) and its per-channel copy."""
    emit(name, value, unit)
    emit(name, value, unit, {"channel": channel})


def loop(name: str, priority: str, value: float = 1, unit: str = "Count") -> None:
    """A closed-loop metric (time to first delivery, time to acknowledge, within target, late, unacknowledged,
    escalations): service `acks` and the priority, the dimensions the alarms watch."""
    emit(name, value, unit, {"service": SERVICE_ACKS, "priority": priority})
