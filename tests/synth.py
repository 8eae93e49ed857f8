"""Synthesizes the app (with the compliance packs) once per configuration, for every suite that needs it."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import aws_cdk as cdk

import app as clarion_app

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

EXISTING = {
    "connect_mode": "existing",
    "connect_instance_id": "11111111-2222-3333-4444-555555555555",
    "connect_flow_phone_number": "+442071838750",
    "sms_origination": "pool-0123456789abcdef0123456789abcdef",  # an existing End User Messaging pool
}
CONFIGS: dict[str, dict[str, Any]] = {
    "dev": {"env": "dev"},
    "prod": {"env": "prod"},
    # No calls, and SMS one-way through SNS, with SNS's SMS delivery status as its receipts.
    "dev-call-off": {"env": "dev", "connect_mode": "off", "sms_origination": ""},
    "prod-existing": {"env": "prod", "sdk_tracing": "true", **EXISTING},
}


@dataclass(frozen=True)
class Synth:
    name: str
    templates: dict[str, dict[str, Any]]  # stack name -> template
    report: dict[str, Any] | None  # the validation report, when the packs found anything
    assembly: Path  # the cloud assembly directory (templates, asset manifests, assets)

    def stack(self, suffix: str) -> dict[str, Any]:
        return next(t for n, t in self.templates.items() if n.endswith(suffix))

    def resources(self, cfn_type: str, suffix: str | None = None) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for name, template in self.templates.items():
            if suffix and not name.endswith(suffix):
                continue
            out.update({k: v for k, v in template["Resources"].items() if v["Type"] == cfn_type})
        return out


def synth(overrides: dict[str, Any], outdir: Path, extra: Any = None) -> Synth:
    context = clarion_app.cdk_json_context()
    context.update(overrides)
    app = cdk.App(context=context, outdir=str(outdir))
    stacks = clarion_app.build(app)
    if extra is not None:
        extra(stacks)
    report = None
    try:
        assembly = app.synth()
    except RuntimeError as error:
        if "ValidationFailed" not in str(error):
            raise
        report = json.loads((outdir / "validation-report.json").read_text())
        return Synth(overrides.get("env", "dev"), {}, report, outdir)
    templates = {s.stack_name: s.template for s in assembly.stacks}
    return Synth(overrides.get("env", "dev"), templates, report, outdir)


@cache
def synth_config(name: str, root: str) -> Synth:
    return synth(CONFIGS[name], Path(root) / name)
