"""What an idempotency record keeps of an alert body, and how a body is checked against a record of either form."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from clarion import names
from clarion.adapters import idempotency
from clarion.shared import clients, settings

ALERT = {
    "message_id": "lab-0001",
    "type": "blood_test_alert",
    "patient_id": "P-042",
    "contact_id": "C-1",
    "description": "Potassium 6.8 mmol/L",
    "priority": "H",
    "escalation_policy_id": None,
}


class Kms:
    """KMS's GenerateMac, with a key of our choosing; counts its calls."""

    def __init__(self, key: bytes) -> None:
        self.key, self.calls = key, 0

    def generate_mac(self, *, KeyId: str, Message: bytes, MacAlgorithm: str) -> dict[str, Any]:
        self.calls += 1
        return {"Mac": hashlib.sha256(self.key + Message).digest()}


@pytest.fixture
def kms(monkeypatch: pytest.MonkeyPatch) -> Iterator[Kms]:
    monkeypatch.setenv(names.ENV_LINK_KEY_ID, "arn:aws:kms:eu-west-2:123456789012:key/link")
    settings.settings.cache_clear()
    fake = Kms(b"deployment-a")
    monkeypatch.setattr(clients, "client", lambda service: fake)
    yield fake
    settings.settings.cache_clear()


def layer() -> idempotency.KeyedBodies:
    store = idempotency.KeyedBodies("idempotency", boto3.client("dynamodb", region_name="eu-west-2"))
    store.configure(idempotency.CONFIG, function_name="accept", key_prefix="clarion-intake-accept")
    return store


def submission(**changes: Any) -> dict[str, Any]:
    return {"client_id": "lab-system", "alert": {**ALERT, **changes}}


def plain(alert: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(alert, sort_keys=True).encode()).hexdigest()


def record(payload_hash: str) -> DataRecord:
    return DataRecord(idempotency_key="clarion-intake-accept#k", status="COMPLETED", payload_hash=payload_hash)


def test_a_body_is_kept_as_an_hmac_whose_key_kms_gives_once_per_container(kms: Kms) -> None:
    # Given one container's layer
    store = layer()
    # When it keeps two bodies
    first, second = store._get_hashed_payload(submission()), store._get_hashed_payload(submission(patient_id="P-043"))
    # Then each is keyed, neither is the body's plain hash, and KMS was asked once
    assert first.startswith("hmac-sha256:") and first != second
    assert plain(ALERT) not in first
    assert kms.calls == 1
    # And another container of the deployment keeps the same; another deployment's key keeps another
    assert layer()._get_hashed_payload(submission()) == first
    kms.key = b"deployment-b"
    assert layer()._get_hashed_payload(submission()) != first


def test_a_keyed_record_answers_its_body_and_refuses_another(kms: Kms) -> None:
    store = layer()
    kept = record(store._get_hashed_payload(submission()))
    store._validate_payload(submission(), kept)
    store._validate_payload(record(kept.payload_hash), kept)
    with pytest.raises(IdempotencyValidationError):
        store._validate_payload(submission(patient_id="P-043"), kept)


def test_a_record_from_before_bodies_were_keyed_is_checked_in_its_plain_form(kms: Kms) -> None:
    store = layer()
    kept = record(plain(ALERT))
    # With the body at hand: the plain hash is compared
    store._validate_payload(submission(), kept)
    with pytest.raises(IdempotencyValidationError):
        store._validate_payload(submission(patient_id="P-043"), kept)
    # On the conditional put, where only the new record is at hand: "it exists", so Powertools reads it with the body
    with pytest.raises(IdempotencyItemAlreadyExistsError) as raised:
        store._validate_payload(record(store._get_hashed_payload(submission())), kept)
    assert raised.value.old_data_record is None
