"""The idempotency record keeps no hash a patient reference can be guessed back from, and still answers as before:
a duplicate gets the first answer, the same message id with another body (another patient included) gets 409,
whichever container answers and whether the record was written before bodies were keyed or after."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig, idempotent_function
from botocore.exceptions import ClientError

from clarion import names
from clarion.adapters import idempotency
from clarion.shared import clients
from tests.helpers import FakeContext
from tests.integration.intake_api import BODY, post, queued_bodies

SUBMITTED = {**BODY, "escalation_policy_id": None}  # the alert as intake takes it over (every field of NewAlert)
ANSWER = {"message_id": "lab-0001", "status": "accepted", "channels": ["call", "sms", "email"]}


def plain_sha256(alert: dict[str, Any]) -> str:
    """What a record kept of a body before bodies were keyed: Powertools' SHA-256 of its JSON, keys sorted."""
    return hashlib.sha256(json.dumps(alert, sort_keys=True).encode()).hexdigest()


def records(clarion: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = clarion.table(names.ENV_IDEMPOTENCY_TABLE).scan()["Items"]
    return items


def write_as_before(clarion: Any, alert: dict[str, Any]) -> None:
    """The record intake kept before bodies were keyed: Powertools' own DynamoDB layer, same key, same config."""
    config = IdempotencyConfig(
        event_key_jmespath="[client_id, alert.message_id]",
        payload_validation_jmespath="alert",
        raise_on_no_idempotency_key=True,
        hash_function="sha256",
    )
    config.register_lambda_context(FakeContext())
    plain = DynamoDBPersistenceLayer(
        table_name=clarion.env[names.ENV_IDEMPOTENCY_TABLE], boto3_client=boto3.client("dynamodb")
    )

    def accept(*, submission: dict[str, Any]) -> dict[str, Any]:
        return ANSWER

    idempotent_function(
        accept,
        data_keyword_argument="submission",
        persistence_store=plain,
        config=config,
        key_prefix="clarion-intake-accept",
    )(submission={"client_id": "lab-system", "alert": alert})


def test_the_record_keeps_no_hash_a_short_patient_reference_can_be_guessed_back_from(api: Any) -> None:
    # Given an accepted alert whose patient reference is short
    status, _ = post({**BODY, "patient_id": "P-042"})
    assert status == 202
    [record] = records(api)
    # When someone who reads the table and knows the rest of the body hashes every short reference
    guesses = {plain_sha256({**SUBMITTED, "patient_id": f"P-{n:03d}"}) for n in range(1000)}
    # Then none is what the record keeps: an HMAC whose key is not in the table
    assert not any(guess in record["validation"] for guess in guesses)
    assert record["validation"].startswith("hmac-sha256:")
    assert "P-042" not in json.dumps(record, default=str)


def test_the_same_message_id_for_another_patient_is_a_conflict(api: Any) -> None:
    # Given an accepted alert
    post(BODY)
    queued_bodies(api)
    # When the same message_id comes with everything the same but the patient
    status, body = post({**BODY, "patient_id": "PATIENT-REF-11111"})
    # Then 409 conflict, and nothing is queued
    assert (status, body["error"]["code"], body["error"]["field"]) == (409, "conflict", "message_id")
    assert queued_bodies(api) == []


def test_a_retry_answered_by_another_container_gets_the_first_answer(api: Any) -> None:
    # Given an alert accepted on /notification (the AWS sample's path)
    first = post(BODY, path="/notification")
    # When the retry reaches a new container (its body key derived afresh)
    idempotency.once.cache_clear()
    second = post(BODY, path="/notification")
    # Then the answer is the first one, the alert queued once; another body is still a conflict there
    assert first == second == (202, ANSWER)
    assert len(queued_bodies(api)) == 1
    assert post({**BODY, "description": "changed"}, path="/notification")[0] == 409


def test_a_record_written_before_bodies_were_keyed_still_answers(api: Any) -> None:
    # Given a record as intake kept it before, holding the body's plain SHA-256
    write_as_before(api, SUBMITTED)
    [record] = records(api)
    assert record["validation"] == plain_sha256(SUBMITTED)
    # When the client retries that alert, and then sends the same message_id with other bodies
    retries = [post(BODY), post(BODY, path="/notification")]
    conflicts = [post({**BODY, "description": "changed"}), post({**BODY, "patient_id": "PATIENT-REF-11111"})]
    # Then the retries get the first answer and start nothing; the other bodies get 409 conflict
    assert retries == [(202, ANSWER), (202, ANSWER)]
    assert queued_bodies(api) == []
    assert [(status, body["error"]["code"]) for status, body in conflicts] == [(409, "conflict")] * 2
    assert [r["validation"] for r in records(api)] == [plain_sha256(SUBMITTED)]


def test_when_kms_cannot_give_the_body_key_the_alert_is_503_and_its_retry_is_accepted(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given KMS failing
    kms = clients.client("kms")
    working = kms.generate_mac

    def down(**kwargs: Any) -> Any:
        raise ClientError({"Error": {"Code": "KMSInternalException", "Message": "down"}}, "GenerateMac")

    monkeypatch.setattr(kms, "generate_mac", down)
    # When an alert is posted
    status, body = post(BODY)
    # Then 503, nothing recorded or queued
    assert (status, body["error"]["code"]) == (503, "unavailable")
    assert records(api) == [] and queued_bodies(api) == []
    # And once KMS is back, the retry is accepted
    monkeypatch.setattr(kms, "generate_mac", working)
    assert post(BODY) == (202, ANSWER)
