"""Private networking: a VPC with isolated subnets only (no NAT) and endpoints for what the
functions call. Amazon Connect has no VPC endpoint, so calls are started by the dialer
function, which runs outside the VPC and does nothing else."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.compliance import ManagedPolicyRole

# Services the functions in the VPC call, and the endpoint that reaches each.
INTERFACE_ENDPOINTS = {
    "Sqs": ec2.InterfaceVpcEndpointAwsService.SQS,
    "Sns": ec2.InterfaceVpcEndpointAwsService.SNS,
    "Email": ec2.InterfaceVpcEndpointAwsService.EMAIL,
    "Lambda": ec2.InterfaceVpcEndpointAwsService.LAMBDA_,
    "Kms": ec2.InterfaceVpcEndpointAwsService.KMS,  # acknowledgement links are signed with KMS (GenerateMac)
}
NO_ENDPOINT_NOTE = (
    "Amazon Connect offers no VPC endpoint: the dialer function that starts outbound calls runs outside "
    "the VPC; every other function runs in isolated subnets and reaches AWS through VPC endpoints."
)


class Network(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        log_retention: logs.RetentionDays,
        two_way_sms: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr("10.60.0.0/20"),
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24)
            ],
            restrict_default_security_group=True,
        )
        flow_logs = logs.LogGroup(self, "FlowLogs", encryption_key=key, retention=log_retention)
        flow_role = ManagedPolicyRole(
            self,
            "FlowLogRole",
            principal=iam.ServicePrincipal("vpc-flow-logs.amazonaws.com"),
            description="Clarion VPC flow logs",
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs, flow_role),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
        # Isolated subnets have no route out, so outbound traffic can only reach the endpoints below.
        self.functions_sg = ec2.SecurityGroup(
            self,
            "FunctionsSg",
            vpc=self.vpc,
            description="Clarion functions (isolated subnets, endpoints only)",
            allow_all_outbound=True,
        )
        endpoint_sg = ec2.SecurityGroup(
            self,
            "EndpointsSg",
            vpc=self.vpc,
            description="Clarion VPC endpoints: HTTPS in from the functions",
            allow_all_outbound=False,
        )
        endpoint_sg.add_ingress_rule(self.functions_sg, ec2.Port.tcp(443), "HTTPS from Clarion functions")
        subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        self.endpoints: dict[str, ec2.InterfaceVpcEndpoint] = {}
        services = dict(INTERFACE_ENDPOINTS)
        if two_way_sms:  # the router and the replies function send through End User Messaging SMS
            services["SmsVoice"] = ec2.InterfaceVpcEndpointAwsService("pinpoint-sms-voice-v2")
        for name, service in services.items():
            self.endpoints[name] = self.vpc.add_interface_endpoint(
                name,
                service=service,
                subnets=subnets,
                security_groups=[endpoint_sg],
                private_dns_enabled=True,
                open=False,
            )
            _limit_to_this_account(self.endpoints[name], sms=name == "Sns")
        dynamodb = self.vpc.add_gateway_endpoint(
            "DynamoDb", service=ec2.GatewayVpcEndpointAwsService.DYNAMODB, subnets=[subnets]
        )
        dynamodb.add_to_policy(
            iam.PolicyStatement(
                principals=[iam.AnyPrincipal()],
                actions=["dynamodb:*Item", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:DescribeTable"],
                resources=["*"],
                conditions={"StringEquals": {"aws:PrincipalAccount": self.vpc.stack.account}},
            )
        )
        self.subnets = subnets

    @property
    def sns_endpoint_id(self) -> str:
        return self.endpoints["Sns"].vpc_endpoint_id


def _limit_to_this_account(endpoint: ec2.InterfaceVpcEndpoint, sms: bool) -> None:
    """Through this endpoint only this account's principals reach only this account's resources: nothing read
    here can be sent to another account's queue, topic or key. An SMS to a phone number has no resource (so no
    resource account): SNS's endpoint also lets this account publish to anything that is not a topic."""
    account = endpoint.stack.account
    endpoint.add_to_policy(
        iam.PolicyStatement(
            principals=[iam.AnyPrincipal()],
            actions=["*"],
            resources=["*"],
            conditions={"StringEquals": {"aws:PrincipalAccount": account, "aws:ResourceAccount": account}},
        )
    )
    if sms:
        endpoint.add_to_policy(
            iam.PolicyStatement(
                principals=[iam.AnyPrincipal()],
                actions=["sns:Publish"],
                not_resources=[f"arn:{endpoint.stack.partition}:sns:*:*:*"],
                conditions={"StringEquals": {"aws:PrincipalAccount": account}},
            )
        )
