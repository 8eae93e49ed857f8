#!/usr/bin/env python3
"""Clarion's CDK app: read the settings, build the stacks, attach the compliance packs, synth.

It never calls AWS: synth works offline and is deterministic.
"""

import json
import os
import sys
from pathlib import Path

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks

from stacks.config import KNOWN_KEYS, ConfigError, load
from stacks.data_stack import DataStack
from stacks.service_stack import ServiceStack


def build(app: cdk.App) -> tuple[DataStack, ServiceStack]:
    context_keys = {"env", *KNOWN_KEYS}
    overrides = {k: v for k in context_keys if (v := app.node.try_get_context(k)) is not None}
    settings = load({"clarion": app.node.try_get_context("clarion"), "env": "dev"}, overrides)
    prefix = f"Clarion-{settings.env_name}"
    # Cross-stack references are "strong" (cdk.json): Service imports Data's exports, so CloudFormation
    # refuses to delete the stateful Data stack, or a value it exports, while Service uses it.
    data = DataStack(app, f"{prefix}-Data", settings=settings, description="Clarion: keys, tables, queues, topics")
    service = ServiceStack(app, f"{prefix}-Service", data=data, description="Clarion: functions, API, alarms")
    for stack in (data, service):
        cdk.Tags.of(stack).add("app", "clarion")
        cdk.Tags.of(stack).add("environment", settings.env_name)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), HIPAASecurityChecks(app))
    return data, service


def cdk_json_context() -> dict[str, object]:
    """The context in cdk.json: the CDK CLI passes it itself; `python app.py` reads it here."""
    if "CDK_CONTEXT_JSON" in os.environ:
        return {}
    return dict(json.loads((Path(__file__).parent / "cdk.json").read_text())["context"])


def main() -> None:
    # No construct stack traces: in a Python app they all point into jsii's program.js.
    app = cdk.App(context=cdk_json_context(), stack_traces=False)
    try:
        build(app)
    except ConfigError as error:
        sys.exit(f"Clarion configuration error: {error}")
    app.synth()


if __name__ == "__main__":
    main()
