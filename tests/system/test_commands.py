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

from clarion_local.emulator import free_port, start_emulator
from clarion_local.system import http_call
from tests.synth import Synth
from tests.system.conftest import new_alert

ROOT = Path(__file__).resolve().parents[2]
CLIENT_TOKEN = "clr_lab-system_" + "c" * 43
ADMIN_TOKEN = "clr_local-admin_" + "a" * 43


def test_serve_on_a_running_emulator_uses_it_and_the_given_tokens_prints_how_to_call_it_and_stops_on_interrupt(
    dev: Synth, tmp_path: Path
) -> None:
    # A system of its own: starting and stopping it as the command does is what is tested. One start proves both
    # the command (its tokens, its printout, its interrupt) and an emulator that was already running
    # (`AWS_ENDPOINT_URL`): the embedded emulator is the shared system's (tests/system/conftest.py).
    # Given a moto server someone started, and `python -m clarion_local serve` on a free port with AWS_ENDPOINT_URL
    # naming it and tokens from the environment
    endpoint, stop = start_emulator(tmp_path / "emulator.log")
    port = free_port()
    env = {
        **os.environ,
        "CLARION_CLIENT_TOKEN": CLIENT_TOKEN,
        "CLARION_ADMIN_TOKEN": ADMIN_TOKEN,
        "AWS_ENDPOINT_URL": endpoint,
    }
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
        # And the stacks and the alert live in that emulator
        cfn = boto3.client("cloudformation", endpoint_url=endpoint, region_name="us-east-1")
        stacks = {s["StackName"] for s in cfn.describe_stacks()["Stacks"]}
        assert {"Clarion-dev-Data", "Clarion-dev-Service"} <= stacks
        table = next(
            o["OutputValue"]
            for s in cfn.describe_stacks(StackName="Clarion-dev-Data")["Stacks"]
            for o in s["Outputs"]
            if o["OutputKey"] == "DeliveryLogTable"
        )
        ddb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
        assert ddb.scan(TableName=table)["Count"] >= 1
    finally:
        # When interrupted, it stops cleanly
        server.send_signal(signal.SIGINT)
        try:
            assert server.wait(timeout=60) == 0
        finally:
            stop()
