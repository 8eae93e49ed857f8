"""The tracer: Powertools' Tracer only where SDK tracing is on, decorators that change nothing otherwise."""

from __future__ import annotations

import subprocess
import sys

from aws_lambda_powertools.tracing import Tracer

from clarion.shared.observability import Untraced, make_tracer


def test_sdk_tracing_off_gives_decorators_that_return_the_function_itself():
    tracer = make_tracer({"POWERTOOLS_TRACE_DISABLED": "true"})
    assert isinstance(tracer, Untraced)

    def handler(event: dict, context: object) -> str:
        return "answer"

    assert tracer.capture_lambda_handler(handler) is handler
    assert tracer.capture_method(handler) is handler


def test_sdk_tracing_on_gives_powertools_tracer():
    assert isinstance(make_tracer({}), Tracer)
    assert isinstance(make_tracer({"POWERTOOLS_TRACE_DISABLED": "false"}), Tracer)


def test_with_sdk_tracing_off_no_handler_imports_the_x_ray_sdk():
    code = (
        "import sys\n"
        "for name in ('authorizer', 'intake', 'contacts', 'router', 'dialer'):\n"
        "    __import__(f'clarion.handlers.{name}')\n"
        "print(sorted(m for m in sys.modules if m.startswith('aws_xray_sdk')))\n"
    )
    env = {"POWERTOOLS_TRACE_DISABLED": "true", "AWS_DEFAULT_REGION": "eu-west-2", "POWERTOOLS_SERVICE_NAME": "t"}
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], env={**env, "PYTHONPATH": ":".join(sys.path)}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
