"""The layering contract of `make lint` (import-linter, pyproject's [tool.importlinter]): it holds for the code, and
it fails on a handler that imports an adapter (so it is no contract that cannot fail)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint(lambdas: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - the project's own tool, on the project's own code
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        env={"PYTHONPATH": str(lambdas), "PATH": "/usr/bin:/bin"},
        cwd=lambdas,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_code_keeps_its_layers() -> None:
    done = lint(ROOT / "lambdas")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 kept, 0 broken" in done.stdout


def test_a_handler_that_imports_an_adapter_breaks_the_contract(tmp_path: Path) -> None:
    # Given a copy of the code with a handler that reads the delivery log itself
    shutil.copytree(ROOT / "lambdas" / "clarion", tmp_path / "clarion", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "clarion" / "handlers" / "shortcut.py").write_text(
        "from clarion.adapters import delivery_log\n\n\ndef handler(event, context):\n"
        "    return delivery_log.get_alert('c', 'm')\n"
    )
    # When the contract is checked
    done = lint(tmp_path)
    # Then it fails, naming the import
    assert done.returncode == 1, done.stdout
    assert "BROKEN" in done.stdout and "clarion.handlers.shortcut -> clarion.adapters.delivery_log" in done.stdout
