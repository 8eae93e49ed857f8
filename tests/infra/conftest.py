"""Infrastructure fixtures: one synthesized assembly per configuration (see `tests/synth.py`;
`synth_dir` and `dev` live in `tests/conftest.py`, shared with the integration suite)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.synth import CONFIGS, Synth, synth_config


@pytest.fixture(scope="session", params=list(CONFIGS))
def any_config(request: pytest.FixtureRequest, synth_dir: Path) -> Synth:
    return synth_config(request.param, str(synth_dir))


@pytest.fixture(scope="session")
def prod(synth_dir: Path) -> Synth:
    return synth_config("prod", str(synth_dir))


@pytest.fixture(scope="session")
def call_off(synth_dir: Path) -> Synth:
    return synth_config("dev-call-off", str(synth_dir))


@pytest.fixture(scope="session")
def prod_existing(synth_dir: Path) -> Synth:
    return synth_config("prod-existing", str(synth_dir))
