"""The outbound-call contact flow, and what lets it report the clinician's keypress: the keypress function
associated with the Connect instance (an integration association) and invocable by that instance only.

The flow first asks the keypress function what to say, by the call's only attribute (an opaque handle), with flow
logging off so the words reach no Connect log; it speaks them and asks for 1 (acknowledge), 2 (hear it again, once)
or 3 (not my patient). Whatever the answer, or none, it invokes the function again, which finds the alert by the
contact's own id. Without words it says to check Clarion and reports no answer. The flow is in the service stack,
beside the function whose ARN it names.
"""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import Aws, Fn
from aws_cdk import aws_connect as connect
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

FLOW_FILE = Path(__file__).resolve().parent.parent / "assets" / "outbound_call_flow.json"


class CallFlow(Construct):
    """Exposes `flow_id` for the router."""

    def __init__(self, scope: Construct, construct_id: str, *, instance_arn: str, keypress: lambda_.IFunction) -> None:
        super().__init__(scope, construct_id)
        content = json.dumps(json.loads(FLOW_FILE.read_text()), separators=(",", ":"))
        flow = connect.CfnContactFlow(
            self,
            "OutboundCallFlow",
            instance_arn=instance_arn,
            name="Clarion outbound alert call",
            type="CONTACT_FLOW",
            description="Speaks a Clarion alert; 1 acknowledges, 2 repeats it once, 3 declines",
            content=Fn.sub(content, {"KeypressFunctionArn": keypress.function_arn}),
        )
        # arn:...:instance/<instance id>/contact-flow/<flow id>
        self.flow_id = Fn.select(3, Fn.split("/", flow.attr_contact_flow_arn))
        connect.CfnIntegrationAssociation(
            self,
            "KeypressIntegration",
            instance_id=instance_arn,
            integration_type="LAMBDA_FUNCTION",
            integration_arn=keypress.function_arn,
        )
        keypress.add_permission(
            "InvokedByThisConnectInstance",
            principal=iam.ServicePrincipal("connect.amazonaws.com"),
            source_arn=instance_arn,
            source_account=Aws.ACCOUNT_ID,
        )
