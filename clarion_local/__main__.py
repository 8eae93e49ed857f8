"""`python -m clarion_local serve|demo`: Clarion on this machine (see docs/local.md)."""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, ReadTimeoutError
from botocore.parsers import ResponseParserError

from clarion_local import local_tokens
from clarion_local.system import ACCOUNT_CREDENTIALS, ADMIN_ID, CLIENT_ID, REGION, LocalClarion

TOKEN_VARIABLES = (("CLARION_CLIENT_TOKEN", CLIENT_ID), ("CLARION_ADMIN_TOKEN", ADMIN_ID))


def _progress(started: float) -> object:
    def say(message: str) -> None:
        print(f"==> [{time.monotonic() - started:5.1f} s] {message}", flush=True)

    return say


# Each setting is checked before the slow start; a bad one ends the command with one sentence.
def _given_tokens() -> dict[str, str | None]:
    given = {variable: os.environ.get(variable) or None for variable, _ in TOKEN_VARIABLES}
    for variable, client_id in TOKEN_VARIABLES:
        token = given[variable]
        if token and not local_tokens.belongs_to(token, client_id):
            sys.exit(f"{variable} must read {local_tokens.form(client_id)} (or be unset to generate one)")
    return given


def _endpoint_url() -> str | None:
    url = os.environ.get("AWS_ENDPOINT_URL") or None
    if url is None:
        return None
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:  # a port that is not a number
        port = 0
    if parts.scheme not in ("http", "https") or not parts.hostname or not port:
        sys.exit(f"AWS_ENDPOINT_URL={url} is not a URL like http://127.0.0.1:5000 (unset it for the embedded emulator)")
    # The deployment's first call, tried once with short timeouts (the defaults retry for minutes).
    quick = Config(connect_timeout=3, read_timeout=5, retries={"total_max_attempts": 1})
    sts = boto3.session.Session(region_name=REGION, **ACCOUNT_CREDENTIALS).client("sts", endpoint_url=url, config=quick)
    try:
        sts.get_caller_identity()
    except (BotoCoreError, ClientError, ResponseParserError) as error:
        if isinstance(error, EndpointConnectionError | ReadTimeoutError):
            what = f"nothing answers at AWS_ENDPOINT_URL={url}"
        else:
            what = f"what answers at AWS_ENDPOINT_URL={url} is not an AWS emulator ({type(error).__name__})"
        sys.exit(f"{what}; start the emulator there or unset AWS_ENDPOINT_URL to use the embedded one")
    return url


def _busy(port: int, error: OSError) -> str:
    reason = error.strerror or error
    return f"PORT={port} cannot be served on 127.0.0.1 ({reason}); set PORT to a free port, e.g. PORT=8080 make local"


def _free_port(given: str | None) -> int:
    """The port to serve on (`--port`, else PORT, else 3000), once it is known to be free."""
    raw = given if given is not None else os.environ.get("PORT") or "3000"
    if not (raw.isascii() and raw.isdigit() and int(raw) <= 65535):
        sys.exit(f"PORT={raw} is not a port number; set PORT to a whole number up to 65535 (3000 when unset)")
    port = int(raw)
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the local API's server binds it
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            sys.exit(_busy(port, error))
    return port


def _system(args: argparse.Namespace, port: int) -> LocalClarion:
    tokens = _given_tokens()
    endpoint_url = _endpoint_url()
    assembly = Path(args.assembly) if args.assembly else None
    if assembly is not None and not (assembly / "manifest.json").exists():
        sys.exit(f"{assembly} holds no cloud assembly; run `make synth` first or leave out --assembly")
    return LocalClarion(
        port=port,
        assembly=assembly,
        endpoint_url=endpoint_url,
        client_token=tokens["CLARION_CLIENT_TOKEN"],
        admin_token=tokens["CLARION_ADMIN_TOKEN"],
        progress=_progress(time.monotonic()),  # type: ignore[arg-type]
        keep_workdir=True,
    )


def serve(args: argparse.Namespace) -> int:
    port = _free_port(args.port)
    system = _system(args, port)
    try:
        system.start()
    except OSError as error:  # taken since the check above
        if error.errno != errno.EADDRINUSE:
            raise
        sys.exit(_busy(port, error))
    url = system.url
    print(
        f"""
Clarion is running at {url}  (Ctrl-C stops it)

  client token (scope alerts):  {system.client_token}
  admin token  (scope admin):   {system.admin_token}

  export API={url} TOKEN={system.client_token} ADMIN_TOKEN={system.admin_token}
  curl -sS -X POST "$API/notification" -H "Authorization: $TOKEN" -H 'Content-Type: application/json' \\
    -d '{{"message_id":"lab-0001","type":"blood_test_alert","patient_id":"anon-1","contact_id":"C-1",
         "description":"Potassium 6.9 mmol/L","priority":"H"}}'
  curl -sS "$API/alerts/lab-0001" -H "Authorization: Bearer $TOKEN"
  curl -sS -X POST "$API/alerts/lab-0001/ack" -H "Authorization: $TOKEN" -H 'Content-Type: application/json' \\
    -d '{{"contact_id":"C-1"}}'
  curl -sS "$API/contacts/C-1" -H "Authorization: $ADMIN_TOKEN"
  curl -sS "$API/escalation-policies/ward-7b" -H "Authorization: $ADMIN_TOKEN"
  curl -sS "$API/_local/outbox"     # each SMS and email of an alert that needs an ack carries a link to this server
  curl -sS -X POST "$API/_local/faults" -H 'Content-Type: application/json' \\
    -d '{{"channel":"sms","mode":"outage","count":3}}'

  API page (token filled in): {url}/docs#token={system.client_token}
  OpenAPI: {url}/openapi.json   function logs: {system.log_dir}
""",
        flush=True,
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):  # also when started in the background, where SIGINT is ignored
        signal.signal(signum, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    print("\nstopping", flush=True)
    system.stop()
    return 0


def demo(args: argparse.Namespace) -> int:
    from clarion_local import demo as scenario

    with _system(args, 0) as system:
        return scenario.main(system)


def main(argv: list[str] | None = None) -> int:
    top = argparse.ArgumentParser(prog="python -m clarion_local", description="Run Clarion on this machine.")
    commands = top.add_subparsers(dest="command", required=True)
    for name, help_text in (("serve", "serve the local API until interrupted"), ("demo", "play the demo scenario")):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--assembly", help="a synthesized cloud assembly (default: synthesize now)")
        if name == "serve":
            command.add_argument("--port", help="the port to serve on (default: PORT, else 3000)")
    args = top.parse_args(argv)
    return serve(args) if args.command == "serve" else demo(args)


if __name__ == "__main__":
    sys.exit(main())
