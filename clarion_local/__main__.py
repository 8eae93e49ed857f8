"""`python -m clarion_local serve|demo`: Clarion on this machine (see docs/local.md)."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import time
from pathlib import Path

from clarion_local.system import LocalClarion


def _progress(started: float) -> object:
    def say(message: str) -> None:
        print(f"==> [{time.monotonic() - started:5.1f} s] {message}", flush=True)

    return say


def _system(args: argparse.Namespace, port: int) -> LocalClarion:
    assembly = Path(args.assembly) if args.assembly else None
    if assembly is not None and not (assembly / "manifest.json").exists():
        sys.exit(f"{assembly} holds no cloud assembly; run `make synth` first or leave out --assembly")
    return LocalClarion(
        port=port,
        assembly=assembly,
        endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
        client_token=os.environ.get("CLARION_CLIENT_TOKEN") or None,
        admin_token=os.environ.get("CLARION_ADMIN_TOKEN") or None,
        progress=_progress(time.monotonic()),  # type: ignore[arg-type]
        keep_workdir=True,
    )


def serve(args: argparse.Namespace) -> int:
    system = _system(args, args.port)
    try:
        system.start()
    except OSError as error:
        sys.exit(f"cannot serve on port {args.port}: {error.strerror} (set PORT= to choose another)")
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
  curl -sS -X POST "$API/_local/faults" -d '{{"channel":"sms","mode":"outage","count":3}}'

  API page: {url}/docs   OpenAPI: {url}/openapi.json   function logs: {system.log_dir}
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
            command.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 3000))
    args = top.parse_args(argv)
    return serve(args) if args.command == "serve" else demo(args)


if __name__ == "__main__":
    sys.exit(main())
