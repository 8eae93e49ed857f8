"""The assumptions the local runtime makes about the emulator, and the template-driven deployment it gives."""

from __future__ import annotations

import json
import re
from importlib.metadata import version
from pathlib import Path
from typing import Any

import boto3
import pytest

from clarion import names
from clarion_local.template import STAND_IN_PHONE, adapt, moto_supports
from tests.synth import Synth

ROOT = Path(__file__).resolve().parents[2]
# What moto's CloudFormation does not create, so the bridge takes it out of the template (template.adapt).
BRIDGED = {
    "AWS::ApiGateway::Account",
    "AWS::ApiGateway::ApiKey",
    "AWS::ApiGateway::Authorizer",
    "AWS::ApiGateway::GatewayResponse",
    "AWS::ApiGateway::Model",
    "AWS::ApiGateway::RequestValidator",
    "AWS::ApiGateway::UsagePlan",
    "AWS::ApiGateway::UsagePlanKey",
    "AWS::ApiGateway::Stage",
    "AWS::Backup::BackupPlan",
    "AWS::Backup::BackupSelection",
    "AWS::Backup::BackupVault",
    "AWS::CloudWatch::Alarm",
    "AWS::Connect::ContactFlow",
    "AWS::Connect::HoursOfOperation",
    "AWS::Connect::IntegrationAssociation",
    "AWS::Connect::Instance",
    "AWS::Connect::PhoneNumber",
    "AWS::Connect::Queue",
    "AWS::SES::ConfigurationSet",
    "AWS::SES::ConfigurationSetEventDestination",
    "AWS::SES::Template",
    "AWS::SMSVOICE::ConfigurationSet",
    "AWS::SMSVOICE::PhoneNumber",
    "AWS::SNS::Subscription",
    "AWS::SNS::TopicPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::WAFv2::LoggingConfiguration",
    "AWS::WAFv2::WebACL",
    "AWS::WAFv2::WebACLAssociation",
}


def test_the_emulator_is_the_pinned_version() -> None:
    pinned = re.search(r"^moto\[server\]==(\S+)$", (ROOT / "requirements-dev.txt").read_text(), re.M)
    assert pinned is not None
    assert version("moto") == pinned.group(1)


def test_exactly_the_unsupported_types_are_bridged(dev: Synth) -> None:
    types = {r["Type"] for t in dev.templates.values() for r in t["Resources"].values()}
    assert {t for t in types if not moto_supports(t)} == BRIDGED
    # the types Clarion's runtime needs are created by the emulator itself, from the template
    for needed in ("AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::SNS::Topic", "AWS::Lambda::Function"):
        assert moto_supports(needed)


def test_no_reference_to_a_bridged_resource_survives(dev: Synth) -> None:
    for name, template in dev.templates.items():
        adapted = adapt(template, name, moto_supports, "eu-west-2", "123456789012")
        text = json.dumps(adapted.template)
        for gone in adapted.removed:
            assert f'"{gone.logical_id}"' not in text, gone.logical_id


def _template_resource(dev: Synth, logical_id: str) -> dict[str, Any]:
    return next(t["Resources"][logical_id] for t in dev.templates.values() if logical_id in t["Resources"])


def _physical(logical_id: str) -> str:
    cfn = boto3.client("cloudformation")
    for name in ("Clarion-dev-Data", "Clarion-dev-Service"):
        for r in cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]:
            if r["LogicalResourceId"] == logical_id:
                return str(r["PhysicalResourceId"])
    raise KeyError(logical_id)


def test_tables_are_created_as_the_template_defines_them(clarion: Any, dev: Synth) -> None:
    ddb = boto3.client("dynamodb")
    tables = {k: v for t in dev.templates.values() for k, v in t["Resources"].items() if v["Type"].endswith("Table")}
    assert len(tables) == 7  # contacts, policies, schedules, clients, idempotency, delivery log, audit
    for logical_id, resource in tables.items():
        described = ddb.describe_table(TableName=_physical(logical_id))["Table"]
        assert described["KeySchema"] == resource["Properties"]["KeySchema"]
        wanted = {g["IndexName"]: g["KeySchema"] for g in resource["Properties"].get("GlobalSecondaryIndexes", [])}
        assert {g["IndexName"]: g["KeySchema"] for g in described.get("GlobalSecondaryIndexes", [])} == wanted


def test_the_alert_queue_redrives_and_hides_as_the_template_says(clarion: Any, dev: Synth) -> None:
    queue = _template_resource(dev, "MessagingAlerts044AD0CA")["Properties"]
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=clarion.env[names.ENV_ALERT_QUEUE_URL], AttributeNames=["All"]
    )["Attributes"]
    assert int(attributes["VisibilityTimeout"]) == queue["VisibilityTimeout"]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert int(redrive["maxReceiveCount"]) == queue["RedrivePolicy"]["maxReceiveCount"]
    assert redrive["deadLetterTargetArn"].endswith(clarion.dlq_url.rsplit("/", 1)[1])


def test_functions_get_every_variable_the_template_gives_them(clarion: Any, dev: Synth) -> None:
    for logical_id, function in clarion.deployment.functions.items():
        declared = _template_resource(dev, logical_id)["Properties"]["Environment"]["Variables"]
        assert set(function.environment) == set(declared)
        assert all(function.environment.values()), function.environment


def test_connect_stands_in_with_ids_of_the_right_shape(clarion: Any) -> None:
    router = clarion.deployment.function_for(names.ROUTER_HANDLER).environment
    uuid_re = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    assert re.fullmatch(uuid_re, router[names.ENV_CONNECT_INSTANCE_ID])
    assert re.fullmatch(uuid_re, router[names.ENV_CONNECT_FLOW_ID])
    assert router[names.ENV_CONNECT_SOURCE_PHONE] == STAND_IN_PHONE


def test_the_emulator_would_not_run_the_router_itself(clarion: Any) -> None:
    lam = boto3.client("lambda")
    router = clarion.deployment.function_for(names.ROUTER_HANDLER)
    mappings = lam.list_event_source_mappings(FunctionName=router.name)["EventSourceMappings"]
    assert mappings and all(m["State"] == "Disabled" for m in mappings)


def test_routes_and_authorizer_are_read_from_the_template(clarion: Any) -> None:
    deployment = clarion.deployment
    routes = {(r.method, r.path): deployment.functions[r.function].handler for r in deployment.routes if not r.mock}
    mocks = {(r.method, r.path): (r.mock.status, r.mock.headers["Allow"]) for r in deployment.routes if r.mock}
    # The gateway's own answers for other methods: ANY 405 and OPTIONS 204, each with the route's Allow
    assert mocks[("ANY", "/alerts/{message_id}")] == (405, "GET, OPTIONS")
    assert mocks[("OPTIONS", "/escalation-policies/{policy_id}")] == (204, "PUT, GET, DELETE, OPTIONS")
    assert len(mocks) == 32
    assert routes == {
        ("POST", "/alerts"): names.INTAKE_HANDLER,
        ("POST", "/notification"): names.INTAKE_HANDLER,
        ("GET", "/alerts/{message_id}"): names.INTAKE_HANDLER,
        ("PUT", "/contacts/{contact_id}"): names.CONTACTS_HANDLER,
        ("GET", "/contacts/{contact_id}"): names.CONTACTS_HANDLER,
        ("DELETE", "/contacts/{contact_id}"): names.CONTACTS_HANDLER,
        ("POST", "/alerts/{message_id}/ack"): names.INTAKE_HANDLER,
        ("POST", "/alerts/{message_id}/decline"): names.INTAKE_HANDLER,
        ("PUT", "/escalation-policies/{policy_id}"): names.CONTACTS_HANDLER,
        ("GET", "/escalation-policies/{policy_id}"): names.CONTACTS_HANDLER,
        ("DELETE", "/escalation-policies/{policy_id}"): names.CONTACTS_HANDLER,
        ("GET", "/contacts/{contact_id}/history"): names.CONTACTS_HANDLER,
        ("GET", "/escalation-policies/{policy_id}/history"): names.CONTACTS_HANDLER,
        ("PUT", "/schedules/{schedule_id}"): names.CONTACTS_HANDLER,
        ("GET", "/schedules/{schedule_id}"): names.CONTACTS_HANDLER,
        ("DELETE", "/schedules/{schedule_id}"): names.CONTACTS_HANDLER,
        ("GET", "/schedules/{schedule_id}/history"): names.CONTACTS_HANDLER,
        ("POST", "/schedules/{schedule_id}/overrides"): names.CONTACTS_HANDLER,
        ("GET", "/schedules/{schedule_id}/overrides"): names.CONTACTS_HANDLER,
        ("DELETE", "/schedules/{schedule_id}/overrides/{override_id}"): names.CONTACTS_HANDLER,
        ("GET", "/schedules/{schedule_id}/on-call"): names.CONTACTS_HANDLER,
        ("GET", "/schedules/{schedule_id}/shifts"): names.CONTACTS_HANDLER,
        ("GET", "/l/{token}"): names.LINKS_HANDLER,
        ("POST", "/l/{token}"): names.LINKS_HANDLER,
    }
    # Every route needs the authorizer but the acknowledgement link's, whose token is its own authorization.
    assert {(r.method, r.path) for r in deployment.routes if not r.authorized and not r.mock} == {
        ("GET", "/l/{token}"),
        ("POST", "/l/{token}"),
    }
    assert deployment.authorizer is not None
    assert deployment.functions[deployment.authorizer.function].handler == names.AUTHORIZER_HANDLER
    assert (deployment.authorizer.header, deployment.authorizer.ttl_seconds) == ("Authorization", 300)
    sources = {deployment.functions[s.function].handler: s for s in deployment.queue_sources}
    assert set(sources) == {
        names.ROUTER_HANDLER,
        names.ESCALATOR_HANDLER,
        names.RECEIPTS_HANDLER,
        names.REPLIES_HANDLER,
        names.DEAD_LETTERS_HANDLER,
        names.TIMER_DEAD_LETTERS_HANDLER,
    }
    assert (sources[names.ROUTER_HANDLER].batch_size, sources[names.ESCALATOR_HANDLER].batch_size) == (10, 10)
    assert sources[names.RECEIPTS_HANDLER].batch_size == 10
    assert all(s.report_batch_item_failures for s in sources.values())


def test_a_reference_to_a_bridged_attribute_without_a_stand_in_is_an_error() -> None:
    template = {
        "Resources": {
            "Flow": {"Type": "AWS::Connect::ContactFlow", "Properties": {}},
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Fn::GetAtt": ["Flow", "Nope"]}}},
        }
    }
    with pytest.raises(ValueError, match="no stand-in"):
        adapt(template, "S", moto_supports, "eu-west-2", "123456789012")


def test_narrowed_partition_queries_return_what_a_full_search_returns() -> None:
    # Given a table with a sort key, items in many partitions, and the emulator's performance bridge
    from moto import mock_aws

    from clarion_local.emulator import narrow_partition_queries

    with mock_aws():
        ddb = boto3.client("dynamodb")
        ddb.create_table(
            TableName="t",
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
                {"AttributeName": "g", "AttributeType": "S"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "by-g",
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            ],
        )
        for p in range(20):
            for s in range(7):
                item = {"pk": {"S": f"p{p}"}, "sk": {"S": f"s{s}"}, "n": {"N": str(p * s)}, "g": {"S": f"g{p % 3}"}}
                ddb.put_item(TableName="t", Item=item)

        def ask(**extra: Any) -> list[tuple[str, str]]:
            consistent = "IndexName" not in extra  # a GSI offers eventually consistent reads only
            items = ddb.query(TableName="t", ConsistentRead=consistent, **extra)["Items"]
            return [(i["pk"]["S"], i["sk"]["S"]) for i in items]

        questions = [
            {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "p3"}}},
            {
                "KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
                "ExpressionAttributeValues": {":p": {"S": "p4"}, ":s": {"S": "s2"}},
            },
            {
                "KeyConditionExpression": "pk = :p",
                "ExpressionAttributeValues": {":p": {"S": "p5"}},
                "ScanIndexForward": False,
                "Limit": 3,
            },
            {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "nowhere"}}},
            # an index's query is not the base table's partition (moto passes the index name by position)
            {
                "IndexName": "by-g",
                "KeyConditionExpression": "g = :g",
                "ExpressionAttributeValues": {":g": {"S": "g1"}},
            },
        ]
        before = [ask(**q) for q in questions]
        # When the bridge is applied
        narrow_partition_queries()
        # Then every query answers exactly as before
        assert [ask(**q) for q in questions] == before
        assert before[0] == [("p3", f"s{s}") for s in range(7)]
        assert before[2] == [("p5", "s6"), ("p5", "s5"), ("p5", "s4")]
        assert len(before[4]) == 7 * 7


def test_the_cheap_sqs_clock_judges_visibility_and_delay_as_moto_does() -> None:
    import time

    from moto.sqs.models import Message

    from clarion_local.emulator import cheap_sqs_clock

    now_ms = time.time() * 1000
    cases = [(now_ms - 5_000, 0.0), (now_ms + 5_000, 0.0), (now_ms - 5_000, now_ms + 5_000), (0.0, now_ms - 1)]
    messages = []
    for visible_at, delayed_until in cases:
        message = Message("id", "body")
        message.visible_at, message.delayed_until = visible_at, delayed_until
        messages.append(message)
    before = [(m.visible, m.delayed) for m in messages]
    cheap_sqs_clock()
    assert (
        [(m.visible, m.delayed) for m in messages]
        == before
        == [(True, False), (False, False), (True, True), (True, False)]
    )


def test_concurrent_conditional_puts_of_one_key_have_exactly_one_winner(
    clarion: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    import time

    from moto.dynamodb.models import table as moto_table

    # Given moto's condition check made slow (2 ms), so that a write without a lock races for certain
    real_filter = moto_table.get_filter_expression

    def slow_filter(*args: Any, **kwargs: Any) -> Any:
        op = real_filter(*args, **kwargs)
        check = op.expr

        def slow_check(item: Any) -> Any:
            time.sleep(0.002)  # time is the subject: the slowness that makes the race certain
            return check(item)

        op.expr = slow_check
        return op

    monkeypatch.setattr(moto_table, "get_filter_expression", slow_filter)
    table = boto3.client("dynamodb")
    name = clarion.env[names.ENV_IDEMPOTENCY_TABLE]
    # When 8 writers race to create the same key, 5 times, each write conditional on the key being absent
    winners = []
    for round_ in range(5):
        wins: list[int] = []
        start = threading.Barrier(8)

        def write(i: int, round_: int = round_, wins: list[int] = wins, start: threading.Barrier = start) -> None:
            start.wait()
            try:
                table.put_item(
                    TableName=name,
                    Item={"id": {"S": f"race-{round_}"}, "writer": {"N": str(i)}},
                    ConditionExpression="attribute_not_exists(id)",
                )
                wins.append(i)
            except table.exceptions.ConditionalCheckFailedException:
                pass

        threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        winners.append(len(wins))
    # Then each time exactly one write won: DynamoDB's conditional writes are atomic (emulator.atomic_dynamodb_writes)
    assert winners == [1] * 5


def test_a_long_poll_wakes_when_a_message_comes_due(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from moto import mock_aws
    from moto.sqs.models import Queue

    from clarion_local.emulator import wake_long_polls_when_due

    monkeypatch.setattr(Queue, "wait_for_messages", Queue.wait_for_messages)  # moto's own again after the test
    wake_long_polls_when_due()
    with mock_aws():
        sqs = boto3.client("sqs", region_name="eu-west-2")
        url = sqs.create_queue(QueueName="timers")["QueueUrl"]

        def long_poll() -> tuple[float, list[Any]]:
            """The seconds a receive waiting up to 5 s took, and what it got."""
            started = time.monotonic()
            got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5, VisibilityTimeout=1).get("Messages", [])
            return time.monotonic() - started, got

        # Given a message delayed by a second, and a receive that starts waiting 0.4 s later
        sqs.send_message(QueueUrl=url, MessageBody="timer", DelaySeconds=1)
        time.sleep(0.4)  # time is the subject: the receive starts mid-delay
        # Then it answers when the message comes due, 0.6 s later (moto's own looks again after a whole second)
        waited, got = long_poll()
        assert 0.5 < waited < 0.8
        assert [m["Body"] for m in got] == ["timer"]
        # And a receive waiting for the same message, received but not deleted, answers when its visibility
        # timeout (1 s) ends
        time.sleep(0.4)
        waited, got = long_poll()
        assert 0.5 < waited < 0.8
        assert [m["Body"] for m in got] == ["timer"]
