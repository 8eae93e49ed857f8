"""The Python client a new user generates from docs/openapi.json with openapi-python-client (pinned in
requirements-dev.txt), the way docs/api.md says, for the suites that check its names and drive the API with it."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from tools import openapi

PACKAGE = "clarion_api_client"


def generate(into: Path) -> Path:
    """Generate the client package into `into` from the committed document, offline; its directory.

    The generator formats its output with ruff, so the project's ruff goes first on PATH. Any warning fails: a
    warning means part of the document did not become client code."""
    package = into / PACKAGE
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    command = [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(openapi.DOCUMENT)]
    command += ["--meta", "none", "--output-path", str(package), "--fail-on-warning"]
    done = subprocess.run(command, cwd=into, env=env, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
    assert done.returncode == 0, f"openapi-python-client failed:\n{done.stdout}\n{done.stderr}"
    return package


@contextmanager
def imported(into: Path) -> Iterator[ModuleType]:
    """The generated package, importable while the block runs; forgotten after, so each test gets its own."""
    generate(into)
    sys.path.insert(0, str(into))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(into))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]
