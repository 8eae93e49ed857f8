"""Wiring: functions, environment variables, event source, alarms and Connect per mode."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from clarion import names
from tests.synth import Synth

RUNBOOK = Path(__file__).resolve().parents[2] / "docs" / "runbook.md"


def _functions(s: Synth) -> dict[str, dict[str, Any]]:
    return {
        fn["Properties"]["Handler"]: fn["Properties"]
        for fn in s.resources("AWS::Lambda::Function").values()
        if "Handler" in fn["Properties"] and fn["Properties"]["Handler"].startswith("clarion.")
    }


def _imports(value: Any) -> str:
    return json.dumps(value)


def test_every_function_is_arm64_traced_json_logged_with_powertools(any_config: Synth):
    functions = _functions(any_config)
    assert {names.AUTHORIZER_HANDLER, names.INTAKE_HANDLER, names.CONTACTS_HANDLER, names.ROUTER_HANDLER} <= set(
        functions
    )
    for props in functions.values():
        assert props["Architectures"] == ["arm64"]
        assert props["Runtime"] == "python3.14"
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["LoggingConfig"]["LogFormat"] == "JSON"
        assert "LogGroup" in props["LoggingConfig"]
        assert "AWSLambdaPowertoolsPythonV3-python314-arm64" in json.dumps(props["Layers"])
        assert props["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"] == names.METRICS_NAMESPACE


def test_the_x_ray_sdk_is_left_out_of_the_handlers_unless_sdk_tracing_is_set(dev: Synth, prod_existing: Synth):
    # dev keeps the default (false); the prod-existing configuration sets sdk_tracing=true
    for synth, disabled in ((dev, "true"), (prod_existing, "false")):
        for props in _functions(synth).values():
            variables = props["Environment"]["Variables"]
            assert variables["POWERTOOLS_TRACE_DISABLED"] == disabled
            assert props["TracingConfig"] == {"Mode": "Active"}  # Lambda's own tracing either way
            if disabled == "false":  # the Tracer records no answer or error: they carry contacts' details
                assert variables["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"
                assert variables["POWERTOOLS_TRACER_CAPTURE_ERROR"] == "false"


def test_each_function_has_its_own_role(dev: Synth):
    roles = [json.dumps(p["Role"]) for p in _functions(dev).values()]
    assert len(roles) == len(set(roles))


def test_environment_variables_name_the_right_resources(dev: Synth):
    functions = _functions(dev)
    intake = functions[names.INTAKE_HANDLER]["Environment"]["Variables"]
    router = functions[names.ROUTER_HANDLER]["Environment"]["Variables"]
    authorizer = functions[names.AUTHORIZER_HANDLER]["Environment"]["Variables"]
    assert "StorageContacts" in _imports(intake[names.ENV_CONTACTS_TABLE])
    assert "StorageIdempotency" in _imports(intake[names.ENV_IDEMPOTENCY_TABLE])
    assert "StorageDeliveryLog" in _imports(intake[names.ENV_DELIVERY_TABLE])
    assert "MessagingAlerts" in _imports(intake[names.ENV_ALERT_QUEUE_URL])
    assert "MessagingAlertEvents" in _imports(intake[names.ENV_EVENTS_TOPIC_ARN])
    assert "StorageClients" in _imports(authorizer[names.ENV_CLIENTS_TABLE])
    powertools = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"}
    assert set(authorizer) - powertools - {"POWERTOOLS_TRACE_DISABLED"} == {
        names.ENV_CLIENTS_TABLE,
        names.ENV_USAGE_KEYS,
        names.ENV_USAGE_TIER_DEFAULT,
    }
    assert "StorageDeliveryLog" in _imports(router[names.ENV_DELIVERY_TABLE])
    assert router[names.ENV_SMS_TYPE] == "Transactional"
    assert router[names.ENV_SMS_SENDER_ID] == "CLARION"
    assert router[names.ENV_CALL_ENABLED] == "true"
    assert "CallFlowOutboundCallFlow" in json.dumps(router[names.ENV_CONNECT_FLOW_ID])
    templates = json.dumps(router[names.ENV_EMAIL_TEMPLATES])
    for kind in ("generic", "critical_result", "appointment_reminder"):
        assert kind in templates


def test_every_queue_has_its_consumer_with_partial_batch_responses(dev: Synth):
    kind = {  # longest first: TimerDeadLetters is not DeadLetters
        "TimerDeadLetters": "timer_dead_letters",
        "DeadLetters": "dead_letters",
        "Router": "router",
        "Escalator": "escalator",
        "Receipts": "receipts",
        "Replies": "replies",
    }
    queues: dict[str, list[str]] = {}
    mappings = [m["Properties"] for m in _mappings(dev)]
    for props in mappings:
        function = json.dumps(props["FunctionName"])
        queues.setdefault(next(v for k, v in kind.items() if k in function), []).append(
            _imports(props["EventSourceArn"])
        )
    assert len(mappings) == 8
    [router], [escalator], [receipts], [replies], [timer_dead] = (
        queues[k] for k in ("router", "escalator", "receipts", "replies", "timer_dead_letters")
    )
    assert "MessagingAlerts" in router
    assert "Timers" in escalator and "TimerDeadLetters" not in escalator
    assert "Receipts" in receipts and "DeadLetters" not in receipts
    assert "SmsReplies" in replies and "DeadLetters" not in replies
    # a dead-lettered timer is rescued by its own function, which moves its walk on or ends it loudly
    assert "TimerDeadLetters" in timer_dead
    # the alert, receipt and reply dead-letter queues are drained by the dead-letters function, which parks each
    dead = queues["dead_letters"]
    assert len(dead) == 3
    assert [q for q in dead if "MessagingAlertDeadLetters" in q]
    assert [q for q in dead if "ReceiptDeadLetters" in q] and [q for q in dead if "ReplyDeadLetters" in q]
    for props in mappings:
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        # ten records at a time; the escalator handles its ten timers side by side (each in its own thread)
        assert props["BatchSize"] == 10
        assert props["ScalingConfig"]["MaximumConcurrency"] == 20


def _mappings(s: Synth) -> list[dict[str, Any]]:
    return list(s.resources("AWS::Lambda::EventSourceMapping").values())


def test_the_walk_functions_get_the_timer_queue_and_the_link_settings(dev: Synth):
    functions = {
        k: v["Properties"]["Environment"]["Variables"] for k, v in dev.resources("AWS::Lambda::Function").items()
    }
    by_handler = {
        dev.resources("AWS::Lambda::Function")[k]["Properties"]["Handler"]: env for k, env in functions.items()
    }
    for handler in (names.INTAKE_HANDLER, names.ROUTER_HANDLER, names.ESCALATOR_HANDLER, names.LINKS_HANDLER):
        assert "OutputRefTimers" in _imports(by_handler[handler][names.ENV_TIMER_QUEUE_URL]), handler
    intake = by_handler[names.INTAKE_HANDLER]
    policy = json.loads(intake[names.ENV_ACK_POLICY])
    assert policy == {"H": {"window_s": 300, "target_s": 1800}, "M": {"window_s": 1800, "target_s": 7200}}
    router = by_handler[names.ROUTER_HANDLER]
    assert router[names.ENV_LINK_EXPIRY_S] == "86400"
    assert router[names.ENV_SMS_DETAIL] == "description"
    assert "ApiDeploymentStage" in json.dumps(router[names.ENV_LINK_BASE_URL])
    # Receipts are awaited on the channels whose receipts arrive (email and calls; SMS on SNS has none)
    assert json.loads(router[names.ENV_RECEIPT_TIMEOUTS]) == {"call": 180, "sms": 120, "email": 300}
    assert "OutputRefReceipts" in _imports(router[names.ENV_RECEIPTS_QUEUE_URL])


ALARMS = {
    "RouterErrors",
    "DeadLetters",
    "DeliveryFailureRate",
    "FallbackRate",
    "AlertsUnroutable",
    "Api5xxRate",
    "ApiLatencyP99",
    "LambdaThrottles",
    "SmsSpendNearLimit",
    "TimerDeadLetters",
    "UnacknowledgedH",
    "UnacknowledgedM",
    "TimeToAckP90H",
    "TimeToAckP90M",
    "ReceiptDeadLetters",
    "ReplyDeadLetters",
    "SmsOptOuts",
    "DeliveryRateCall",
    "DeliveryRateSms",
    "DeliveryRateEmail",
}


def _alarms(s: Synth) -> dict[str, dict[str, Any]]:
    out = {}
    for logical_id, alarm in s.resources("AWS::CloudWatch::Alarm").items():
        name = max((a for a in ALARMS if logical_id.startswith(f"Monitoring{a}")), key=len)
        out[name] = alarm["Properties"]
    return out


def test_every_alarm_notifies_on_call_and_points_to_the_runbook(dev: Synth):
    alarms = _alarms(dev)
    assert set(alarms) == ALARMS
    sections = set(re.findall(r"^## (\S+)$", RUNBOOK.read_text(), re.MULTILINE))
    for props in alarms.values():
        assert "MessagingOnCall" in _imports(props["AlarmActions"])
        assert "docs/runbook.md#" in props["AlarmDescription"]
        assert props["AlarmDescription"].rsplit("#", 1)[1] in sections  # the runbook has the section it names


def test_alarm_thresholds(dev: Synth):
    alarms = _alarms(dev)
    assert alarms["DeadLetters"]["Threshold"] == 1
    assert alarms["AlertsUnroutable"]["Threshold"] == 1
    rate = alarms["DeliveryFailureRate"]
    assert rate["Threshold"] == 5
    assert rate["ComparisonOperator"] == "GreaterThanThreshold"
    expressions = [m.get("Expression") for m in rate["Metrics"] if "Expression" in m]
    assert expressions == ["IF(attempts > 0, 100 * failures / attempts, 0)"]
    metric_names = {m["MetricStat"]["Metric"]["MetricName"] for m in rate["Metrics"] if "MetricStat" in m}
    assert metric_names == {names.METRIC_DELIVERY_ATTEMPTS, names.METRIC_DELIVERY_FAILURES}
    assert all(m["MetricStat"]["Period"] == 300 for m in rate["Metrics"] if "MetricStat" in m)
    assert alarms["SmsSpendNearLimit"]["Threshold"] == 80
    # The closed loop: any unacknowledged alert; time to acknowledge over the priority's target for an hour
    assert alarms["UnacknowledgedH"]["Threshold"] == 1
    assert alarms["UnacknowledgedH"]["MetricName"] == names.METRIC_UNACKNOWLEDGED
    p90 = alarms["TimeToAckP90H"]
    assert (p90["Threshold"], p90["ExtendedStatistic"], p90["Period"]) == (1800, "p90", 3600)
    assert alarms["TimeToAckP90M"]["Threshold"] == 7200
    assert {d["Name"]: d["Value"] for d in p90["Dimensions"]} == {"service": "acks", "priority": "H"}
    # Receipts: a channel whose receipts say delivered too rarely over 15 minutes (with enough of them to judge)
    rate = alarms["DeliveryRateEmail"]
    assert (rate["Threshold"], rate["ComparisonOperator"]) == (90, "LessThanThreshold")
    (expression,) = [m["Expression"] for m in rate["Metrics"] if "Expression" in m]
    d, f = "FILL(email_delivered0, 0)", "FILL(email_failed0, 0)"
    assert expression == f"IF((({d}) + ({f})) >= 5, 100 * ({d}) / (({d}) + ({f})), 100)"
    # Calls: answered calls are settled by the keypress function, so its verdicts count too
    (call,) = [m["Expression"] for m in alarms["DeliveryRateCall"]["Metrics"] if "Expression" in m]
    assert "FILL(call_delivered1, 0)" in call
    services = {
        d["Value"]
        for m in alarms["DeliveryRateCall"]["Metrics"]
        if "MetricStat" in m
        for d in m["MetricStat"]["Metric"]["Dimensions"]
        if d["Name"] == "service"
    }
    assert services == {names.SERVICE_RECEIPTS, names.SERVICE_KEYPRESS}
    for m in rate["Metrics"]:
        if "MetricStat" in m:
            assert m["MetricStat"]["Period"] == 900
            dims = {d["Name"]: d["Value"] for d in m["MetricStat"]["Metric"]["Dimensions"]}
            assert dims == {"service": names.SERVICE_RECEIPTS, "channel": "email"}


def test_an_opt_out_from_a_clinicians_number_raises_an_alarm_where_replies_arrive(dev: Synth, prod: Synth):
    # Given two-way SMS (dev), whose replies function counts each STOP from a number it texted
    opt_outs = _alarms(dev)["SmsOptOuts"]
    # Then one opt-out in five minutes raises the alarm, which points to its runbook section
    assert (opt_outs["MetricName"], opt_outs["Namespace"]) == (names.METRIC_SMS_OPT_OUTS, names.METRICS_NAMESPACE)
    assert {d["Name"]: d["Value"] for d in opt_outs["Dimensions"]} == {"service": names.SERVICE_REPLIES}
    assert (opt_outs["Threshold"], opt_outs["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert (opt_outs["Statistic"], opt_outs["Period"], opt_outs["TreatMissingData"]) == ("Sum", 300, "notBreaching")
    assert opt_outs["AlarmDescription"].endswith("docs/runbook.md#sms-opt-out")
    # And one-way SMS (prod's default) has no replies, so no such alarm
    assert not [k for k in prod.resources("AWS::CloudWatch::Alarm") if k.startswith("MonitoringSmsOptOuts")]


def test_the_replies_function_needs_the_code_by_default(dev: Synth):
    replies = _functions(dev)[names.REPLIES_HANDLER]["Environment"]["Variables"]
    assert replies[names.ENV_SMS_BARE_ACK] == "false"


def reported(actions: dict[str, Any], identifier: str) -> str:
    """Where a branch leads once flow logging is back on: the action after the logging block, if it is one."""
    action = actions[identifier]
    if action["Type"] == "UpdateFlowLoggingBehavior":
        assert action["Parameters"] == {"FlowLoggingBehavior": "Enabled"}
        return str(action["Transitions"]["NextAction"])
    return identifier


def test_create_mode_builds_instance_number_queue_and_flow(dev: Synth):
    assert len(dev.resources("AWS::Connect::Instance")) == 1
    assert len(dev.resources("AWS::Connect::PhoneNumber")) == 1
    (queue,) = dev.resources("AWS::Connect::Queue").values()
    assert "OutboundCallerIdNumberArn" in queue["Properties"]["OutboundCallerConfig"]
    (flow,) = dev.resources("AWS::Connect::ContactFlow", "-Service").values()
    text, values = flow["Properties"]["Content"]["Fn::Sub"]
    content = json.loads(text)
    actions = {a["Identifier"]: a for a in content["Actions"]}
    # The flow first fetches what to say from the keypress function, by the call's only attribute (its handle)
    fetch = actions["fetch-words"]
    assert fetch["Parameters"]["LambdaInvocationAttributes"] == {"action": "words", "call": "$.Attributes.call"}
    assert fetch["Parameters"]["ResponseValidation"] == {"ResponseType": "STRING_MAP"}
    check = actions[fetch["Transitions"]["NextAction"]]
    assert check["Type"] == "Compare" and check["Parameters"]["ComparisonValue"] == "$.External.result"
    assert [(c["Condition"]["Operands"], c["NextAction"]) for c in check["Transitions"]["Conditions"]] == [
        (["words"], "ask")
    ]
    # And it speaks the fetched words: it asks for a key, 2 repeats once, and every answer (or none) is reported
    ask = actions["ask"]
    assert ask["Type"] == "GetParticipantInput" and ask["Parameters"]["SSML"] == "$.External.ssml"
    assert actions["ask-again"]["Parameters"]["SSML"] == "$.External.ssml"
    choices = {
        c["Condition"]["Operands"][0]: reported(actions, c["NextAction"]) for c in ask["Transitions"]["Conditions"]
    }
    assert choices == {"1": "report-ack", "2": "ask-again", "3": "report-decline"}
    assert {reported(actions, e["NextAction"]) for e in ask["Transitions"]["Errors"]} == {"report-none"}
    again = actions["ask-again"]["Transitions"]["Conditions"]
    assert {c["Condition"]["Operands"][0]: reported(actions, c["NextAction"]) for c in again} == {
        "1": "report-ack",
        "2": "report-none",
        "3": "report-decline",
    }
    reports = {k: a for k, a in actions.items() if a["Type"] == "InvokeLambdaFunction" and k != "fetch-words"}
    digits = {k: a["Parameters"]["LambdaInvocationAttributes"]["digit"] for k, a in reports.items()}
    assert digits == {"report-ack": "1", "report-decline": "3", "report-none": "none"}
    invokes = [a for a in actions.values() if a["Type"] == "InvokeLambdaFunction"]
    assert all(a["Parameters"]["LambdaFunctionARN"] == "${KeypressFunctionArn}" for a in invokes)
    assert "FunctionsKeypress" in json.dumps(values["KeypressFunctionArn"])
    # And without words (the function failed, or holds none for the handle) it says to check Clarion and reports no
    # key: the call never ends in silence
    failed = {e["NextAction"] for e in fetch["Transitions"]["Errors"] + check["Transitions"]["Errors"]}
    assert failed == {check["Transitions"]["NextAction"]} == {"say-unavailable"}
    unavailable = actions["say-unavailable"]
    assert "check Clarion" in unavailable["Parameters"]["Text"]
    assert reported(actions, unavailable["Transitions"]["NextAction"]) == "report-none"
    # And flow logging is off from before the words are fetched until they have been spoken
    assert actions[actions["set-voice"]["Transitions"]["NextAction"]]["Parameters"] == {
        "FlowLoggingBehavior": "Disabled"
    }
    assert actions["logs-off"]["Transitions"]["NextAction"] == "fetch-words"
    logged = {k for k, a in actions.items() if a["Type"] == "UpdateFlowLoggingBehavior" and k != "logs-off"}
    assert all(actions[k]["Parameters"] == {"FlowLoggingBehavior": "Enabled"} for k in logged) and len(logged) == 3
    # And the flow holds no words and no alert reference
    assert "message_id" not in text and "message_ssml" not in text and "$.Attributes.call" in text
    # And the function is associated with the instance, and only that instance may invoke it
    (association,) = dev.resources("AWS::Connect::IntegrationAssociation").values()
    assert association["Properties"]["IntegrationType"] == "LAMBDA_FUNCTION"
    permissions = [
        p["Properties"]
        for p in dev.resources("AWS::Lambda::Permission").values()
        if "Keypress" in json.dumps(p["Properties"]["FunctionName"])
    ]
    assert len(permissions) == 1 and permissions[0]["Principal"] == "connect.amazonaws.com"
    assert "ConnectInstance" in json.dumps(permissions[0]["SourceArn"]) or "Instance" in json.dumps(permissions[0])


def test_existing_mode_adds_only_the_flow_to_the_given_instance(prod_existing: Synth):
    assert prod_existing.resources("AWS::Connect::Instance") == {}
    (flow,) = prod_existing.resources("AWS::Connect::ContactFlow").values()
    assert "11111111-2222-3333-4444-555555555555" in json.dumps(flow["Properties"]["InstanceArn"])


def test_off_mode_has_no_call_channel(call_off: Synth):
    assert call_off.resources("AWS::Connect::ContactFlow") == {}
    router = _functions(call_off)[names.ROUTER_HANDLER]["Environment"]["Variables"]
    assert router[names.ENV_CALL_ENABLED] == "false"
    assert names.ENV_CONNECT_FLOW_ID not in router


def test_private_networking_puts_functions_in_isolated_subnets_and_the_dialer_outside(prod: Synth, dev: Synth):
    functions = _functions(prod)
    for handler, props in functions.items():
        if handler == names.DIALER_HANDLER:
            assert "VpcConfig" not in props
        else:
            assert "VpcConfig" in props, handler
    assert names.ENV_DIALER_FUNCTION in functions[names.ROUTER_HANDLER]["Environment"]["Variables"]
    assert prod.resources("AWS::EC2::NatGateway") == {}
    endpoints = [json.dumps(e["Properties"]["ServiceName"]) for e in prod.resources("AWS::EC2::VPCEndpoint").values()]
    for service in ("sqs", "sns", "email", "lambda", "kms", "dynamodb"):
        assert any(service in e for e in endpoints), service
    assert all("VpcConfig" not in p for p in _functions(dev).values())


def test_ses_templates_and_configuration_set_events(dev: Synth):
    templates = dev.resources("AWS::SES::Template")
    assert len(templates) == 4  # generic, critical result, reminder, and the "taken by" notice
    for template in templates.values():
        t = template["Properties"]["Template"]
        assert t["SubjectPart"] == "{{subject}}"
        assert "{{body}}" in t["TextPart"] and "{{body}}" in t["HtmlPart"]
    (destination,) = dev.resources("AWS::SES::ConfigurationSetEventDestination").values()
    event = destination["Properties"]["EventDestination"]
    assert {"delivery", "bounce", "complaint"} <= set(event["MatchingEventTypes"])
    assert {"delivery", "bounce", "reject"} <= set(event["MatchingEventTypes"])
    assert "ReceiptsReceiptsTopic" in json.dumps(event["SnsDestination"])


def test_code_asset_holds_only_the_lambda_code(dev: Synth, synth_dir):
    from pathlib import Path

    assets = [p for p in (Path(synth_dir) / "dev").glob("asset.*") if (p / "clarion").is_dir()]
    assert assets
    for asset in assets:
        files = [str(p.relative_to(asset)) for p in asset.rglob("*") if p.is_file()]
        assert all(f.startswith("clarion/") or f == "__init__.py" for f in files), files
        assert not any("__pycache__" in f or f.startswith("tests") for f in files)


def test_the_service_stack_names_its_rest_api_for_the_token_revoke(dev: Synth):
    # tools.tokens revoke flushes this API's authorizer cache, found by this output
    outputs = dev.templates["Clarion-dev-Service"]["Outputs"]
    assert outputs["RestApiId"]["Value"] == {"Ref": "ApiCD79AAA0"}


def test_the_audit_trail_has_its_own_table_kept_without_expiry_and_written_by_the_contacts_function(dev: Synth):
    (audit,) = [t for k, t in dev.resources("AWS::DynamoDB::Table").items() if k.startswith("StorageAudit")]
    assert "TimeToLiveSpecification" not in audit["Properties"]
    assert audit["Properties"]["SSESpecification"]["SSEEnabled"] is True
    contacts = next(
        p["Properties"]
        for p in dev.resources("AWS::Lambda::Function").values()
        if p["Properties"].get("Handler") == names.CONTACTS_HANDLER
    )
    assert "StorageAudit" in json.dumps(contacts["Environment"]["Variables"][names.ENV_AUDIT_TABLE])
