"""The one module shared by `stacks/` and `lambdas/`: handler paths, environment
variable names and metric names. Constants only; it imports nothing."""

# Handler paths, relative to the `lambdas/` asset root.
AUTHORIZER_HANDLER = "clarion.handlers.authorizer.handler"
INTAKE_HANDLER = "clarion.handlers.intake.handler"
CONTACTS_HANDLER = "clarion.handlers.contacts.handler"
ROUTER_HANDLER = "clarion.handlers.router.handler"
ESCALATOR_HANDLER = "clarion.handlers.escalator.handler"
LINKS_HANDLER = "clarion.handlers.links.handler"
RECEIPTS_HANDLER = "clarion.handlers.receipts.handler"
REPLIES_HANDLER = "clarion.handlers.replies.handler"
KEYPRESS_HANDLER = "clarion.handlers.keypress.handler"
SMS_STATUS_HANDLER = "clarion.handlers.sms_status.handler"
DEAD_LETTERS_HANDLER = "clarion.handlers.dead_letters.handler"
TIMER_DEAD_LETTERS_HANDLER = "clarion.handlers.timer_dead_letters.handler"

# Environment variables the stacks set and the handlers read.
ENV_CONTACTS_TABLE = "CONTACTS_TABLE"
ENV_AUDIT_TABLE = "AUDIT_TABLE"  # who changed which contact or policy, when, and what it held before
ENV_CLIENTS_TABLE = "CLIENTS_TABLE"
# Usage plans: JSON object tier -> the tier's shared API key (for clients with no key of their own), and the tier
# of a client given none. The authorizer returns the client's key as its usage identifier.
ENV_USAGE_KEYS = "USAGE_KEYS"
ENV_USAGE_TIER_DEFAULT = "USAGE_TIER_DEFAULT"
ENV_IDEMPOTENCY_TABLE = "IDEMPOTENCY_TABLE"
ENV_DELIVERY_TABLE = "DELIVERY_TABLE"
ENV_ALERT_QUEUE_URL = "ALERT_QUEUE_URL"
ENV_EVENTS_TOPIC_ARN = "EVENTS_TOPIC_ARN"
ENV_SENDER_EMAIL = "SENDER_EMAIL"
ENV_SES_CONFIGURATION_SET = "SES_CONFIGURATION_SET"
ENV_EMAIL_TEMPLATES = "EMAIL_TEMPLATES"  # JSON object: template kind -> SES template name
ENV_SMS_SENDER_ID = "SMS_SENDER_ID"
ENV_SMS_TYPE = "SMS_TYPE"
ENV_SMS_MAX_PRICE = "SMS_MAX_PRICE"
ENV_CALL_ENABLED = "CALL_ENABLED"  # "true" | "false"
ENV_CONNECT_INSTANCE_ID = "CONNECT_INSTANCE_ID"
ENV_CONNECT_FLOW_ID = "CONNECT_FLOW_ID"
ENV_CONNECT_SOURCE_PHONE = "CONNECT_SOURCE_PHONE"
ENV_DELIVERY_RETENTION_DAYS = "DELIVERY_RETENTION_DAYS"
ENV_MAX_ATTEMPTS_PER_CHANNEL = "MAX_ATTEMPTS_PER_CHANNEL"
ENV_POLICIES_TABLE = "POLICIES_TABLE"
ENV_SCHEDULES_TABLE = "SCHEDULES_TABLE"  # on-call schedules and their overrides
ENV_TIMER_QUEUE_URL = "TIMER_QUEUE_URL"
# JSON object: priority -> {"window_s": seconds the addressee has, "target_s": the organisation's target};
# a priority absent from it needs no acknowledgement.
ENV_ACK_POLICY = "ACK_POLICY"
ENV_LINK_BASE_URL = "LINK_BASE_URL"  # the API's URL; acknowledgement links are <base>/l/<token>
ENV_LINK_KEY_ID = "LINK_KEY_ID"  # the KMS HMAC key that signs acknowledgement links
ENV_LINK_EXPIRY_S = "LINK_EXPIRY_S"
ENV_SMS_DETAIL = "SMS_DETAIL"  # "description" | "minimal"
ENV_NOTIFY_ON_ACK = "NOTIFY_ON_ACK"  # "true" | "false": tell the others reached by SMS that an alert was taken
ENV_RECEIPTS_QUEUE_URL = "RECEIPTS_QUEUE_URL"  # delivery receipts, and the deadlines of the receipts awaited
# JSON object: channel -> seconds to wait for a delivery receipt; a channel absent from it has none to wait for.
ENV_RECEIPT_TIMEOUTS = "RECEIPT_TIMEOUTS"
# Two-way SMS through AWS End User Messaging: the origination identity (phone number or pool, id or ARN) and its
# configuration set (whose events are the SMS receipts). Unset: SMS goes one-way through SNS.
ENV_SMS_ORIGINATION = "SMS_ORIGINATION_IDENTITY"
ENV_SMS_CONFIGURATION_SET = "SMS_CONFIGURATION_SET"

# CloudWatch metrics (EMF), emitted by the handlers and watched by the alarms.
METRICS_NAMESPACE = "Clarion"
SERVICE_ROUTER = "router"
SERVICE_INTAKE = "intake"
METRIC_ALERTS_ACCEPTED = "AlertsAccepted"
METRIC_DELIVERY_ATTEMPTS = "DeliveryAttempts"
METRIC_DELIVERY_SUCCESSES = "DeliverySuccesses"
METRIC_RETRYABLE_FAILURES = "DeliveryRetryableFailures"
METRIC_PERMANENT_FAILURES = "DeliveryPermanentFailures"
METRIC_DELIVERY_FAILURES = "DeliveryFailures"  # retryable + permanent, for the failure-rate alarm
METRIC_FALLBACKS = "Fallbacks"
METRIC_UNROUTABLE = "AlertsUnroutable"
METRIC_AMBIGUOUS_RESENDS = "AmbiguousResends"
METRIC_ACCEPT_TO_DELIVERED = "AcceptToDeliveredMs"
SERVICE_ESCALATOR = "escalator"
SERVICE_ACKS = "acks"  # dimension of the acknowledgement metrics, whoever records them (API, link, escalator)
METRIC_TIME_TO_FIRST_DELIVERY = "TimeToFirstDeliveryS"
METRIC_TIME_TO_ACK = "TimeToAckS"
METRIC_ACK_WITHIN_TARGET = "AcksWithinTarget"
METRIC_ACK_LATE = "AcksLate"
METRIC_UNACKNOWLEDGED = "AlertsUnacknowledged"
METRIC_ESCALATIONS = "Escalations"
METRIC_STAGE_LATENESS = "StageStartLatenessS"
SERVICE_RECEIPTS = "receipts"
METRIC_RECEIPTS = "Receipts"  # dimensions channel and outcome
METRIC_RECEIPTS_DELIVERED = "ReceiptsDelivered"  # per channel, for the delivery-rate alarm
METRIC_RECEIPTS_FAILED = "ReceiptsFailed"  # per channel: undelivered, unanswered, or no receipt in time
METRIC_SEND_TO_RECEIPT = "SendToReceiptS"  # per channel
METRIC_RECEIPTS_UNMATCHED = "ReceiptsUnmatched"  # for no attempt Clarion knows
SERVICE_REPLIES = "replies"
SERVICE_KEYPRESS = "keypress"
SERVICE_SMS_STATUS = "sms-status"
SERVICE_DEAD_LETTERS = "dead-letters"
METRIC_DEAD_LETTERED = "AlertsDeadLettered"  # queue messages the router gave up on (the dead-letter alarm)
METRIC_RECEIPTS_DEAD_LETTERED = "ReceiptsDeadLettered"  # receipts the receipts function gave up on, parked
METRIC_REPLIES_DEAD_LETTERED = "RepliesDeadLettered"  # SMS replies the replies function gave up on, parked
SERVICE_TIMER_DEAD_LETTERS = "timer-dead-letters"
METRIC_TIMERS_DEAD_LETTERED = "TimersDeadLettered"  # timers the escalator gave up on; each walk moved on or ended
# JSON object: dead-letter queue ARN -> what it holds (alerts, receipts, replies), for the dead-letters function
ENV_DEAD_LETTER_SOURCES = "DEAD_LETTER_SOURCES"
METRIC_REPLIES = "SmsReplies"  # dimension action: acknowledge, decline, ask_for_code, nothing, carrier, throttled

# Private networking: Amazon Connect has no VPC endpoint, so the router (in the VPC) asks the
# dialer function (outside it) to start calls.
DIALER_HANDLER = "clarion.handlers.dialer.handler"
ENV_DIALER_FUNCTION = "DIALER_FUNCTION"

# What an Authorization header holding a Clarion token looks like (`clarion.domain.tokens`): API Gateway refuses
# anything else with 401 before invoking the authorizer, so a flood of junk costs no invocation.
_TOKEN_FORM = r"clr_[a-z0-9][a-z0-9-]{0,62}_[A-Za-z0-9_-]{43}"  # noqa: S105 - a pattern, no secret
TOKEN_HEADER_PATTERN = rf"^{_TOKEN_FORM}$|^[Bb][Ee][Aa][Rr][Ee][Rr] +{_TOKEN_FORM}$"

# SMS replies without the alert's code ("ACK", "a", "NO"): "true" lets one answer the number's only open alert;
# "false" (the default) answers nothing, as SMS senders can be spoofed.
ENV_SMS_BARE_ACK = "SMS_BARE_ACK"
METRIC_SMS_OPT_OUTS = "SmsOptOuts"  # a clinician's number opted out of SMS (STOP): the SmsOptOuts alarm
METRIC_REPLY_LOCKS = "SmsReplyLocks"  # a number locked for sending too many wrong reply codes
# METRIC_REPLIES' action also takes need_code (a reply without the code) and locked (from a locked number).
