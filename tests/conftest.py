"""Shared test set-up: never reach AWS, whatever the developer's shell holds; one synthesized dev assembly."""

import os
from pathlib import Path

import pytest

os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SECURITY_TOKEN="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="eu-west-2",
    POWERTOOLS_SERVICE_NAME="clarion-test",
    POWERTOOLS_METRICS_NAMESPACE="Clarion",
    POWERTOOLS_TRACE_DISABLED="true",
    POWERTOOLS_DEV="false",
)
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("AWS_ENDPOINT_URL", None)


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cdk")


@pytest.fixture(scope="session")
def dev(synth_dir: Path):  # type: ignore[no-untyped-def]
    """The dev configuration, synthesized once with the compliance packs (templates and cloud assembly)."""
    from tests.synth import synth_config

    return synth_config("dev", str(synth_dir))
