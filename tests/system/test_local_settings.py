"""`make local` and `make demo` with a bad setting: one sentence naming it, before anything starts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from clarion_local import __main__ as main
from clarion_local.emulator import free_port
from clarion_local.system import LocalClarion

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = ("CLARION_CLIENT_TOKEN", "CLARION_ADMIN_TOKEN", "AWS_ENDPOINT_URL", "PORT")
LAB_TOKEN = "clr_lab-system_" + "c" * 43


def run(command: str, *extra: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """`python -m clarion_local <command> --assembly cdk.out` as `make local` / `make demo` run it."""
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    env.update(settings, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")
    return subprocess.run(  # noqa: S603 - our own command, no shell
        [sys.executable, "-m", "clarion_local", command, "--assembly", "cdk.out", *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_refused_in_one_sentence(done: subprocess.CompletedProcess[str], sentence: str) -> None:
    assert done.returncode != 0
    assert "Traceback" not in done.stdout + done.stderr
    assert done.stdout == ""  # nothing started
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert sentence in done.stderr, done.stderr


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


@pytest.mark.parametrize(
    ("command", "settings", "sentence"),
    [
        (
            "serve",
            {"CLARION_CLIENT_TOKEN": "not-a-token"},
            "CLARION_CLIENT_TOKEN must read clr_lab-system_ followed by 43 characters",
        ),
        (
            "demo",
            {"CLARION_ADMIN_TOKEN": LAB_TOKEN},  # well formed, but another client's
            "CLARION_ADMIN_TOKEN must read clr_local-admin_ followed by 43 characters",
        ),
        ("serve", {"PORT": "abc"}, "PORT=abc is not a port number"),
        ("serve", {"PORT": "70000"}, "PORT=70000 is not a port number"),
        (
            "demo",
            {"AWS_ENDPOINT_URL": "localhost:5000"},
            "AWS_ENDPOINT_URL=localhost:5000 is not a URL like http://127.0.0.1:5000",
        ),
    ],
    ids=["client-token", "admin-token-of-another-client", "port-not-a-number", "port-too-large", "url-no-scheme"],
)
def test_a_malformed_setting_is_named_in_one_sentence(command: str, settings: dict[str, str], sentence: str) -> None:
    # Given a malformed setting in the environment
    # When the command starts
    done = run(command, **settings)
    # Then it exits non-zero with one sentence naming the setting and its expected form
    assert_refused_in_one_sentence(done, sentence)


def test_a_port_given_by_make_that_is_not_a_number_is_named_as_port() -> None:
    # Given `PORT=abc make local`, which passes it on as `--port abc`
    # When serve starts
    done = run("serve", "--port", "abc")
    # Then it names PORT, without argparse's usage text
    assert_refused_in_one_sentence(done, "PORT=abc is not a port number")


def test_a_busy_port_is_named_before_the_system_starts(busy_port: int) -> None:
    # Given a port something else listens on
    # When serve is asked to serve on it
    done = run("serve", PORT=str(busy_port))
    # Then it says so at once, naming PORT
    assert_refused_in_one_sentence(done, f"PORT={busy_port} cannot be served on 127.0.0.1 (Address already in use)")


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_an_endpoint_where_nothing_answers_is_named(command: str) -> None:
    # Given AWS_ENDPOINT_URL naming a port nothing listens on
    url = f"http://127.0.0.1:{free_port()}"
    # When the command starts
    done = run(command, AWS_ENDPOINT_URL=url, PORT=str(free_port()))
    # Then it says nothing answers there, naming AWS_ENDPOINT_URL
    assert_refused_in_one_sentence(done, f"nothing answers at AWS_ENDPOINT_URL={url}")


def test_an_emulator_that_answers_is_accepted(local: LocalClarion, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given AWS_ENDPOINT_URL naming a moto server that is running (the shared system's)
    endpoint = str(local.endpoint_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    # When the setting is checked, Then it is the URL the system uses
    assert main._endpoint_url() == endpoint
