"""The compliance gate: both rule packs clean on every configuration, and the gate can fail."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from aws_cdk import aws_sqs as sqs

from tests.synth import CONFIGS, Synth, synth


def _violations(report: dict) -> list[str]:
    return [
        f"{v['ruleName']} at {c['constructPath']}"
        for plugin in report.get("pluginReports", [])
        for v in plugin.get("violations", [])
        for c in v.get("violatingConstructs", [])
    ]


def test_every_configuration_synthesizes_with_no_unacknowledged_finding(any_config: Synth):
    # Given one of the supported configurations (dev, prod, call channel off, existing Connect instance)
    # When the app is synthesized with the AwsSolutions and HIPAA.Security packs attached
    # Then no finding is left unacknowledged and both stacks are produced
    assert any_config.report is None, _violations(any_config.report or {})
    assert len(any_config.templates) == 2


def test_gate_fails_on_a_deliberately_non_compliant_resource(tmp_path: Path):
    # Given the dev app plus an unencrypted queue with no dead-letter queue and no TLS policy
    def add_bad_queue(stacks):
        sqs.Queue(stacks[1], "CanaryPlainQueue", encryption=sqs.QueueEncryption.UNENCRYPTED)

    # When it is synthesized with the gates
    result = synth(CONFIGS["dev"], tmp_path, extra=add_bad_queue)

    # Then synthesis fails and the report names the queue's findings
    assert result.report is not None
    found = _violations(result.report)
    assert any("AwsSolutions-SQS3" in v and "CanaryPlainQueue" in v for v in found), found
    assert any("AwsSolutions-SQS4" in v and "CanaryPlainQueue" in v for v in found), found


def test_cfn_lint_reports_no_errors_on_the_synthesized_templates(dev: Synth, prod: Synth, tmp_path: Path):
    # Given the dev and prod templates written to disk
    import json

    paths = []
    for config in (dev, prod):
        for name, template in config.templates.items():
            path = tmp_path / f"{name}.template.json"
            path.write_text(json.dumps(template))
            paths.append(str(path))

    # When cfn-lint checks them with the project's settings (.cfnlintrc.yaml ignores W3005 only)
    result = subprocess.run(  # noqa: S603 - fixed argv, paths we wrote
        [str(Path(sys.executable).parent / "cfn-lint"), "--ignore-checks", "W3005", "--", *paths],
        capture_output=True,
        text=True,
        check=False,
    )

    # Then there are no errors and no warnings
    assert result.returncode == 0, result.stdout + result.stderr
