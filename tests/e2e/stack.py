"""The API URL of a deployed Service stack, from its `ApiUrl` output (`make e2e STACK=...` runs this, with the
shell's AWS credentials): `python -m tests.e2e.stack Clarion-prod-Service`."""

from __future__ import annotations

import sys

import boto3


def api_url(stack: str) -> str:
    described = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    if "ApiUrl" not in outputs:
        raise SystemExit(f"{stack} has no ApiUrl output: name the Service stack, e.g. Clarion-prod-Service")
    return str(outputs["ApiUrl"])


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m tests.e2e.stack <Service stack name>")
    print(api_url(sys.argv[1]))
