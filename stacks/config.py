"""Per-environment settings: one typed, frozen object chosen with `-c env=<name>`.

Values come from `cdk.json` (`clarion.defaults`, then `clarion.<env>`), then from `-c key=value`
overrides. A malformed or unknown value fails synth with a sentence naming the key.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields
from typing import Any

CONNECT_MODES = ("create", "existing", "off")
PRIORITIES = ("H", "M", "L")
CHANNELS = ("call", "sms", "email")
SMS_DETAILS = ("description", "minimal")
MIN_WINDOW_S, MAX_WINDOW_S = 5, 86_400
SMS_TYPES = ("Transactional", "Promotional")
REMOVAL_POLICIES = ("retain", "destroy")
# The retention periods CloudWatch Logs accepts.
LOG_RETENTION_NAMES = {
    1: "ONE_DAY",
    3: "THREE_DAYS",
    5: "FIVE_DAYS",
    7: "ONE_WEEK",
    14: "TWO_WEEKS",
    30: "ONE_MONTH",
    60: "TWO_MONTHS",
    90: "THREE_MONTHS",
    120: "FOUR_MONTHS",
    150: "FIVE_MONTHS",
    180: "SIX_MONTHS",
    365: "ONE_YEAR",
    400: "THIRTEEN_MONTHS",
    545: "EIGHTEEN_MONTHS",
    731: "TWO_YEARS",
    1096: "THREE_YEARS",
    1827: "FIVE_YEARS",
    2192: "SIX_YEARS",
    2557: "SEVEN_YEARS",
    2922: "EIGHT_YEARS",
    3288: "NINE_YEARS",
    3653: "TEN_YEARS",
}
LOG_RETENTION_DAYS = tuple(LOG_RETENTION_NAMES)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_SENDER_ID = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9]{1,11}$")
_PRICE = re.compile(r"^\d{1,3}(\.\d{1,5})?$")
_CONNECT_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_TIER_NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
_TIER_KEYS = {"rate_limit", "burst_limit", "daily_quota"}
_ENV_NAME = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
_SMS_ORIGINATION = re.compile(
    r"^(request|(phone|pool)-[0-9a-f]{32}|arn:aws[a-z-]*:sms-voice:[a-z0-9-]+:\d{12}:(phone-number|pool)/(phone|pool)-[0-9a-f]{32})$"
)
DEFAULT_DAILY_QUOTA = 100_000  # a tier's requests per client per UTC day when cdk.json gives none
SMS_NUMBER_TYPES = ("TOLL_FREE", "LONG_CODE", "TEN_DLC", "SIMULATOR")
# SNS's SMS delivery status (one-way SMS only): the stack turns it on for the account and region and owns its log
# groups ("manage"), or subscribes to the log groups an earlier setup made ("existing"), or there is none ("off").
SNS_SMS_DELIVERY_STATUS = ("manage", "existing", "off")


class ConfigError(ValueError):
    """A setting is missing, unknown or malformed."""


@dataclass(frozen=True)
class UsageTier:
    """A usage plan: every client in it has its own bucket of `burst_limit` requests, refilled at `rate_limit`/s,
    and its own `daily_quota` of requests a UTC day."""

    rate_limit: float
    burst_limit: int
    daily_quota: int = DEFAULT_DAILY_QUOTA


@dataclass(frozen=True)
class Settings:
    env_name: str
    sender_email: str
    sms_sender_id: str
    sms_type: str
    sms_max_price_usd: str
    sms_monthly_spend_limit_usd: float
    connect_mode: str
    connect_instance_id: str
    connect_flow_phone_number: str
    connect_country_code: str
    private_networking: bool
    alarm_email: str
    delivery_log_retention_days: int
    log_retention_days: int
    api_rate_limit: float
    api_burst_limit: int
    waf_rate_limit_per_5min: int
    waf_link_rate_limit_per_min: int  # acknowledgement-link requests per source address a minute
    removal_policy: str
    max_attempts_per_channel: int
    powertools_layer_version: int
    runbook_url: str
    reserved_concurrency: int
    sdk_tracing: bool
    ack_required: tuple[str, ...]
    ack_window_s: dict[str, int]
    ack_target_s: dict[str, int]
    ack_link_expiry_hours: int
    sms_detail: str
    notify_on_ack: bool
    receipt_timeout_s: dict[str, int]
    delivery_rate_alarm_pct: float
    sms_origination: str  # "" (one-way SNS), "request" (the stack requests a number), or an existing identity
    sms_number_country: str
    sms_number_type: str
    sms_bare_ack: bool  # two-way SMS: a reply without the code ("ACK") answers the number's only open alert
    sns_sms_delivery_status: str  # one of SNS_SMS_DELIVERY_STATUS; read only when SMS stays on SNS
    usage_tiers: dict[str, UsageTier]  # name -> each client's own rate and burst in that tier (a usage plan)
    usage_tier_default: str  # the tier of a client given none

    def ack_policy(self) -> dict[str, dict[str, int]]:
        """What the functions read (ACK_POLICY): per priority needing an acknowledgement, window and target."""
        return {p: {"window_s": self.ack_window_s[p], "target_s": self.ack_target_s[p]} for p in self.ack_required}

    @property
    def receipt_timeouts(self) -> dict[str, int]:
        """Channel -> seconds the router waits for a delivery receipt, for the channels whose receipts this
        deployment receives (email: SES's configuration set; call: Connect's contact events). A channel absent
        (or set to 0) counts a provider's acceptance as delivery."""
        has_receipts = {"email": True, "call": self.call_enabled, "sms": self.sms_two_way or self.sns_sms_receipts}
        return {c: t for c, t in self.receipt_timeout_s.items() if t and has_receipts[c]}

    @property
    def sms_two_way(self) -> bool:
        """SMS through End User Messaging (replies acknowledge; its events are receipts) rather than SNS."""
        return self.sms_origination != ""

    @property
    def sns_sms_receipts(self) -> bool:
        """One-way SMS through SNS whose delivery status (CloudWatch Logs) reaches the receipts queue."""
        return not self.sms_two_way and self.sns_sms_delivery_status != "off"

    @property
    def call_enabled(self) -> bool:
        return self.connect_mode != "off"

    @property
    def retain_data(self) -> bool:
        return self.removal_policy == "retain"


def _as_bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ConfigError(f"Setting '{key}' must be true or false; got {value!r}.")


def _as_int(key: str, value: Any, low: int, high: int) -> int:
    try:
        number = int(str(value))
    except ValueError:
        raise ConfigError(f"Setting '{key}' must be a whole number from {low} to {high}; got {value!r}.") from None
    if not low <= number <= high:
        raise ConfigError(f"Setting '{key}' must be a whole number from {low} to {high}; got {value!r}.")
    return number


def _as_float(key: str, value: Any, low: float, high: float) -> float:
    try:
        number = float(str(value))
    except ValueError:
        raise ConfigError(f"Setting '{key}' must be a number from {low:g} to {high:g}; got {value!r}.") from None
    if not low <= number <= high:
        raise ConfigError(f"Setting '{key}' must be a number from {low:g} to {high:g}; got {value!r}.")
    return number


def _one_of(key: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(f"Setting '{key}' must be one of {', '.join(allowed)}; got {value!r}.")
    return str(value)


def _matching(key: str, value: Any, pattern: re.Pattern[str], what: str, optional: bool = False) -> str:
    text = "" if value is None else str(value)
    if optional and text == "":
        return ""
    if not pattern.match(text):
        raise ConfigError(f"Setting '{key}' must be {what}; got {value!r}.")
    return text


def _parse(env_name: str, raw: dict[str, Any]) -> Settings:
    mode = _one_of("connect_mode", raw.get("connect_mode"), CONNECT_MODES)
    settings = Settings(
        env_name=env_name,
        sender_email=_matching("sender_email", raw.get("sender_email"), _EMAIL, "an email address"),
        sms_sender_id=_matching(
            "sms_sender_id",
            raw.get("sms_sender_id"),
            _SENDER_ID,
            "1 to 11 letters or digits, at least one letter",
            optional=True,
        ),
        sms_type=_one_of("sms_type", raw.get("sms_type"), SMS_TYPES),
        sms_max_price_usd=_matching(
            "sms_max_price_usd", raw.get("sms_max_price_usd"), _PRICE, "a price in USD like 0.50"
        ),
        sms_monthly_spend_limit_usd=_as_float(
            "sms_monthly_spend_limit_usd", raw.get("sms_monthly_spend_limit_usd"), 1, 1e6
        ),
        connect_mode=mode,
        connect_instance_id=_matching(
            "connect_instance_id",
            raw.get("connect_instance_id"),
            _CONNECT_ID,
            "an Amazon Connect instance id (a UUID)",
            optional=mode != "existing",
        ),
        connect_flow_phone_number=_matching(
            "connect_flow_phone_number",
            raw.get("connect_flow_phone_number"),
            _E164,
            "a phone number in E.164 form like +442071838750",
            optional=mode != "existing",
        ),
        connect_country_code=_matching(
            "connect_country_code",
            raw.get("connect_country_code"),
            re.compile(r"^[A-Z]{2}$"),
            "a two-letter ISO country code like US or GB",
        ),
        private_networking=_as_bool("private_networking", raw.get("private_networking")),
        alarm_email=_matching(
            "alarm_email", raw.get("alarm_email"), _EMAIL, "an email address or empty", optional=True
        ),
        delivery_log_retention_days=_as_int(
            "delivery_log_retention_days", raw.get("delivery_log_retention_days"), 1, 3650
        ),
        log_retention_days=_one_of_int("log_retention_days", raw.get("log_retention_days"), LOG_RETENTION_DAYS),
        api_rate_limit=_as_float("api_rate_limit", raw.get("api_rate_limit"), 1, 10000),
        api_burst_limit=_as_int("api_burst_limit", raw.get("api_burst_limit"), 1, 5000),
        waf_rate_limit_per_5min=_as_int(
            "waf_rate_limit_per_5min", raw.get("waf_rate_limit_per_5min"), 10, 2_000_000_000
        ),
        waf_link_rate_limit_per_min=_as_int(
            "waf_link_rate_limit_per_min", raw.get("waf_link_rate_limit_per_min"), 10, 2_000_000_000
        ),
        removal_policy=_one_of("removal_policy", raw.get("removal_policy"), REMOVAL_POLICIES),
        max_attempts_per_channel=_as_int("max_attempts_per_channel", raw.get("max_attempts_per_channel"), 1, 10),
        powertools_layer_version=_as_int("powertools_layer_version", raw.get("powertools_layer_version"), 1, 10000),
        reserved_concurrency=_as_int("reserved_concurrency", raw.get("reserved_concurrency"), 0, 1000),
        sdk_tracing=_as_bool("sdk_tracing", raw.get("sdk_tracing")),
        runbook_url=_matching("runbook_url", raw.get("runbook_url"), re.compile(r"^\S{1,500}$"), "a URL or path"),
        ack_required=_priorities("ack_required", raw.get("ack_required")),
        ack_window_s=_seconds_by_priority("ack_window_s", raw.get("ack_window_s"), MIN_WINDOW_S, MAX_WINDOW_S),
        ack_target_s=_seconds_by_priority("ack_target_s", raw.get("ack_target_s"), 1, 7 * MAX_WINDOW_S),
        ack_link_expiry_hours=_as_int("ack_link_expiry_hours", raw.get("ack_link_expiry_hours"), 1, 24 * 14),
        sms_detail=_one_of("sms_detail", raw.get("sms_detail"), SMS_DETAILS),
        notify_on_ack=_as_bool("notify_on_ack", raw.get("notify_on_ack")),
        receipt_timeout_s=_seconds_by_channel("receipt_timeout_s", raw.get("receipt_timeout_s")),
        delivery_rate_alarm_pct=_as_float("delivery_rate_alarm_pct", raw.get("delivery_rate_alarm_pct"), 1, 100),
        sms_origination=_matching(
            "sms_origination",
            raw.get("sms_origination"),
            _SMS_ORIGINATION,
            "empty (one-way SMS through SNS), request, or an End User Messaging phone number or pool id or ARN",
            optional=True,
        ),
        sms_number_country=_matching(
            "sms_number_country",
            raw.get("sms_number_country"),
            re.compile(r"^[A-Z]{2}$"),
            "a two-letter ISO country code",
        ),
        sms_number_type=_one_of("sms_number_type", raw.get("sms_number_type"), SMS_NUMBER_TYPES),
        sms_bare_ack=_as_bool("sms_bare_ack", raw.get("sms_bare_ack")),
        sns_sms_delivery_status=_one_of(
            "sns_sms_delivery_status", raw.get("sns_sms_delivery_status"), SNS_SMS_DELIVERY_STATUS
        ),
        usage_tiers=_usage_tiers("usage_tiers", raw.get("usage_tiers")),
        usage_tier_default=_matching(
            "usage_tier_default", raw.get("usage_tier_default"), _TIER_NAME, "a tier name from usage_tiers"
        ),
    )
    _check_usage_tiers(settings)
    for key in ("ack_window_s", "ack_target_s"):
        missing = [p for p in settings.ack_required if p not in getattr(settings, key)]
        if missing:
            raise ConfigError(
                f"Setting '{key}' must give a number of seconds for priority {missing[0]} (in ack_required)."
            )
    if env_name == "prod" and settings.removal_policy != "retain":
        raise ConfigError("Setting 'removal_policy' must be retain in prod: alert history and contacts must survive.")
    return settings


def _json(key: str, value: Any) -> Any:
    """A structured setting, as cdk.json holds it or as `-c key='<json>'` passes it."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise ConfigError(f"Setting '{key}' must be JSON; got {value!r}.") from None
    return value


def _priorities(key: str, value: Any) -> tuple[str, ...]:
    value = _json(key, value)
    if not isinstance(value, list) or any(p not in PRIORITIES for p in value) or len(set(value)) != len(value):
        raise ConfigError(f"Setting '{key}' must be a list of distinct priorities from H, M, L; got {value!r}.")
    return tuple(value)


def _seconds_by_priority(key: str, value: Any, low: int, high: int) -> dict[str, int]:
    value = _json(key, value)
    if not isinstance(value, dict) or any(p not in PRIORITIES for p in value):
        raise ConfigError(f"Setting '{key}' must map priorities (H, M, L) to seconds; got {value!r}.")
    return {p: _as_int(f"{key}.{p}", v, low, high) for p, v in value.items()}


def _seconds_by_channel(key: str, value: Any) -> dict[str, int]:
    """Seconds per channel, 0 (no wait) to 900 (SQS's longest delay, which holds each receipt's deadline)."""
    value = _json(key, value)
    if not isinstance(value, dict) or any(c not in CHANNELS for c in value):
        raise ConfigError(f"Setting '{key}' must map channels ({', '.join(CHANNELS)}) to seconds; got {value!r}.")
    return {c: _as_int(f"{key}.{c}", v, 0, 900) for c, v in value.items()}


def _usage_tiers(key: str, value: Any) -> dict[str, UsageTier]:
    value = _json(key, value)
    if not isinstance(value, dict) or not value or any(not _TIER_NAME.match(str(t)) for t in value):
        raise ConfigError(
            f"Setting '{key}' must map tier names (a-z, 0-9, '-', up to 32) to {{rate_limit, burst_limit}}; "
            f"got {value!r}."
        )
    tiers: dict[str, UsageTier] = {}
    for name, limits in value.items():
        if not isinstance(limits, dict) or not {"rate_limit", "burst_limit"} <= set(limits) <= _TIER_KEYS:
            raise ConfigError(
                f'Setting \'{key}.{name}\' must be {{"rate_limit": N, "burst_limit": N, "daily_quota": N}} '
                f"(daily_quota optional, default {DEFAULT_DAILY_QUOTA}); got {limits!r}."
            )
        tiers[name] = UsageTier(
            rate_limit=_as_float(f"{key}.{name}.rate_limit", limits["rate_limit"], 1, 10000),
            burst_limit=_as_int(f"{key}.{name}.burst_limit", limits["burst_limit"], 1, 5000),
            daily_quota=_as_int(f"{key}.{name}.daily_quota", limits.get("daily_quota", DEFAULT_DAILY_QUOTA), 1, 10**9),
        )
    return tiers


def _check_usage_tiers(settings: Settings) -> None:
    """A tier above the stage's own limits would never bind: refuse it rather than let it mislead."""
    if settings.usage_tier_default not in settings.usage_tiers:
        raise ConfigError(
            f"Setting 'usage_tier_default' must be one of the usage_tiers ({', '.join(settings.usage_tiers)}); "
            f"got {settings.usage_tier_default!r}."
        )
    for name, tier in settings.usage_tiers.items():
        if tier.rate_limit > settings.api_rate_limit or tier.burst_limit > settings.api_burst_limit:
            raise ConfigError(
                f"Setting 'usage_tiers.{name}' must stay within the stage's api_rate_limit "
                f"({settings.api_rate_limit:g}) and api_burst_limit ({settings.api_burst_limit}); "
                f"got {tier.rate_limit:g}/{tier.burst_limit}."
            )


def _one_of_int(key: str, value: Any, allowed: tuple[int, ...]) -> int:
    number = _as_int(key, value, min(allowed), max(allowed))
    if number not in allowed:
        raise ConfigError(f"Setting '{key}' must be one of {', '.join(map(str, allowed))}; got {value!r}.")
    return number


KNOWN_KEYS = frozenset(f.name for f in fields(Settings)) - {"env_name"}


def load(context: dict[str, Any], overrides: dict[str, Any]) -> Settings:
    """Build the settings for `overrides['env']` (default `dev`) from the `clarion` context block.

    `overrides` holds the `-c key=value` pairs given on the command line.
    """
    block = context.get("clarion")
    if not isinstance(block, dict) or "defaults" not in block:
        raise ConfigError("cdk.json must hold a 'clarion' context block with 'defaults'.")
    env_name = str(overrides.get("env") or context.get("env") or "dev")
    environments = sorted(k for k in block if k != "defaults")
    if not _ENV_NAME.match(env_name) or env_name not in block:
        raise ConfigError(f"Setting 'env' must be one of {', '.join(environments)}; got {env_name!r}.")
    raw: dict[str, Any] = {**block["defaults"], **block[env_name]}
    for key in raw:
        if key not in KNOWN_KEYS:
            raise ConfigError(f"Unknown setting '{key}' in cdk.json; known settings: {', '.join(sorted(KNOWN_KEYS))}.")
    for key, value in overrides.items():
        if key in KNOWN_KEYS:
            raw[key] = value
    return _parse(env_name, raw)
