"""What an AWS error may tell the code above the adapters: a failed condition, and the item that stood, plain."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from clarion.shared.aws_errors import condition_failed, describe, item_that_stood


def failure(code: str, item: dict[str, Any] | None = None) -> ClientError:
    response: dict[str, Any] = {"Error": {"Code": code, "Message": "The conditional request failed"}}
    if item is not None:
        response["Item"] = item
    return ClientError(response, "UpdateItem")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "item",
    [
        {"seq": {"N": "3"}, "outcome": {"S": "delivered"}, "reached_sms": {"SS": ["C-1"]}},  # the service's form
        {"seq": "3", "outcome": "delivered", "reached_sms": {"SS": ["C-1"]}},  # already plain
    ],
)
def test_the_item_that_stood_is_read_plain_in_either_form(item: dict[str, Any]) -> None:
    stood = item_that_stood(failure("ConditionalCheckFailedException", item))
    assert stood == {"seq": "3", "outcome": "delivered", "reached_sms": {"SS": ["C-1"]}}


def test_a_failure_without_an_item_has_none_and_only_a_condition_failure_is_one() -> None:
    assert item_that_stood(failure("ConditionalCheckFailedException")) is None
    assert condition_failed(failure("ConditionalCheckFailedException"))
    assert not condition_failed(failure("ProvisionedThroughputExceededException"))
    described = describe(failure("ThrottlingException"))
    assert described == {"error_type": "ClientError", "error_code": "ThrottlingException"}
