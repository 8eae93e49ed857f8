import pytest
from botocore.exceptions import ClientError

from clarion.shared import clients


def test_connect_call_is_answered_and_recorded(clarion):
    resp = clients.client("connect").start_outbound_voice_contact(
        DestinationPhoneNumber="+447700900123",
        ContactFlowId="f",
        InstanceId="i",
        ClientToken="tok-1",
        Attributes={"message_id": "m1", "attempt": "1", "message": "hello"},
    )
    assert resp["ContactId"]
    assert clarion.outbox[0]["destination"] == "+447700900123"
    assert clarion.outbox[0]["text"] == "hello"


def test_sms_throttle_fault_raises_the_provider_error_then_clears(clarion):
    clarion.bridge.add_fault("sms", "throttle", count=1)
    sns = clients.client("sns")
    with pytest.raises(ClientError) as err:
        sns.publish(PhoneNumber="+447700900123", Message="x")
    assert err.value.response["Error"]["Code"] == "Throttling"
    sns.publish(PhoneNumber="+447700900123", Message="y")
    assert [m["text"] for m in clarion.outbox] == ["y"]
