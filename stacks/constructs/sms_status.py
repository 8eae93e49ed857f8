"""SNS's SMS delivery status, where SMS stays one-way on SNS: what became of each SMS, as delivery receipts.

SNS writes the status of every SMS it sends to two CloudWatch Logs groups of the account and region,
`sns/<region>/<account>/DirectPublishToPhoneNumber` (delivered) and `.../Failure`, once the account's SMS
attribute `DeliveryStatusIAMRole` names a role SNS may write them with. No CloudFormation resource sets that
attribute, so with `sns_sms_delivery_status: manage` a custom resource (`AwsCustomResource`, one SDK call) sets it
to this stack's role, and the stack owns both groups: encrypted with Clarion's key, kept as long as the delivery
log. With `existing` the groups were made before (by an earlier setup, or by hand) and are only subscribed to.

A subscription filter on each group invokes the SMS status function, which puts a receipt per line (message id,
status, time: never the destination) on the receipts queue.

The attribute belongs to the account, not to the stack: one Clarion per account and region manages it; a second
one (or an account where SMS delivery status is already on) uses `existing`. Deleting the stack leaves the
attribute naming a role that no longer exists, so SNS stops writing; nothing else changes.
"""

from __future__ import annotations

from aws_cdk import Aws, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_logs_destinations as destinations
from aws_cdk import custom_resources as cr
from constructs import Construct

from stacks.compliance import ManagedPolicyRole, acknowledge

SINGLETON_ID = "AWS679f53fac002430cb0da5b7982bd2287"  # CDK's fixed id for AwsCustomResource's function
SAMPLING_PCT = "100"  # every delivered SMS is reported, not a sample: each one settles an attempt


def group_names() -> tuple[str, str]:
    prefix = f"sns/{Aws.REGION}/{Aws.ACCOUNT_ID}/DirectPublishToPhoneNumber"
    return prefix, f"{prefix}/Failure"


class SnsSmsDeliveryStatus(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        manage: bool,
        key: kms.IKey,
        retention: logs.RetentionDays,
        status_retention: logs.RetentionDays,
        retain: bool,
        forwarder: lambda_.IFunction,
    ) -> None:
        super().__init__(scope, construct_id)
        delivered, failed = group_names()
        if manage:
            self.groups: list[logs.ILogGroup] = [
                logs.LogGroup(
                    self,
                    logical,
                    log_group_name=name,
                    encryption_key=key,
                    retention=status_retention,
                    removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
                )
                for logical, name in (("Delivered", delivered), ("Failed", failed))
            ]
            self.role: ManagedPolicyRole | None = self._account_setting(key, retention, retain)
        else:
            self.groups = [
                logs.LogGroup.from_log_group_name(self, logical, name)
                for logical, name in (("Delivered", delivered), ("Failed", failed))
            ]
            self.role = None
        for group, logical in zip(self.groups, ("Delivered", "Failed"), strict=True):
            logs.SubscriptionFilter(
                self,
                f"{logical}ToReceipts",
                log_group=group,
                destination=destinations.LambdaDestination(forwarder),
                filter_pattern=logs.FilterPattern.all_events(),
            )

    def _acknowledge_setter_function(self) -> None:
        """CDK's one function behind every `AwsCustomResource` of the stack (a singleton at the stack's root)."""
        stack = Stack.of(self)
        function = stack.node.try_find_child(SINGLETON_ID)
        if function is None:
            raise RuntimeError(f"AwsCustomResource's function {SINGLETON_ID} is not where CDK puts it")
        reasons = {
            "HIPAA.Security-LambdaInsideVPC": "CloudFormation invokes it once per deployment to make one SNS call "
            "and answer at a pre-signed S3 URL, which isolated subnets cannot reach; it handles no alert data.",
            "HIPAA.Security-LambdaDLQ": "CloudFormation invokes it and waits for its answer: a failure fails the "
            "deployment, visibly, and nothing is lost.",
            "HIPAA.Security-LambdaConcurrency": "It runs once per deployment; reserving concurrency for it would "
            "only take capacity from the functions that deliver alerts.",
        }
        for rule, reason in reasons.items():
            acknowledge(function, rule, reason)

    def _account_setting(self, key: kms.IKey, retention: logs.RetentionDays, retain: bool) -> ManagedPolicyRole:
        """The role SNS writes the status with, and the account attribute that names it."""
        role = ManagedPolicyRole(
            self,
            "Role",
            principal=iam.ServicePrincipal(
                "sns.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
            ),
            description="Clarion: lets SNS write its SMS delivery status to the two log groups",
        )
        arns = [f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:{n}" for n in group_names()]
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:PutMetricFilter",
                    "logs:PutRetentionPolicy",
                ],
                resources=[*arns, *(f"{a}:log-stream:*" for a in arns)],
            )
        )
        acknowledge(
            role.policy,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:sns/"
            "<AWS::Region>/<AWS::AccountId>/DirectPublishToPhoneNumber:log-stream:*]",
            "SNS names the log streams itself; the statement is limited to the streams of the two delivery-status "
            "groups.",
        )
        acknowledge(
            role.policy,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:sns/"
            "<AWS::Region>/<AWS::AccountId>/DirectPublishToPhoneNumber/Failure:log-stream:*]",
            "SNS names the log streams itself; the statement is limited to the streams of the two delivery-status "
            "groups.",
        )
        call = cr.AwsSdkCall(
            service="SNS",
            action="setSMSAttributes",
            parameters={
                "attributes": {
                    "DeliveryStatusIAMRole": role.role_arn,
                    "DeliveryStatusSuccessSamplingRate": SAMPLING_PCT,
                }
            },
            physical_resource_id=cr.PhysicalResourceId.of("clarion-sns-sms-delivery-status"),
        )
        # The custom resource's function gets a role and a log group of Clarion's (a managed policy, our key)
        # rather than CDK's defaults (an inline policy, an AWS managed policy, an unencrypted group).
        setter = ManagedPolicyRole(
            self,
            "SetterRole",
            principal=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Clarion: sets the account's SMS delivery-status role (one SDK call per deployment)",
        )
        setter_logs = logs.LogGroup(
            self,
            "SetterLogs",
            encryption_key=key,
            retention=retention,
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )
        setter_logs.grant_write(setter)
        setter.add_to_policy(iam.PolicyStatement(actions=["sns:SetSMSAttributes"], resources=["*"]))
        setter.add_to_policy(iam.PolicyStatement(actions=["iam:PassRole"], resources=[role.role_arn]))
        self.setting = cr.AwsCustomResource(
            self,
            "AccountSetting",
            on_create=call,
            on_update=call,
            install_latest_aws_sdk=False,  # offline by design: the runtime's own SDK makes the call
            role=setter,
            log_group=setter_logs,
        )
        self.setting.node.add_dependency(role.policy, setter.policy)
        acknowledge(
            setter.policy,
            "AwsSolutions-IAM5[Resource::*]",
            "sns:SetSMSAttributes supports no resource-level permissions (it sets an account attribute); the role "
            "may pass only the delivery-status role.",
        )
        self._acknowledge_setter_function()
        return role
