"""Logger, Tracer and Metrics, created once for every handler."""

from aws_lambda_powertools import Logger, Metrics, Tracer

from clarion.names import METRICS_NAMESPACE

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=METRICS_NAMESPACE)
