"""What matters to security, asserted on the synthesized templates."""

from __future__ import annotations

import json
from typing import Any

from clarion import names
from tests.synth import Synth


def _key_ref(value: Any) -> str:
    return json.dumps(value)


def _encryption_keys(s: Synth) -> dict[str, Any]:
    return {k: v for k, v in s.resources("AWS::KMS::Key", "-Data").items() if "KeySpec" not in v["Properties"]}


def _data_key_logical_id(s: Synth) -> str:
    keys = _encryption_keys(s)
    assert len(keys) == 1
    return next(iter(keys))


def test_one_customer_managed_key_with_rotation_and_no_fixed_alias(any_config: Synth):
    keys = _encryption_keys(any_config)
    assert len(keys) == 1
    (key,) = keys.values()
    assert key["Properties"]["EnableKeyRotation"] is True
    assert any_config.resources("AWS::KMS::Alias") == {}


def test_links_are_signed_by_an_hmac_key_only_the_router_links_and_intake_functions_use(any_config: Synth):
    # Given the HMAC key beside the encryption key
    (hmac_id,) = [k for k, v in any_config.resources("AWS::KMS::Key").items() if "KeySpec" in v["Properties"]]
    hmac_key = any_config.resources("AWS::KMS::Key")[hmac_id]["Properties"]
    assert (hmac_key["KeySpec"], hmac_key["KeyUsage"]) == ("HMAC_256", "GENERATE_VERIFY_MAC")
    # Then only GenerateMac is granted on it, to exactly three roles (intake derives its idempotency body key)
    users = []
    for name, policy in any_config.resources("AWS::IAM::ManagedPolicy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if hmac_id in json.dumps(statement.get("Resource")):
                assert statement["Action"] == "kms:GenerateMac", statement
                users.append(name)
    assert len(users) == 3 and all(any(f in u for f in ("Router", "Links", "Intake")) for u in users), users


def test_key_policy_lets_only_logs_cloudwatch_the_receipt_senders_sns_sqs_services_use_it(dev: Synth):
    (key,) = _encryption_keys(dev).values()
    services = set()
    for statement in key["Properties"]["KeyPolicy"]["Statement"]:
        principal = statement["Principal"]
        if "Service" in principal:
            values = principal["Service"] if isinstance(principal["Service"], list) else [principal["Service"]]
            services.update(json.dumps(v) for v in values)
    assert {s for s in services if "logs" not in s} == {
        '"cloudwatch.amazonaws.com"',
        '"events.amazonaws.com"',  # Connect's call events, through EventBridge, onto the receipts queue
        '"ses.amazonaws.com"',
        '"sms-voice.amazonaws.com"',
        '"sns.amazonaws.com"',
        '"sqs.amazonaws.com"',
    }
    for statement in key["Properties"]["KeyPolicy"]["Statement"]:
        if "Service" in statement["Principal"] and "logs" not in json.dumps(statement["Principal"]):
            assert "aws:SourceAccount" in json.dumps(statement.get("Condition")), statement


def test_every_table_has_pitr_our_key_and_on_demand_billing(any_config: Synth):
    key_id = _data_key_logical_id(any_config)
    tables = any_config.resources("AWS::DynamoDB::Table")
    assert len(tables) == 7  # contacts, policies, schedules, clients, idempotency, delivery log, audit
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
    assert by_key["policy_id"] is None


def test_prod_retains_data_and_protects_tables_from_deletion(prod: Synth, dev: Synth):
    for table in prod.resources("AWS::DynamoDB::Table").values():
        assert table["DeletionPolicy"] == "Retain"
        assert table["Properties"]["DeletionProtectionEnabled"] is True
    for table in dev.resources("AWS::DynamoDB::Table").values():
        assert table["DeletionPolicy"] == "Delete"


def test_queues_are_encrypted_with_our_key_and_deny_plain_http(any_config: Synth):
    key_id = _data_key_logical_id(any_config)
    queues = any_config.resources("AWS::SQS::Queue")
    two_way = bool(any_config.resources("AWS::SMSVOICE::ConfigurationSet"))
    # alerts, timers, receipts (and with two-way SMS, replies) and their dead-letter queues
    assert len(queues) == (8 if two_way else 6)
    for queue in queues.values():
        assert key_id in _key_ref(queue["Properties"]["KmsMasterKeyId"])
    policies = any_config.resources("AWS::SQS::QueuePolicy")
    assert len(policies) == len(queues)
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
        )


def test_alert_and_timer_queues_redrive_to_their_dead_letter_queues(dev: Synth):
    queues = dev.resources("AWS::SQS::Queue")
    mains = {k: q for k, q in queues.items() if "RedrivePolicy" in q["Properties"]}
    assert len(mains) == 4
    prefixes = ("MessagingAlerts", "Timers", "Receipts", "SmsReplies")
    assert {next(p for p in prefixes if k.startswith(p)) for k in mains} == set(prefixes)
    for main in mains.values():
        redrive = main["Properties"]["RedrivePolicy"]
        assert redrive["maxReceiveCount"] == 5
        dlq_id = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert dlq_id in queues and dlq_id not in mains
    visibility = sorted(m["Properties"]["VisibilityTimeout"] for m in mains.values())
    assert visibility == [180, 180, 180, 360]  # six times the receipts', replies', escalator's and router's timeouts


def test_topics_are_encrypted_and_deny_plain_http_and_foreign_publishers(any_config: Synth):
    key_id = _data_key_logical_id(any_config)
    topics = any_config.resources("AWS::SNS::Topic")
    two_way = bool(any_config.resources("AWS::SMSVOICE::ConfigurationSet"))
    assert len(topics) == (4 if two_way else 3)  # alert events, on-call, receipts (and inbound SMS)
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
        # SNS's SMS delivery status holds destination numbers: kept as long as the delivery log (90 days), no longer
        status = "DirectPublishToPhoneNumber" in json.dumps(group["Properties"].get("LogGroupName", ""))
        assert group["Properties"]["RetentionInDays"] == (90 if status else 365)


def _is_link_route(method: dict[str, Any], s: Synth) -> bool:
    resource = s.resources("AWS::ApiGateway::Resource")[method["Properties"]["ResourceId"]["Ref"]]["Properties"]
    return resource["PathPart"] == "{token}"


def test_every_route_needs_the_lambda_authorizer_but_the_signed_link(dev: Synth):
    methods = [  # the MOCK methods answer 405/OPTIONS themselves (tests/infra/test_method_not_allowed.py)
        m for m in dev.resources("AWS::ApiGateway::Method").values() if m["Properties"]["Integration"]["Type"] != "MOCK"
    ]
    links = [m for m in methods if _is_link_route(m, dev)]
    for method in methods:
        assert "RequestValidatorId" in method["Properties"]
        if method in links:
            assert method["Properties"]["AuthorizationType"] == "NONE"
            continue
        assert method["Properties"]["AuthorizationType"] == "CUSTOM"
        assert "AuthorizerId" in method["Properties"]
    assert len(methods) == 24
    assert sorted(m["Properties"]["HttpMethod"] for m in links) == ["GET", "POST"]
    (authorizer,) = dev.resources("AWS::ApiGateway::Authorizer").values()
    assert authorizer["Properties"]["Type"] == "TOKEN"
    assert authorizer["Properties"]["IdentitySource"] == "method.request.header.Authorization"
    assert authorizer["Properties"]["AuthorizerResultTtlInSeconds"] == 300
    # A header holding no Clarion token is refused by API Gateway itself (401), the authorizer never invoked
    assert authorizer["Properties"]["IdentityValidationExpression"] == names.TOKEN_HEADER_PATTERN


def test_stage_logs_errors_without_data_trace_and_traces_and_throttles(dev: Synth, prod: Synth):
    for config, rate, burst in ((dev, 50, 100), (prod, 200, 400)):
        (stage,) = config.resources("AWS::ApiGateway::Stage").values()
        props = stage["Properties"]
        assert props["TracingEnabled"] is True
        by_path = {(m["ResourcePath"], m["HttpMethod"]): m for m in props["MethodSettings"]}
        settings = by_path[("/*", "*")]
        assert settings["LoggingLevel"] == "ERROR"
        assert settings["DataTraceEnabled"] is False
        assert settings["ThrottlingRateLimit"] == rate
        assert settings["ThrottlingBurstLimit"] == burst
        # The public link is throttled apart from the stage (tests/infra/test_link_limits.py)
        for method in ("GET", "POST"):
            link = by_path[("/~1l~1{token}", method)]
            assert (link["ThrottlingRateLimit"], link["ThrottlingBurstLimit"]) == (100, 200)
        assert "DestinationArn" in props["AccessLogSetting"]
        assert json.loads(props["AccessLogSetting"]["Format"])["status"] == "$context.status"


def test_waf_protects_the_stage_with_managed_rules_and_a_rate_limit(dev: Synth):
    (acl,) = dev.resources("AWS::WAFv2::WebACL").values()
    rules = {r["Name"]: r for r in acl["Properties"]["Rules"]}
    assert "AWSManagedRulesCommonRuleSet" in rules
    assert rules["RatePerIp"]["Statement"]["RateBasedStatement"]["Limit"] == 1000
    # Over the rate: 429 with Retry-After in Clarion's error format, not a 403 that clients read as "do not retry"
    answer = rules["RatePerIp"]["Action"]["Block"]["CustomResponse"]
    assert answer["ResponseCode"] == 429
    assert answer["ResponseHeaders"] == [{"Name": "Retry-After", "Value": "60"}]
    body = acl["Properties"]["CustomResponseBodies"][answer["CustomResponseBodyKey"]]
    assert body["ContentType"] == "APPLICATION_JSON" and json.loads(body["Content"])["error"]["code"] == "throttled"
    # No User-Agent, or a body over 8 KB, is counted, not blocked: Clarion answers bodies over 16 KiB with its 413
    common = rules["AWSManagedRulesCommonRuleSet"]["Statement"]["ManagedRuleGroupStatement"]
    assert {o["Name"]: o["ActionToUse"] for o in common["RuleActionOverrides"]} == {
        "NoUserAgent_HEADER": {"Count": {}},
        "SizeRestrictions_BODY": {"Count": {}},
    }
    assert dev.resources("AWS::WAFv2::WebACLAssociation")
    (logging,) = dev.resources("AWS::WAFv2::LoggingConfiguration").values()
    # Neither tokens nor acknowledgement links (their token is in the path) reach the WAF's logs
    assert logging["Properties"]["RedactedFields"] == [{"SingleHeader": {"Name": "authorization"}}, {"UriPath": {}}]


def test_no_policy_grants_a_wildcard_action(any_config: Synth):
    for cfn_type in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
        for policy in any_config.resources(cfn_type).values():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                for action in actions:
                    assert action != "*" and not action.endswith(":*"), (action, statement)


def test_no_inline_role_policies(any_config: Synth):
    assert any_config.resources("AWS::IAM::Policy") == {}


def test_a_receipt_forged_from_elsewhere_is_refused_by_the_receipts_topic_policy(any_config: Synth):
    # Given the receipts topic's policy
    (topic_id,) = [k for k in any_config.resources("AWS::SNS::Topic") if k.startswith("ReceiptsReceiptsTopic")]
    (policy,) = [
        p
        for p in any_config.resources("AWS::SNS::TopicPolicy").values()
        if topic_id in json.dumps(p["Properties"]["Topics"])
    ]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    allows = [s for s in statements if s["Effect"] == "Allow" and "sns:Publish" in json.dumps(s["Action"])]
    # Then only SES and End User Messaging may publish, and only for this account (no confused deputy)
    assert len(allows) == 1
    assert sorted(allows[0]["Principal"]["Service"]) == ["ses.amazonaws.com", "sms-voice.amazonaws.com"]
    assert allows[0]["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    # And any principal of another account that is not an AWS service is denied
    (deny,) = [s for s in statements if s.get("Sid") == "DenyPublishFromOtherAccounts"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == {"AWS": "*"}
    assert deny["Condition"]["StringNotEquals"] == {"aws:PrincipalAccount": {"Ref": "AWS::AccountId"}}


def test_the_call_events_rule_matches_only_this_deployments_connect_instance(dev: Synth, call_off: Synth):
    (rule,) = dev.resources("AWS::Events::Rule", "-Data").values()
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.connect"] and len(pattern["detail"]["instanceArn"]) == 1
    assert "ConnectInstance" in json.dumps(pattern["detail"]["instanceArn"]) or "Voice" in json.dumps(pattern)
    assert call_off.resources("AWS::Events::Rule") == {}


def test_a_forged_sms_reply_is_refused_by_the_inbound_topic_policy(dev: Synth):
    # Given the inbound SMS topic (the requested number's two-way channel)
    (number,) = dev.resources("AWS::SMSVOICE::PhoneNumber").values()
    two_way = number["Properties"]["TwoWay"]
    assert two_way["Enabled"] is True
    (topic_id,) = [k for k in dev.resources("AWS::SNS::Topic") if k.startswith("SmsInbound")]
    assert two_way["ChannelArn"] == {"Ref": topic_id}
    (policy,) = [
        p for p in dev.resources("AWS::SNS::TopicPolicy").values() if topic_id in json.dumps(p["Properties"]["Topics"])
    ]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    allows = [s for s in statements if s["Effect"] == "Allow" and "sns:Publish" in json.dumps(s["Action"])]
    # Then only End User Messaging of this account may publish replies; other accounts are denied
    assert [a["Principal"] for a in allows] == [{"Service": "sms-voice.amazonaws.com"}]
    assert allows[0]["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    assert any(s.get("Sid") == "DenyPublishFromOtherAccounts" and s["Effect"] == "Deny" for s in statements)
    # And STOP and HELP keep their carrier meaning (End User Messaging answers them)
    assert set(number["Properties"]["MandatoryKeywords"]) == {"STOP", "HELP"}


def test_sms_sends_are_allowed_only_from_the_identity_and_the_configuration_set(dev: Synth, prod: Synth):
    statements = [
        s
        for p in dev.resources("AWS::IAM::ManagedPolicy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if "sms-voice:SendTextMessage" in json.dumps(s["Action"])
    ]
    assert len(statements) == 2  # the router (alerts, with receipts) and the replies function (its answers)
    for statement in statements:
        resources = json.dumps(statement["Resource"])
        assert "SmsPhoneNumber" in resources and "*" not in resources
    # Without two-way SMS (prod by default) nothing may use End User Messaging
    assert "sms-voice:" not in json.dumps(prod.resources("AWS::IAM::ManagedPolicy"))


def test_an_existing_sms_pool_is_named_exactly_and_reached_through_its_vpc_endpoint(prod_existing: Synth):
    # Given prod with private networking and an existing End User Messaging pool
    (router,) = [
        f["Properties"]["Environment"]["Variables"]
        for f in prod_existing.resources("AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "clarion.handlers.router.handler"
    ]
    assert router["SMS_ORIGINATION_IDENTITY"] == "pool-0123456789abcdef0123456789abcdef"
    assert prod_existing.resources("AWS::SMSVOICE::PhoneNumber") == {}  # nothing is requested
    statements = [
        s
        for p in prod_existing.resources("AWS::IAM::ManagedPolicy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if "sms-voice:SendTextMessage" in json.dumps(s["Action"])
    ]
    assert statements and all("pool/pool-0123456789abcdef0123456789abcdef" in json.dumps(s) for s in statements)
    # And the functions in isolated subnets reach End User Messaging through an interface endpoint
    endpoints = [e["Properties"] for e in prod_existing.resources("AWS::EC2::VPCEndpoint").values()]
    assert any("pinpoint-sms-voice-v2" in json.dumps(e["ServiceName"]) for e in endpoints)


def _sns_publish_statements(s: Synth) -> list[dict[str, Any]]:
    found = []
    for policy in s.resources("AWS::IAM::ManagedPolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if "sns:Publish" in actions and statement["Effect"] == "Allow":
                found.append(statement)
    return found


def test_no_function_may_publish_to_another_accounts_topic(any_config: Synth):
    # Given every grant of sns:Publish
    statements = _sns_publish_statements(any_config)
    assert statements
    for statement in statements:
        # Then each names Clarion's own topics, or is the direct-SMS grant, which excludes every topic of every
        # account (an SMS to a phone number has no resource ARN)
        if "NotResource" in statement:
            assert statement["NotResource"] == {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":sns:*:*:*"]]}
        else:
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            assert all("Fn::ImportValue" in json.dumps(r) or "Ref" in json.dumps(r) for r in resources), statement


def test_the_vpc_endpoints_reach_only_this_accounts_resources_for_this_accounts_principals(prod: Synth):
    # Given the interface endpoints of a deployment with private networking
    endpoints = [e["Properties"] for e in prod.resources("AWS::EC2::VPCEndpoint").values()]
    interfaces = [e for e in endpoints if e.get("VpcEndpointType") == "Interface"]
    assert len(interfaces) >= 5
    this_account = {"Ref": "AWS::AccountId"}
    for endpoint in interfaces:
        statements = endpoint["PolicyDocument"]["Statement"]
        general = [s for s in statements if s["Action"] == "*"]
        # Then each allows this account's principals on this account's resources, and nothing else
        assert general == [
            {
                "Action": "*",
                "Condition": {
                    "StringEquals": {"aws:PrincipalAccount": this_account, "aws:ResourceAccount": this_account}
                },
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Resource": "*",
            }
        ]
        others = [s for s in statements if s["Action"] != "*"]
        if "sns" in json.dumps(endpoint["ServiceName"]):  # plus SMS to phone numbers: anything that is no topic
            (sms,) = others
            assert sms["Action"] == "sns:Publish" and sms["NotResource"]
            assert sms["Condition"] == {"StringEquals": {"aws:PrincipalAccount": this_account}}
        else:
            assert others == []
