"""`make local`'s command as a user runs it, and an emulator that is already running (`AWS_ENDPOINT_URL`)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3

from clarion_local.system import LocalClarion, free_port, http_call, start_emulator
from tests.synth import Synth
from tests.system.conftest import new_alert

ROOT = Path(__file__).resolve().parents[2]
CLIENT_TOKEN = "clr_lab-system_" + "c" * 43
ADMIN_TOKEN = "clr_local-admin_" + "a" * 43


def test_serve_uses_the_given_tokens_prints_how_to_call_it_and_stops_on_interrupt(dev: Synth) -> None:
    # Given `python -m clarion_local serve` on a free port with tokens from the environment
    port = free_port()
    env = {**os.environ, "CLARION_CLIENT_TOKEN": CLIENT_TOKEN, "CLARION_ADMIN_TOKEN": ADMIN_TOKEN}
    command = [sys.executable, "-m", "clarion_local", "serve", "--port", str(port), "--assembly", str(dev.assembly)]
    server = subprocess.Popen(  # noqa: S603 - our own command, no shell
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        printed = ""
        deadline = time.monotonic() + 120
        while "Ctrl-C stops it" not in printed:
            assert server.poll() is None and time.monotonic() < deadline, printed
            printed += server.stdout.readline()  # type: ignore[union-attr]
        printed += "".join(server.stdout.readline() for _ in range(6))  # type: ignore[union-attr]
        # Then it prints its URL and the tokens, and answers a request made with the given client token
        assert f"http://127.0.0.1:{port}" in printed
        assert CLIENT_TOKEN in printed and ADMIN_TOKEN in printed
        assert http_call(port, "GET", "/_local/health", None, {})[0] == 200
        body = json.dumps(new_alert()).encode()
        status, answer = http_call(port, "POST", "/notification", body, {"Authorization": CLIENT_TOKEN})
        assert status == 202, answer
    finally:
        # When interrupted, it stops cleanly
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=60) == 0


def test_an_emulator_already_running_is_used_instead_of_the_embedded_one(dev: Synth, tmp_path: Path) -> None:
    # Given a moto server someone started (as `AWS_ENDPOINT_URL` would name it)
    endpoint, stop = start_emulator(tmp_path / "emulator.log")
    try:
        with LocalClarion(port=0, assembly=dev.assembly, endpoint_url=endpoint) as system:
            # When an alert goes through the local API
            status, _ = system.request("POST", "/alerts", new_alert(), system.client_token)
            assert status == 202
            # Then the stacks and the alert live in that emulator
            cfn = boto3.client("cloudformation", endpoint_url=endpoint, region_name="us-east-1")
            stacks = {s["StackName"] for s in cfn.describe_stacks()["Stacks"]}
            assert {"Clarion-dev-Data", "Clarion-dev-Service"} <= stacks
            table = system.deployment.output("DeliveryLogTable")
            ddb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
            assert ddb.scan(TableName=table)["Count"] >= 1
    finally:
        stop()
