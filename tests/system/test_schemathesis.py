"""schemathesis, a schema-driven API fuzzer nobody here wrote, against the local API as an integrator runs it: every
operation of the served docs/openapi.json, every check, every phase (examples, coverage, fuzzing, stateful), with a
fixed seed and a bounded number of examples so the run is the same in CI each time. Settings: schemathesis.toml."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from clarion_local.system import LocalClarion

CONFIG = Path(__file__).with_name("schemathesis.toml")
ST = Path(sys.executable).with_name("st")
EXAMPLES = os.environ.get("CLARION_ST_EXAMPLES", "15")  # per operation and phase; raise it for a longer hunt
SEED = os.environ.get("CLARION_ST_SEED", "20261202")


@pytest.fixture
def fuzzed(local: LocalClarion) -> LocalClarion:
    """The shared system. The fuzzer rewrites and deletes contacts and escalation policies and leaves alerts walking:
    it runs after every other system suite (`pytest_collection_modifyitems` in conftest.py)."""
    return local


def schemathesis(system: LocalClarion, client: str, admin: str, *options: str) -> tuple[int, str]:
    """Run the CLI in a directory of its own (it keeps a cache beside it); (exit code, output)."""
    env = {**os.environ, "ST_CLIENT_TOKEN": client, "ST_ADMIN_TOKEN": admin}
    command = [str(ST), "--no-color", "--config-file", str(CONFIG), "run", f"{system.url}/openapi.json"]
    command += ["--checks", "all", "--seed", SEED, "--max-examples", EXAMPLES, *options]
    done = subprocess.run(  # noqa: S603 - our own command, no shell
        command, env=env, cwd=tempfile.mkdtemp(), capture_output=True, text=True, timeout=900, check=False
    )
    return done.returncode, done.stdout + done.stderr


def summary(output: str) -> str:
    found = re.search(r"Test cases:\s*\n\s*(.+)", output)
    return found.group(1).strip() if found else "no summary"


def test_schemathesis_finds_nothing_with_each_scopes_token(fuzzed: LocalClarion) -> None:
    # Given the local API and its document, each operation called with its own scope's token
    assert fuzzed.client_token and fuzzed.admin_token
    # When schemathesis runs every phase and every check against it
    code, output = schemathesis(fuzzed, fuzzed.client_token, fuzzed.admin_token)
    print(f"schemathesis, each scope's token: {summary(output)}")
    # Then it finds no failure: every answer is documented, every valid request accepted, every invalid refused
    assert code == 0, output[-12000:]
    assert "Selected: 22/22" in output and "generated" in output, output[-3000:]


def test_schemathesis_finds_nothing_with_the_other_scopes_token(fuzzed: LocalClarion) -> None:
    # Given each operation called with the token of the other scope
    assert fuzzed.client_token and fuzzed.admin_token
    # When schemathesis generates requests for every operation
    code, output = schemathesis(fuzzed, fuzzed.admin_token, fuzzed.client_token, "--phases", "examples,fuzzing")
    print(f"schemathesis, the other scope's token: {summary(output)}")
    # Then every answer is the documented 403, and nothing fails
    assert code == 0, output[-12000:]
