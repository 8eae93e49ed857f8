import pytest
from botocore.exceptions import ClientError

from clarion.adapters import call_words
from clarion.shared import clients
from clarion_local.receipts import UNAVAILABLE


def start_call(attributes: dict[str, str], token: str) -> str:
    resp = clients.client("connect").start_outbound_voice_contact(
        DestinationPhoneNumber="+447700900123",
        ContactFlowId="f",
        InstanceId="i",
        ClientToken=token,
        Attributes=attributes,
    )
    return str(resp["ContactId"])


def test_connect_call_is_answered_and_recorded_with_the_words_its_flow_fetched(clarion):
    handle = call_words.store('<speak><prosody rate="slow">hello &amp; welcome</prosody></speak>')
    assert start_call({"call": handle}, "tok-1")
    assert clarion.outbox[0]["destination"] == "+447700900123"
    assert clarion.outbox[0]["text"] == "hello & welcome"


def test_a_call_whose_handle_holds_no_words_says_only_to_check_clarion(clarion):
    start_call({"call": "A" * 22}, "tok-2")
    start_call({"message": "hello"}, "tok-3")  # words in the attributes are not what the flow says
    assert [m["text"] for m in clarion.outbox] == [UNAVAILABLE, UNAVAILABLE]


def test_sms_throttle_fault_raises_the_provider_error_then_clears(clarion):
    clarion.bridge.add_fault("sms", "throttle", count=1)
    sns = clients.client("sns")
    with pytest.raises(ClientError) as err:
        sns.publish(PhoneNumber="+447700900123", Message="x")
    assert err.value.response["Error"]["Code"] == "Throttling"
    sns.publish(PhoneNumber="+447700900123", Message="y")
    assert [m["text"] for m in clarion.outbox] == ["y"]
