"""The closed loop's settings: cdk.json's defaults, `-c` overrides as JSON, and a sentence naming the key when a
value is wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stacks.config import DEFAULT_DAILY_QUOTA, ConfigError, load

CONTEXT = json.loads((Path(__file__).resolve().parents[2] / "cdk.json").read_text())["context"]


def settings(**overrides: Any) -> Any:
    return load(CONTEXT, overrides)


def test_by_default_high_and_medium_need_an_acknowledgement_with_their_windows_and_targets() -> None:
    s = settings()
    assert s.ack_policy() == {"H": {"window_s": 300, "target_s": 1800}, "M": {"window_s": 1800, "target_s": 7200}}
    assert (s.ack_link_expiry_hours, s.sms_detail) == (24, "description")


def test_overrides_on_the_command_line_are_json() -> None:
    s = settings(ack_required='["H"]', ack_window_s='{"H": 60}', sms_detail="minimal")
    assert s.ack_policy() == {"H": {"window_s": 60, "target_s": 1800}}
    assert s.sms_detail == "minimal"


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"sms_detail": "everything"}, "sms_detail"),
        ({"ack_required": '["X"]'}, "ack_required"),
        ({"ack_required": '["H", "H"]'}, "ack_required"),
        ({"ack_required": "not json"}, "ack_required"),
        ({"ack_window_s": '{"H": 4, "M": 1800}'}, "ack_window_s.H"),
        ({"ack_window_s": '{"H": 300}'}, "ack_window_s"),
        ({"ack_target_s": '{"Q": 5}'}, "ack_target_s"),
        ({"ack_link_expiry_hours": 0}, "ack_link_expiry_hours"),
        ({"receipt_timeout_s": '{"fax": 60}'}, "receipt_timeout_s"),
        ({"receipt_timeout_s": '{"sms": 901}'}, "receipt_timeout_s.sms"),
        ({"receipt_timeout_s": '{"email": -1}'}, "receipt_timeout_s.email"),
        ({"delivery_rate_alarm_pct": 0}, "delivery_rate_alarm_pct"),
        ({"sms_origination": "yes please"}, "sms_origination"),
        ({"sms_origination": "phone-123"}, "sms_origination"),
        ({"sms_number_type": "SHORT_CODE"}, "sms_number_type"),
        ({"sns_sms_delivery_status": "on"}, "sns_sms_delivery_status"),
        ({"sms_number_country": "usa"}, "sms_number_country"),
    ],
)
def test_a_bad_value_stops_synth_with_a_sentence_naming_the_key(overrides: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError, match=f"Setting '{key}'"):
        settings(**overrides)


def test_receipts_are_awaited_only_on_the_channels_whose_receipts_the_deployment_receives() -> None:
    # Email (SES's configuration set), calls (Connect's contact events and the keypress), two-way SMS (End
    # User Messaging's configuration set) and one-way SMS on SNS while its delivery status is on
    assert settings().receipt_timeouts == {"call": 180, "sms": 120, "email": 300}
    assert settings(sms_origination="").receipt_timeouts == {"call": 180, "sms": 120, "email": 300}
    one_way_no_status = settings(sms_origination="", sns_sms_delivery_status="off")
    assert one_way_no_status.receipt_timeouts == {"call": 180, "email": 300}
    assert settings(sms_origination="", sns_sms_delivery_status="existing").sns_sms_receipts
    assert not settings(sns_sms_delivery_status="manage").sns_sms_receipts  # two-way: End User Messaging's events
    assert settings(connect_mode="off", sms_origination="", sns_sms_delivery_status="off").receipt_timeouts == {
        "email": 300
    }
    # A timeout of 0 counts the provider's acceptance as delivery, as before receipts
    assert settings(receipt_timeout_s='{"call": 0, "email": 60}').receipt_timeouts == {"email": 60}


def test_two_way_sms_takes_a_requested_number_or_an_existing_identity() -> None:
    assert settings().sms_two_way and settings().sms_origination == "request"  # dev: a simulator number
    assert not settings(env="prod").sms_two_way  # prod: the engineer names a registered identity
    pool = "pool-" + "0123456789abcdef" * 2
    assert settings(sms_origination=pool).sms_origination == pool
    arn = "arn:aws:sms-voice:eu-west-2:123456789012:phone-number/phone-" + "ab" * 16
    assert settings(sms_origination=arn).sms_two_way


def test_sms_replies_need_the_code_unless_bare_answers_are_turned_on() -> None:
    # SMS senders can be spoofed: by default (every environment) a reply without its code answers nothing
    assert settings().sms_bare_ack is False and settings(env="prod").sms_bare_ack is False
    assert settings(sms_bare_ack="true").sms_bare_ack is True
    with pytest.raises(ConfigError, match=r"Setting 'sms_bare_ack' must be true or false; got 'sometimes'\."):
        settings(sms_bare_ack="sometimes")


def test_usage_tiers_give_each_tier_its_rate_and_burst_and_a_default() -> None:
    s = settings()
    assert {name: (t.rate_limit, t.burst_limit) for name, t in s.usage_tiers.items()} == {
        "standard": (20, 40),
        "bulk": (50, 100),
    }
    assert s.usage_tier_default == "standard"
    assert settings(env="prod").usage_tiers["bulk"].burst_limit == 400


def test_each_tier_has_a_daily_quota_per_client_well_above_its_normal_use() -> None:
    # Given cdk.json's tiers: each a daily quota, and a tier that names none gets the default
    assert {n: t.daily_quota for n, t in settings().usage_tiers.items()} == {"standard": 100_000, "bulk": 500_000}
    assert settings(env="prod").usage_tiers["bulk"].daily_quota == 1_000_000
    plain = settings(usage_tiers='{"standard": {"rate_limit": 1, "burst_limit": 1}}').usage_tiers["standard"]
    assert plain.daily_quota == DEFAULT_DAILY_QUOTA
    # And the link's own WAF rate per address has a setting of its own
    assert settings().waf_link_rate_limit_per_min == 100


@pytest.mark.parametrize(
    ("overrides", "sentence"),
    [
        ({"usage_tiers": "{}"}, "Setting 'usage_tiers' must map tier names"),
        ({"usage_tiers": '{"Bulk!": {"rate_limit": 1, "burst_limit": 1}}'}, "Setting 'usage_tiers' must map"),
        ({"usage_tiers": '{"standard": {"rate_limit": 1}}'}, "Setting 'usage_tiers.standard' must be"),
        ({"usage_tiers": '{"standard": {"rate_limit": 0, "burst_limit": 1}}'}, "usage_tiers.standard.rate_limit"),
        ({"usage_tier_default": "gold"}, "Setting 'usage_tier_default' must be one of the usage_tiers"),
        (
            {"usage_tiers": '{"standard": {"rate_limit": 1, "burst_limit": 1, "daily_quota": 0}}'},
            "Setting 'usage_tiers.standard.daily_quota' must be a whole number from 1",
        ),
        (
            {"usage_tiers": '{"standard": {"rate_limit": 1, "burst_limit": 1, "quota": 5}}'},
            "Setting 'usage_tiers.standard' must be",
        ),
        (
            {"usage_tiers": '{"standard": {"rate_limit": 60, "burst_limit": 10}}'},
            "Setting 'usage_tiers.standard' must stay within the stage's api_rate_limit (50)",
        ),
        (
            {"usage_tiers": '{"standard": {"rate_limit": 10, "burst_limit": 101}}'},
            "and api_burst_limit (100); got 10/101.",
        ),
    ],
)
def test_a_wrong_usage_tier_fails_synth_with_a_sentence(overrides: dict[str, str], sentence: str) -> None:
    with pytest.raises(ConfigError) as raised:
        settings(**overrides)
    assert sentence in str(raised.value)
