"""Deploy the synthesized cloud assembly into an AWS emulator's CloudFormation.

The emulator (moto) creates the tables, queues, topics, keys, roles and functions exactly as the template
defines them. What it cannot create is bridged here, visibly:
- each template is first adapted (`clarion_local.template`): the resource types the emulator does not implement
  are taken out, and references to them replaced by stand-in values of the same shape;
- SES templates and the configuration set are then created through the SES API with the template's own
  properties, and the sender address is verified (an engineer does this once per account on AWS);
- topic subscriptions (the receipts topic's queue) are made through the SNS API, as the template defines them;
- a custom resource's SDK call (`Custom::AWS`: SNS's SMS delivery-status role) is made against the emulator;
- log subscription filters are described (`Deployment.log_subscriptions`) for the local providers to deliver to;
- the CDK bootstrap's version parameter and asset bucket are created, and the assets uploaded to it;
- the emulator's SQS event source mappings are disabled: it would run the functions in Docker, and the local
  runtime plays the event source itself.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from clarion_local.stack_bridges import bridge_removed, value_of
from clarion_local.template import Removed, adapt, moto_supports

BOOTSTRAP_QUALIFIER = "hnb659fds"
BOOTSTRAP_VERSION = "30"


@dataclass(frozen=True)
class Function:
    logical_id: str
    name: str
    handler: str
    timeout: int
    memory: int
    environment: dict[str, str]
    code_asset: str  # the cloud assembly's asset directory holding the code
    layer_assets: tuple[str, ...]  # asset directories of the stack's own layers


@dataclass(frozen=True)
class MockAnswer:
    """A MOCK integration's one answer: its status, static headers and body template."""

    status: int
    headers: dict[str, str]
    template: str


@dataclass(frozen=True)
class Route:
    method: str  # or ANY
    path: str  # e.g. /alerts/{message_id}
    function: str  # logical id of the integration's function ("" for a MOCK)
    authorized: bool
    json_object_body: bool  # the request validator checks the body against a JSON-object model
    mock: MockAnswer | None = None
    api_key_required: bool = False  # held to the usage plan of the authorizer's usage identifier


@dataclass(frozen=True)
class QueueSource:
    function: str  # logical id
    queue_url: str
    batch_size: int
    report_batch_item_failures: bool
    max_concurrency: int  # the mapping's ScalingConfig.MaximumConcurrency (concurrent batches)
    batching_window: float = 0  # MaximumBatchingWindowInSeconds: how long a batch may gather before its invocation


@dataclass(frozen=True)
class Authorizer:
    function: str  # logical id
    header: str  # the request header that carries the token
    ttl_seconds: int  # how long API Gateway caches a decision per token
    validation: str | None = None  # the identity validation expression: a token it does not match is 401 unasked


@dataclass
class Deployment:
    stacks: dict[str, dict[str, str]]  # stack name -> outputs
    functions: dict[str, Function]  # logical id -> function
    routes: list[Route]
    queue_sources: list[QueueSource]
    authorizer: Authorizer | None
    gateway_responses: dict[str, dict[str, Any]]  # response type -> the template's properties
    removed: dict[str, list[Removed]]
    log_subscriptions: dict[str, str] = field(default_factory=dict)  # log group name -> function logical id

    def function_for(self, handler: str) -> Function:
        return next(f for f in self.functions.values() if f.handler == handler)

    def output(self, key: str) -> str:
        for outputs in self.stacks.values():
            if key in outputs:
                return outputs[key]
        raise KeyError(key)


def stack_names(assembly: Path) -> list[str]:
    """The assembly's stacks in deployment order (dependencies first)."""
    manifest = json.loads((assembly / "manifest.json").read_text())
    artifacts = manifest["artifacts"]
    stacks = [n for n, a in artifacts.items() if a["type"] == "aws:cloudformation:stack"]
    ordered: list[str] = []
    while len(ordered) < len(stacks):
        for name in stacks:
            deps = [d for d in artifacts[name].get("dependencies", []) if d in stacks]
            if name not in ordered and all(d in ordered for d in deps):
                ordered.append(name)
    return ordered


@cache
def zip_directory(directory: Path) -> bytes:
    """`directory` as the zip the asset bucket holds (cached: assets do not change during a run)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(directory))
    return buffer.getvalue()


def _upload_assets(s3: Any, assembly: Path, stack: str, account: str, region: str) -> None:
    manifest = json.loads((assembly / f"{stack}.assets.json").read_text())
    for asset in manifest.get("files", {}).values():
        source = assembly / asset["source"]["path"]
        body = zip_directory(source) if asset["source"].get("packaging") == "zip" else source.read_bytes()
        for destination in asset["destinations"].values():
            bucket = destination["bucketName"].replace("${AWS::AccountId}", account)
            bucket = bucket.replace("${AWS::Region}", region)
            s3.put_object(Bucket=bucket, Key=destination["objectKey"], Body=body)


def _bootstrap(session: Any, account: str, region: str) -> None:
    session.client("ssm").put_parameter(
        Name=f"/cdk-bootstrap/{BOOTSTRAP_QUALIFIER}/version", Value=BOOTSTRAP_VERSION, Type="String", Overwrite=True
    )
    s3 = session.client("s3")
    bucket = f"cdk-{BOOTSTRAP_QUALIFIER}-assets-{account}-{region}"
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if bucket not in existing:
        kwargs: dict[str, Any] = {"Bucket": bucket}
        if region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**kwargs)


def deploy(
    session: Any,
    assembly: Path,
    supported: Callable[[str], bool] = moto_supports,
    progress: Callable[[str], None] = lambda _: None,
) -> Deployment:
    """Deploy every stack of `assembly` into the emulator behind `session` and describe what runs."""
    account = session.client("sts").get_caller_identity()["Account"]
    region = session.region_name
    _bootstrap(session, account, region)
    cfn = session.client("cloudformation")
    outputs: dict[str, dict[str, str]] = {}
    removed: dict[str, list[Removed]] = {}
    templates: dict[str, dict[str, Any]] = {}
    for stack in stack_names(assembly):
        progress(f"deploying {stack}")
        _upload_assets(session.client("s3"), assembly, stack, account, region)
        template = json.loads((assembly / f"{stack}.template.json").read_text())
        adapted = adapt(template, stack, supported, region, account)
        templates[stack] = template
        removed[stack] = adapted.removed
        cfn.create_stack(
            StackName=stack,
            TemplateBody=json.dumps(adapted.template),
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
        )
        described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
        if described["StackStatus"] != "CREATE_COMPLETE":
            raise RuntimeError(f"{stack}: {described['StackStatus']} {described.get('StackStatusReason', '')}")
        outputs[stack] = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
        bridge_removed(session, adapted.removed, stack)
    deployment = _describe(session, templates, outputs, removed)
    _pause_event_sources(session.client("lambda"), deployment)
    for function in deployment.functions.values():
        sender = function.environment.get("SENDER_EMAIL")
        if sender:
            session.client("ses").verify_email_identity(EmailAddress=sender)
    return deployment


def _pause_event_sources(lam: Any, deployment: Deployment) -> None:
    """The emulator would run the function itself (in Docker) for every message sent; the local runtime plays
    the event source instead (`clarion_local.poller`), so the emulator's mappings are disabled."""
    for function in deployment.functions.values():
        for mapping in lam.list_event_source_mappings(FunctionName=function.name).get("EventSourceMappings", []):
            lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)


def _physical_ids(cfn: Any, stack: str) -> dict[str, str]:
    paginator = cfn.get_paginator("list_stack_resources")
    return {
        r["LogicalResourceId"]: r.get("PhysicalResourceId", "")
        for page in paginator.paginate(StackName=stack)
        for r in page["StackResourceSummaries"]
    }


def _describe(
    session: Any,
    templates: dict[str, dict[str, Any]],
    outputs: dict[str, dict[str, str]],
    removed: dict[str, list[Removed]],
) -> Deployment:
    cfn = session.client("cloudformation")
    lam = session.client("lambda")
    sqs = session.client("sqs")
    functions: dict[str, Function] = {}
    routes: list[Route] = []
    sources: list[QueueSource] = []
    authorizer = None
    responses: dict[str, dict[str, Any]] = {}
    subscriptions: dict[str, str] = {}
    for stack, template in templates.items():
        resources = template["Resources"]
        physical = _physical_ids(cfn, stack)
        for logical_id, resource in resources.items():
            if resource["Type"] != "AWS::Lambda::Function":
                continue
            if not str(resource["Properties"].get("Runtime", "")).startswith("python"):
                continue  # CDK's custom resource function (Node.js): its one SDK call is made by `_sdk_call`
            config = lam.get_function_configuration(FunctionName=physical[logical_id])
            props = resource["Properties"]
            layers = [resources[layer["Ref"]] for layer in props.get("Layers", []) if "Ref" in layer]
            functions[logical_id] = Function(
                logical_id=logical_id,
                name=config["FunctionName"],
                handler=config["Handler"],
                timeout=int(config.get("Timeout", 3)),
                memory=int(config.get("MemorySize", 128)),
                environment=dict(config.get("Environment", {}).get("Variables", {})),
                code_asset=_asset_dir(props["Code"]),
                layer_assets=tuple(_asset_dir(layer["Properties"]["Content"]) for layer in layers),
            )
        routes.extend(_routes(resources))
        subscriptions.update(_log_subscriptions(session, stack, resources))
        for resource in resources.values():
            if resource["Type"] == "AWS::ApiGateway::GatewayResponse":
                responses[resource["Properties"]["ResponseType"]] = resource["Properties"]
            if resource["Type"] == "AWS::ApiGateway::Authorizer":
                props = resource["Properties"]
                authorizer = Authorizer(
                    function=_function_in(props["AuthorizerUri"]),
                    header=props["IdentitySource"].rsplit(".", 1)[1],
                    ttl_seconds=int(props.get("AuthorizerResultTtlInSeconds", 300)),
                    validation=props.get("IdentityValidationExpression"),
                )
            if resource["Type"] != "AWS::Lambda::EventSourceMapping":
                continue
            props = resource["Properties"]
            queue_arn = _resolve_import(props["EventSourceArn"], cfn)
            queue_name = queue_arn.rsplit(":", 1)[1]
            sources.append(
                QueueSource(
                    function=props["FunctionName"]["Ref"],
                    queue_url=sqs.get_queue_url(QueueName=queue_name)["QueueUrl"],
                    batch_size=int(props.get("BatchSize", 10)),
                    report_batch_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
                    max_concurrency=int(props.get("ScalingConfig", {}).get("MaximumConcurrency", 1000)),
                    batching_window=float(props.get("MaximumBatchingWindowInSeconds", 0)),
                )
            )
    return Deployment(outputs, functions, routes, sources, authorizer, responses, removed, subscriptions)


def _log_subscriptions(session: Any, stack: str, resources: dict[str, Any]) -> dict[str, str]:
    """Log group name -> the logical id of the function its subscription filter invokes."""
    out = {}
    for resource in resources.values():
        if resource["Type"] != "AWS::Logs::SubscriptionFilter":
            continue
        props = resource["Properties"]
        out[str(value_of(session, stack, props["LogGroupName"]))] = _function_in(props["DestinationArn"])
    return out


def _asset_dir(code: dict[str, Any]) -> str:
    """`asset.<hash>`: where the assembly keeps the directory that was zipped to `<hash>.zip`."""
    return "asset." + str(code["S3Key"]).removesuffix(".zip")


def _resolve_import(value: Any, cfn: Any) -> str:
    if isinstance(value, str):
        return value
    if "Fn::ImportValue" in value:
        exports = {
            e["Name"]: e["Value"] for page in cfn.get_paginator("list_exports").paginate() for e in page["Exports"]
        }
        return exports[value["Fn::ImportValue"]]
    raise ValueError(f"cannot resolve {value!r}")


def _routes(resources: dict[str, Any]) -> list[Route]:
    """(method, path, function) for every API Gateway method integrated with a function."""

    def path_of(resource_id: Any) -> str:
        if not isinstance(resource_id, dict) or "Ref" not in resource_id:
            return ""  # the API's root resource
        resource = resources[resource_id["Ref"]]["Properties"]
        return f"{path_of(resource['ParentId'])}/{resource['PathPart']}"

    routes = []
    for resource in resources.values():
        if resource["Type"] != "AWS::ApiGateway::Method":
            continue
        props = resource["Properties"]
        integration = props.get("Integration", {})
        if integration.get("Type") not in ("AWS_PROXY", "MOCK"):
            continue
        mock = _mock_answer(integration) if integration["Type"] == "MOCK" else None
        routes.append(
            Route(
                method=props["HttpMethod"],
                path=path_of(props["ResourceId"]) or "/",
                function="" if mock else _function_in(integration.get("Uri")),
                authorized=props.get("AuthorizationType", "NONE") != "NONE",
                json_object_body=_validates_object(props, resources),
                mock=mock,
                api_key_required=bool(props.get("ApiKeyRequired", False)),
            )
        )
    return routes


def _mock_answer(integration: dict[str, Any]) -> MockAnswer:
    """The answer a MOCK integration whose request template names one status gives (Clarion's only kind)."""
    status = int(json.loads(integration["RequestTemplates"]["application/json"])["statusCode"])
    (response,) = [r for r in integration["IntegrationResponses"] if int(r["StatusCode"]) == status]
    headers = {
        name.removeprefix("method.response.header."): str(value).strip("'")
        for name, value in (response.get("ResponseParameters") or {}).items()
    }
    return MockAnswer(status, headers, (response.get("ResponseTemplates") or {}).get("application/json", ""))


def _validates_object(method: dict[str, Any], resources: dict[str, Any]) -> bool:
    validator = method.get("RequestValidatorId")
    model = (method.get("RequestModels") or {}).get("application/json")
    if not (isinstance(validator, dict) and isinstance(model, dict)):
        return False
    checks_body = resources[validator["Ref"]]["Properties"].get("ValidateRequestBody", False)
    schema = resources[model["Ref"]]["Properties"].get("Schema", {})
    return bool(checks_body) and schema.get("type") == "object"


def _function_in(uri: Any) -> str:
    text = json.dumps(uri)
    match = re.search(r'"Fn::GetAtt": \["([A-Za-z0-9]+)", "Arn"\]', text)
    if not match:
        raise ValueError(f"no function in integration URI {text}")
    return match.group(1)
