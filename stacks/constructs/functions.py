"""The one factory every Clarion function is built by, with the shared defaults; what each function is (its
handler, environment, grants, event source) is its entry in `stacks/functions_table.py`."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from importlib import util
from pathlib import Path

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from clarion.names import METRICS_NAMESPACE
from stacks.compliance import ManagedPolicyRole, acknowledge

ROOT = Path(__file__).resolve().parents[2]
LAMBDAS_DIR = ROOT / "lambdas"
DEPS_LAYER_DIR = ROOT / ".build" / "deps-layer"
RUNTIME = lambda_.Runtime.PYTHON_3_14
# With SDK tracing on, the Tracer would record each handler's answer and error in X-Ray (contact names, phone
# numbers, emails), outside Clarion's key and retention: record neither.
_NO_CAPTURE = {"POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false", "POWERTOOLS_TRACER_CAPTURE_ERROR": "false"}
POWERTOOLS_LAYER = (
    "arn:{partition}:lambda:{region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python314-arm64:{version}"
)
# Only the code: no tests, caches, requirement or packaging files reach the asset.
ASSET_EXCLUDES = [
    "**/__pycache__",
    "**/*.pyc",
    "requirements.txt",
    "pyproject.toml",
    "**/.pytest_cache",
    "**/.mypy_cache",
]
# Pure-Python runtime packages copied from the installed environment into Clarion's own layer
# (synth stays offline: nothing is downloaded).
LAYER_PACKAGES = ("phonenumbers", "tzdata")  # tzdata: the runtime may have no time zone database
MAX_CONCURRENCY = 20  # an SQS event source's concurrent batches, at most


def max_concurrency(reserved: int) -> int:
    """An event source's maximum concurrency: never above a function's reserved concurrency (min 2)."""
    return MAX_CONCURRENCY if reserved == 0 else max(2, min(MAX_CONCURRENCY, reserved))


@dataclass(frozen=True)
class Consume:
    """A function's SQS event source: batches of `batch_size`, none held back, partial failures reported."""

    queue: sqs.IQueue
    batch_size: int


# What a function's role may do, applied in the order listed: a statement, a managed policy, or its event source
# (which grants receiving from the queue).
Grant = iam.PolicyStatement | iam.IManagedPolicy | Consume


@dataclass(frozen=True)
class FunctionSpec:
    """One function: an entry of `stacks/functions_table.py`. `dead_letter_queue` keeps the events of an
    asynchronously invoked function that failed every retry; the others are invoked synchronously, or by a queue
    with its own dead-letter queue."""

    name: str  # the construct id, and the name the stack finds the function by
    handler: str
    description: str
    service: str  # POWERTOOLS_SERVICE_NAME
    environment: dict[str, str]
    grants: tuple[Grant, ...] = field(default=())
    timeout: Duration | None = None
    memory_mb: int = 256
    in_vpc: bool = True
    with_deps: bool = False  # Clarion's own layer (phone number validation, time zone data)
    outside_vpc_reason: str = ""
    invoked_by: str = "API Gateway"
    dead_letter_queue: sqs.IQueue | None = None


def stage_dependency_layer() -> Path:
    """Copy the runtime packages the Powertools layer lacks into `.build/deps-layer/python/`."""
    target = DEPS_LAYER_DIR / "python"
    shutil.rmtree(DEPS_LAYER_DIR, ignore_errors=True)
    target.mkdir(parents=True)
    for package in LAYER_PACKAGES:
        spec = util.find_spec(package)
        if spec is None or spec.origin is None:
            raise RuntimeError(f"Python package {package!r} is not installed: run `make install` first.")
        shutil.copytree(
            Path(spec.origin).parent, target / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
    return DEPS_LAYER_DIR


@dataclass(frozen=True)
class FunctionDefaults:
    key: kms.IKey
    log_retention: logs.RetentionDays
    retain_logs: bool
    powertools_layer_version: int
    vpc: ec2.IVpc | None = None
    security_group: ec2.ISecurityGroup | None = None
    subnets: ec2.SubnetSelection | None = None
    reserved_concurrency: int = 0
    sdk_tracing: bool = False  # the X-Ray SDK in the handlers (a slower cold start); Lambda's tracing is on anyway


class FunctionFactory(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, defaults: FunctionDefaults) -> None:
        super().__init__(scope, construct_id)
        self._defaults = defaults
        self._code = lambda_.Code.from_asset(str(LAMBDAS_DIR), exclude=ASSET_EXCLUDES)
        self.powertools = lambda_.LayerVersion.from_layer_version_arn(
            self,
            "Powertools",
            POWERTOOLS_LAYER.format(
                partition=Aws.PARTITION, region=Aws.REGION, version=defaults.powertools_layer_version
            ),
        )
        self._deps: lambda_.LayerVersion | None = None
        self.roles: dict[str, ManagedPolicyRole] = {}

    @property
    def deps_layer(self) -> lambda_.LayerVersion:
        if self._deps is None:
            self._deps = lambda_.LayerVersion(
                self,
                "Deps",
                code=lambda_.Code.from_asset(str(stage_dependency_layer())),
                compatible_runtimes=[RUNTIME],
                compatible_architectures=[lambda_.Architecture.ARM_64],
                description="Clarion runtime dependencies not in the Powertools layer (phone numbers, time zones)",
            )
        return self._deps

    def build(self, spec: FunctionSpec) -> lambda_.Function:
        """The function `spec` describes, with Clarion's defaults, then its grants in order."""
        fn, role = self._function(spec)
        for grant in spec.grants:
            if isinstance(grant, Consume):
                fn.add_event_source(
                    sources.SqsEventSource(
                        grant.queue,
                        batch_size=grant.batch_size,
                        max_batching_window=Duration.seconds(0),
                        report_batch_item_failures=True,
                        max_concurrency=max_concurrency(self._defaults.reserved_concurrency),
                    )
                )
            elif isinstance(grant, iam.PolicyStatement):
                fn.add_to_role_policy(grant)
            else:
                role.add_managed_policy(grant)
        return fn

    def _function(self, spec: FunctionSpec) -> tuple[lambda_.Function, ManagedPolicyRole]:
        d, name, service = self._defaults, spec.name, spec.service
        log_group = logs.LogGroup(
            self,
            f"{name}Logs",
            encryption_key=d.key,
            retention=d.log_retention,
            removal_policy=RemovalPolicy.RETAIN if d.retain_logs else RemovalPolicy.DESTROY,
        )
        role = ManagedPolicyRole(
            self,
            f"{name}Role",
            principal=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Clarion {service} function",
        )
        log_group.grant_write(role)
        place_in_vpc = spec.in_vpc and d.vpc is not None
        if place_in_vpc:
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=[
                        "ec2:CreateNetworkInterface",
                        "ec2:DescribeNetworkInterfaces",
                        "ec2:DeleteNetworkInterface",
                        "ec2:AssignPrivateIpAddresses",
                        "ec2:UnassignPrivateIpAddresses",
                    ],
                    resources=["*"],
                )
            )
        layers: list[lambda_.ILayerVersion] = [self.powertools]
        if spec.with_deps:
            layers.append(self.deps_layer)
        fn = lambda_.Function(
            self,
            name,
            description=spec.description,
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler=spec.handler,
            code=self._code,
            layers=layers,
            role=role,
            timeout=spec.timeout or Duration.seconds(10),
            memory_size=spec.memory_mb,
            tracing=lambda_.Tracing.ACTIVE,
            logging_format=lambda_.LoggingFormat.JSON,
            log_group=log_group,
            environment_encryption=d.key,
            environment={
                "POWERTOOLS_SERVICE_NAME": service,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": "INFO",
                "POWERTOOLS_TRACE_DISABLED": "false" if d.sdk_tracing else "true",
                **(_NO_CAPTURE if d.sdk_tracing else {}),
                **spec.environment,
            },
            vpc=d.vpc if place_in_vpc else None,
            vpc_subnets=d.subnets if place_in_vpc else None,
            security_groups=[d.security_group] if place_in_vpc and d.security_group else None,
            reserved_concurrent_executions=d.reserved_concurrency or None,
            dead_letter_queue=spec.dead_letter_queue,
        )
        self._acknowledge(
            fn, place_in_vpc, spec.outside_vpc_reason, spec.invoked_by, spec.dead_letter_queue is not None
        )
        reason = "X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) support no resource-level permissions"
        if place_in_vpc:
            reason += "; nor do the EC2 network-interface actions a function in a VPC needs"
        acknowledge(role.policy, "AwsSolutions-IAM5[Resource::*]", reason + ".")
        self.roles[name] = role
        return fn, role

    def _acknowledge(
        self, fn: lambda_.Function, in_vpc: bool, outside_vpc_reason: str, invoked_by: str, has_dlq: bool
    ) -> None:
        if not has_dlq:
            acknowledge(
                fn,
                "HIPAA.Security-LambdaDLQ",
                f"Invoked synchronously by {invoked_by}; a function DLQ only catches asynchronous invocations. "
                "Failed alerts are kept by the alert queue's dead-letter queue.",
            )
        if not in_vpc:
            acknowledge(
                fn,
                "HIPAA.Security-LambdaInsideVPC",
                outside_vpc_reason
                or "private_networking is false for this environment in cdk.json; set it true (as prod does) "
                "to run the functions in isolated subnets.",
            )
        if not self._defaults.reserved_concurrency:
            acknowledge(
                fn,
                "HIPAA.Security-LambdaConcurrency",
                "reserved_concurrency is 0 for this environment in cdk.json (accounts with a low concurrency "
                "quota cannot reserve any); API stage throttling and the queue's maximum concurrency bound scaling.",
            )
