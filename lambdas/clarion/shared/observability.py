"""Logger, Metrics and Tracer, created once for every handler.

The X-Ray SDK behind Powertools' Tracer costs a cold start nearly as much as `import boto3` again, so it is
imported only where the deployment asks for SDK tracing (the `sdk_tracing` setting leaves
POWERTOOLS_TRACE_DISABLED "false"). Otherwise `tracer`'s decorators return the function unchanged; Lambda's active
tracing still records each invocation and its initialization.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.metrics import Metrics

from clarion.names import METRICS_NAMESPACE

F = TypeVar("F", bound=Callable[..., Any])


class Untraced:
    """Tracer's two decorators, doing nothing: SDK tracing is off."""

    def capture_lambda_handler(self, handler: F) -> F:
        return handler

    def capture_method(self, method: F) -> F:
        return method


def make_tracer(environ: Mapping[str, str]) -> Any:
    """Powertools' Tracer when SDK tracing is on for this function, otherwise `Untraced`."""
    if environ.get("POWERTOOLS_TRACE_DISABLED", "false").lower() in ("true", "1"):
        return Untraced()
    from aws_lambda_powertools.tracing import Tracer  # imports the X-Ray SDK

    return Tracer()


logger = Logger()
tracer = make_tracer(os.environ)
metrics = Metrics(namespace=METRICS_NAMESPACE)
