"""What matters to security, asserted on the synthesized templates."""

from __future__ import annotations

import json
from typing import Any

from tests.synth import Synth


def _key_ref(value: Any) -> str:
    return json.dumps(value)


def _data_key_logical_id(s: Synth) -> str:
    keys = s.resources("AWS::KMS::Key", "-Data")
    assert len(keys) == 1
    return next(iter(keys))


def test_one_customer_managed_key_with_rotation_and_no_fixed_alias(any_config: Synth):
    keys = any_config.resources("AWS::KMS::Key")
    assert len(keys) == 1
    (key,) = keys.values()
    assert key["Properties"]["EnableKeyRotation"] is True
    assert any_config.resources("AWS::KMS::Alias") == {}


def test_key_policy_lets_only_logs_cloudwatch_ses_sns_sqs_services_use_it(dev: Synth):
    (key,) = dev.resources("AWS::KMS::Key").values()
    services = set()
    for statement in key["Properties"]["KeyPolicy"]["Statement"]:
        principal = statement["Principal"]
        if "Service" in principal:
            values = principal["Service"] if isinstance(principal["Service"], list) else [principal["Service"]]
            services.update(json.dumps(v) for v in values)
    assert {s for s in services if "logs" not in s} == {
        '"cloudwatch.amazonaws.com"',
        '"ses.amazonaws.com"',
        '"sns.amazonaws.com"',
        '"sqs.amazonaws.com"',
    }


def test_every_table_has_pitr_our_key_and_on_demand_billing(any_config: Synth):
    key_id = _data_key_logical_id(any_config)
    tables = any_config.resources("AWS::DynamoDB::Table")
    assert len(tables) == 4
    for table in tables.values():
        props = table["Properties"]
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["SSESpecification"]["SSEEnabled"] is True
        assert key_id in _key_ref(props["SSESpecification"]["KMSMasterKeyId"])


def test_idempotency_and_delivery_log_expire_by_ttl(dev: Synth):
    ttl = {
        json.dumps(t["Properties"]["KeySchema"]): t["Properties"].get("TimeToLiveSpecification")
        for t in dev.resources("AWS::DynamoDB::Table").values()
    }
    by_key = {json.loads(k)[0]["AttributeName"]: v for k, v in ttl.items()}
    assert by_key["id"] == {"AttributeName": "expiration", "Enabled": True}
    assert by_key["pk"] == {"AttributeName": "expires_at", "Enabled": True}
    assert by_key["contact_id"] is None


def test_prod_retains_data_and_protects_tables_from_deletion(prod: Synth, dev: Synth):
    for table in prod.resources("AWS::DynamoDB::Table").values():
        assert table["DeletionPolicy"] == "Retain"
        assert table["Properties"]["DeletionProtectionEnabled"] is True
    for table in dev.resources("AWS::DynamoDB::Table").values():
        assert table["DeletionPolicy"] == "Delete"


def test_queues_are_encrypted_with_our_key_and_deny_plain_http(any_config: Synth):
    key_id = _data_key_logical_id(any_config)
    queues = any_config.resources("AWS::SQS::Queue")
    assert len(queues) == 2
    for queue in queues.values():
        assert key_id in _key_ref(queue["Properties"]["KmsMasterKeyId"])
    policies = any_config.resources("AWS::SQS::QueuePolicy")
    assert len(policies) == 2
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
        )


def test_alert_queue_redrives_to_the_dead_letter_queue(dev: Synth):
    queues = dev.resources("AWS::SQS::Queue")
    main = next(q for q in queues.values() if "RedrivePolicy" in q["Properties"])
    redrive = main["Properties"]["RedrivePolicy"]
    assert redrive["maxReceiveCount"] == 5
    dlq_id = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
    assert dlq_id in queues
    assert main["Properties"]["VisibilityTimeout"] == 360


def test_topics_are_encrypted_and_deny_plain_http_and_foreign_publishers(any_config: Synth):
    key_id = _data_key_logical_id(any_config)
    topics = any_config.resources("AWS::SNS::Topic")
    assert len(topics) == 2
    for topic in topics.values():
        assert key_id in _key_ref(topic["Properties"]["KmsMasterKeyId"])
    for policy in any_config.resources("AWS::SNS::TopicPolicy").values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(s["Effect"] == "Deny" and "aws:SecureTransport" in json.dumps(s) for s in statements)
        assert any(s["Effect"] == "Deny" and "aws:PrincipalAccount" in json.dumps(s) for s in statements)


def test_with_private_networking_topics_accept_publishes_only_through_the_vpc_endpoint(prod: Synth, dev: Synth):
    for policy in prod.resources("AWS::SNS::TopicPolicy").values():
        assert "aws:SourceVpce" in json.dumps(policy)
    for policy in dev.resources("AWS::SNS::TopicPolicy").values():
        assert "aws:SourceVpce" not in json.dumps(policy)


def test_every_log_group_is_encrypted_with_our_key_and_has_retention(any_config: Synth):
    groups = any_config.resources("AWS::Logs::LogGroup")
    assert groups
    for group in groups.values():
        assert "KmsKeyId" in group["Properties"]
        assert group["Properties"]["RetentionInDays"] == 365


def test_every_route_needs_the_lambda_authorizer(dev: Synth):
    methods = [
        m for m in dev.resources("AWS::ApiGateway::Method").values() if m["Properties"]["HttpMethod"] != "OPTIONS"
    ]
    routes = set()
    for method in methods:
        assert method["Properties"]["AuthorizationType"] == "CUSTOM"
        assert "AuthorizerId" in method["Properties"]
        assert "RequestValidatorId" in method["Properties"]
        routes.add(method["Properties"]["HttpMethod"])
    assert len(methods) == 6
    (authorizer,) = dev.resources("AWS::ApiGateway::Authorizer").values()
    assert authorizer["Properties"]["Type"] == "TOKEN"
    assert authorizer["Properties"]["IdentitySource"] == "method.request.header.Authorization"
    assert authorizer["Properties"]["AuthorizerResultTtlInSeconds"] == 300


def test_stage_logs_errors_without_data_trace_and_traces_and_throttles(dev: Synth, prod: Synth):
    for config, rate, burst in ((dev, 50, 100), (prod, 200, 400)):
        (stage,) = config.resources("AWS::ApiGateway::Stage").values()
        props = stage["Properties"]
        assert props["TracingEnabled"] is True
        (settings,) = props["MethodSettings"]
        assert settings["LoggingLevel"] == "ERROR"
        assert settings["DataTraceEnabled"] is False
        assert settings["ThrottlingRateLimit"] == rate
        assert settings["ThrottlingBurstLimit"] == burst
        assert "DestinationArn" in props["AccessLogSetting"]
        assert json.loads(props["AccessLogSetting"]["Format"])["status"] == "$context.status"


def test_waf_protects_the_stage_with_managed_rules_and_a_rate_limit(dev: Synth):
    (acl,) = dev.resources("AWS::WAFv2::WebACL").values()
    rules = {r["Name"]: r for r in acl["Properties"]["Rules"]}
    assert "AWSManagedRulesCommonRuleSet" in rules
    assert rules["RatePerIp"]["Statement"]["RateBasedStatement"]["Limit"] == 1000
    assert dev.resources("AWS::WAFv2::WebACLAssociation")
    (logging,) = dev.resources("AWS::WAFv2::LoggingConfiguration").values()
    assert logging["Properties"]["RedactedFields"] == [{"SingleHeader": {"Name": "authorization"}}]


def test_no_policy_grants_a_wildcard_action(any_config: Synth):
    for cfn_type in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
        for policy in any_config.resources(cfn_type).values():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                for action in actions:
                    assert action != "*" and not action.endswith(":*"), (action, statement)


def test_no_inline_role_policies(any_config: Synth):
    assert any_config.resources("AWS::IAM::Policy") == {}
