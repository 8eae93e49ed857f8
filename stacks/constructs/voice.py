"""Amazon Connect: in `create` mode the instance, a claimed phone number and a queue whose outbound caller ID is that
number; the policy that lets a role start calls on it. The contact flow is the service stack's
(`stacks.constructs.call_flow`), beside the keypress function it invokes."""

from __future__ import annotations

from aws_cdk import Aws, Stack
from aws_cdk import aws_connect as connect
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.compliance import acknowledge


class Voice(Construct):
    """Exposes `instance_id`, `instance_arn` and `source_phone` for the dialer."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        mode: str,
        instance_id: str,
        phone_number: str,
        country_code: str,
        alias: str,
    ) -> None:
        super().__init__(scope, construct_id)
        if mode == "create":
            instance = connect.CfnInstance(
                self,
                "Instance",
                identity_management_type="CONNECT_MANAGED",
                instance_alias=alias,
                attributes=connect.CfnInstance.AttributesProperty(
                    inbound_calls=False, outbound_calls=True, contactflow_logs=True
                ),
            )
            self.instance_arn = instance.attr_arn
            self.instance_id = instance.attr_id
            number = connect.CfnPhoneNumber(
                self,
                "PhoneNumber",
                target_arn=self.instance_arn,
                country_code=country_code,
                type="DID",
                description="Clarion outbound alert calls",
            )
            self.source_phone = number.attr_address
            hours = connect.CfnHoursOfOperation(
                self,
                "AlwaysOpen",
                instance_arn=self.instance_arn,
                name="Clarion always open",
                time_zone="UTC",
                config=[
                    connect.CfnHoursOfOperation.HoursOfOperationConfigProperty(
                        day=day,
                        start_time=connect.CfnHoursOfOperation.HoursOfOperationTimeSliceProperty(hours=0, minutes=0),
                        end_time=connect.CfnHoursOfOperation.HoursOfOperationTimeSliceProperty(hours=23, minutes=59),
                    )
                    for day in ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
                ],
            )
            connect.CfnQueue(
                self,
                "OutboundQueue",
                instance_arn=self.instance_arn,
                name="Clarion outbound alerts",
                hours_of_operation_arn=hours.attr_hours_of_operation_arn,
                outbound_caller_config=connect.CfnQueue.OutboundCallerConfigProperty(
                    outbound_caller_id_number_arn=number.attr_phone_number_arn,
                    outbound_caller_id_name="Clarion",
                ),
            )
        else:
            self.instance_id = instance_id
            self.instance_arn = f"arn:{Aws.PARTITION}:connect:{Aws.REGION}:{Aws.ACCOUNT_ID}:instance/{instance_id}"
            self.source_phone = phone_number
        # Attached to whichever role starts calls (router, or the dialer with private networking).
        self.start_calls_policy = iam.ManagedPolicy(
            self,
            "StartCallsPolicy",
            description="Clarion: start outbound alert calls on this Connect instance",
            statements=[
                iam.PolicyStatement(
                    actions=["connect:StartOutboundVoiceContact"], resources=[f"{self.instance_arn}/contact/*"]
                )
            ],
        )
        rendered = (
            f"<{Stack.of(self).get_logical_id(instance)}.Arn>"  # how cdk-nag renders the GetAtt
            if mode == "create"
            else f"arn:<AWS::Partition>:connect:<AWS::Region>:<AWS::AccountId>:instance/{instance_id}"
        )
        acknowledge(
            self.start_calls_policy,
            f"AwsSolutions-IAM5[Resource::{rendered}/contact/*]",
            "StartOutboundVoiceContact authorizes on the contact it creates, whose id cannot be known in advance; "
            "the wildcard is limited to contacts of Clarion's own Connect instance.",
        )
