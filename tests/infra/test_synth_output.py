"""What `make synth` prints: Clarion's own annotations, no CDK warning a user must decode (issue 13)."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import cx_api

from tests.synth import Synth

DEFAULT_STRENGTH_WARNING = "@aws-cdk/core:crossStackReferencesDefaultStrong"


def _warnings(synth: Synth) -> list[str]:
    assembly = cx_api.CloudAssembly(str(synth.assembly))
    return [
        f"{message.id}: {message.entry.data}"
        for stack in assembly.stacks
        for message in stack.messages
        if message.level == cx_api.SynthesisMessageLevel.WARNING
    ]


def _functions(template: dict[str, Any], name: str) -> int:
    return json.dumps(template).count(f'"{name}"')


def test_synth_prints_no_warning_in_any_configuration(any_config: Synth):
    # Given a configuration of the app, with the reference strength set in cdk.json
    # When it is synthesized
    warnings = _warnings(any_config)

    # Then the CLI has no warning to print, in particular none about the default reference strength
    assert not [w for w in warnings if DEFAULT_STRENGTH_WARNING in w], warnings
    assert warnings == []


def test_service_reads_data_through_exports_that_keep_data_from_deletion(dev: Synth):
    # Given the dev app, whose Service stack uses the Data stack's key, tables and topics
    data, service = dev.stack("-Data"), dev.stack("-Service")

    # When the cross-stack references are rendered
    exports = [o for o in data.get("Outputs", {}).values() if "Export" in o]

    # Then they are strong: Data exports, Service imports, and nothing reads outputs weakly
    assert exports
    assert _functions(service, "Fn::ImportValue") > 0
    assert _functions(service, "Fn::GetStackOutput") == 0
