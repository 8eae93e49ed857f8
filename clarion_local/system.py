"""The whole of Clarion on this machine: emulator, deployed stacks, functions, queue poller and the local API.

`LocalClarion.start()` synthesizes the app (compliance packs included) unless given an assembly, starts the
embedded emulator (or uses `AWS_ENDPOINT_URL`), deploys the assembly into it, starts the functions and the
SQS event source, issues the client and admin tokens, loads the sample contacts through the API, and serves the
API plus the local-only routes (`clarion_local.local_routes`) on 127.0.0.1.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
from botocore.config import Config

from clarion import names
from clarion.adapters.clients_repo import ClientsRepo
from clarion.domain import tokens
from clarion_local import guard, samples, stack
from clarion_local.emulator import free_port, start_emulator
from clarion_local.functions import FunctionPool
from clarion_local.gateway import Gateway
from clarion_local.local_routes import LocalRoutes
from clarion_local.local_tokens import give_own_key, store_token
from clarion_local.poller import QueuePoller
from clarion_local.providers import ProviderBridge
from clarion_local.proxy import ProviderProxy
from clarion_local.receipts import LocalReceipts
from clarion_local.serving import serve
from clarion_local.usage import LocalUsage

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
ACCOUNT_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
CLIENT_ID = "lab-system"
ADMIN_ID = "local-admin"
CONCURRENCY = {names.INTAKE_HANDLER: 8, names.AUTHORIZER_HANDLER: 4, names.CONTACTS_HANDLER: 2}
_SESSION_LOCK = threading.Lock()


def synthesize(outdir: Path, env: str = "dev") -> Path:
    """`python app.py` into `outdir`: the same synth as `cdk synth`, with the compliance packs as a gate."""
    environment = {**os.environ, "CDK_OUTDIR": str(outdir), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    environment["CDK_CONTEXT_JSON"] = json.dumps({**context, "env": env})
    done = subprocess.run(
        [sys.executable, "app.py"], cwd=ROOT, env=environment, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"synth failed:\n{done.stdout}\n{done.stderr}")
    return outdir


@dataclass
class LocalClarion:
    port: int = 3000
    assembly: Path | None = None
    endpoint_url: str | None = None  # an emulator already running; None: start the embedded one
    log_dir: Path | None = None
    client_token: str | None = None
    admin_token: str | None = None
    progress: Callable[[str], None] = lambda _: None
    bridge: ProviderBridge = field(default_factory=ProviderBridge)
    keep_workdir: bool = False  # keep the synthesized assembly and function logs after stop (the CLI does)
    # Values that replace the deployed ones in every function whose environment has the variable (tests use it to
    # shorten receipt deadlines).
    function_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._stoppers: list[Callable[[], None]] = []
        self._workdir = Path(tempfile.mkdtemp(prefix="clarion-local-"))
        if not self.keep_workdir:
            self._stoppers.append(lambda: shutil.rmtree(self._workdir, ignore_errors=True))
        self.log_dir = self.log_dir or self._workdir / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.local_routes = LocalRoutes(self)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- start and stop ---------------------------------------------------------------------
    def start(self) -> LocalClarion:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        if self.assembly is None:
            self.progress("synthesizing the app with the compliance packs")
            self.assembly = synthesize(self._workdir / "cdk.out")
        self.endpoint_url = self.endpoint_url or self._start_emulator()
        self.session = boto3.session.Session(region_name=REGION, **ACCOUNT_CREDENTIALS)
        self.progress(f"deploying the synthesized stacks into the emulator at {self.endpoint_url}")
        self.deployment = stack.deploy(
            _EndpointSession(self.session, self.endpoint_url), self.assembly, progress=self.progress
        )
        self.bridge.receipts = LocalReceipts(
            sns=self.client("sns"),
            events=self.client("events"),
            topic_arn=self.deployment.output("ReceiptsTopicArn"),
            instance_arn=self._connect_instance_arn(),
        )
        proxy = ProviderProxy(self.endpoint_url, self.bridge).start()
        self.proxy = proxy
        self._stoppers.append(proxy.stop)
        self._capture_events()
        self.progress("starting the functions")
        if not self.port:
            self.port = free_port()  # known before the functions start: their links point at this server
        self.pools = self._start_functions(proxy.url)
        keypress = next((k for k, f in self.deployment.functions.items() if f.handler == names.KEYPRESS_HANDLER), None)
        if keypress is not None and self.bridge.receipts is not None:
            self.bridge.receipts.keypress = self.pools[keypress].invoke
        if self.bridge.receipts is not None:
            self.bridge.receipts.region, self.bridge.receipts.account = REGION, self._account()
            for group, function in self.deployment.log_subscriptions.items():
                self.bridge.receipts.log_subscribers[group] = self.pools[function].invoke
        self.usage = LocalUsage.from_removed(self.deployment.removed)
        self.gateway = Gateway(
            self.deployment, self.pools, self.deployment.gateway_responses, REGION, self._account(), self.usage
        )
        self._start_pollers()
        self._issue_tokens()
        self._serve()
        self.progress("loading the sample contacts and escalation policy")
        for contact_id, contact in samples.CONTACTS.items():
            status, body = self.request("PUT", f"/contacts/{contact_id}", contact, token=self.admin_token)
            if status not in (200, 201):
                raise RuntimeError(f"could not load sample contact {contact_id}: {status} {body}")
        for policy_id, policy in samples.POLICIES.items():
            status, body = self.request("PUT", f"/escalation-policies/{policy_id}", policy, token=self.admin_token)
            if status not in (200, 201):
                raise RuntimeError(f"could not load sample escalation policy {policy_id}: {status} {body}")

    def stop(self) -> None:
        while self._stoppers:
            stopper = self._stoppers.pop()
            try:
                stopper()
            except Exception as error:  # keep stopping the rest
                print(f"while stopping: {error}", file=sys.stderr)

    def __enter__(self) -> LocalClarion:
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()

    def _start_emulator(self) -> str:
        assert self.log_dir is not None
        self.progress("starting the embedded AWS emulator (moto server)")
        endpoint, stop = start_emulator(self.log_dir / "emulator.log")
        self._stoppers.append(stop)
        return endpoint

    def _connect_instance_arn(self) -> str | None:
        """The ARN the call-events rule matches: the stand-in Connect instance the router calls through."""
        router = self.deployment.function_for(names.ROUTER_HANDLER)
        instance = router.environment.get(names.ENV_CONNECT_INSTANCE_ID)
        return f"arn:aws:connect:{REGION}:{self._account()}:instance/{instance}" if instance else None

    def _account(self) -> str:
        return str(self.client("sts").get_caller_identity()["Account"])

    def client(self, service: str, config: Config | None = None) -> Any:
        with _SESSION_LOCK:  # a boto3 session is not thread-safe (two threads at once: a KeyError inside botocore)
            return self.session.client(service, endpoint_url=self.endpoint_url, config=config)  # type: ignore[call-overload]

    def _start_functions(self, proxy_url: str) -> dict[str, FunctionPool]:
        assert self.assembly is not None and self.log_dir is not None
        base = {
            "AWS_ACCESS_KEY_ID": ACCOUNT_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": ACCOUNT_CREDENTIALS["aws_secret_access_key"],
            "AWS_SESSION_TOKEN": "local",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ENDPOINT_URL": proxy_url,
        }
        account = self._account()
        pools: dict[str, FunctionPool] = {}
        self._stoppers.append(lambda: FunctionPool.stop_all(list(pools.values())))
        for logical_id, function in self.deployment.functions.items():
            paths = [str(self.assembly / function.code_asset)]
            paths += [str(self.assembly / layer / "python") for layer in function.layer_assets]
            environment = {**base, "AWS_LAMBDA_FUNCTION_NAME": function.name}
            if names.ENV_LINK_BASE_URL in function.environment:
                # The deployed value is the emulator's stand-in API URL; links must open on this server.
                environment[names.ENV_LINK_BASE_URL] = self.url
            environment.update({k: v for k, v in self.function_env.items() if k in function.environment})
            sources = [s for s in self.deployment.queue_sources if s.function == logical_id]
            concurrency = sources[0].max_concurrency if sources else CONCURRENCY.get(function.handler, 2)
            pool = FunctionPool(function, environment, paths, self.log_dir, concurrency, REGION, account)
            pools[logical_id] = pool
        # A queue's function warm to its mapping's maximum concurrency (a burst starts no cold worker), the others one
        warm = {source.function: source.max_concurrency for source in self.deployment.queue_sources}
        threads = [threading.Thread(target=pool.warm, args=(warm.get(k, 1),)) for k, pool in pools.items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return pools

    def _start_pollers(self) -> None:
        self.pollers: list[QueuePoller] = []
        self._stoppers.append(lambda: QueuePoller.stop_all(self.pollers))
        for source in self.deployment.queue_sources:
            sqs = self.client("sqs", config=Config(max_pool_connections=source.max_concurrency + 1))
            self.pollers.append(QueuePoller(sqs, source, self.pools[source.function].invoke).start())

    def _capture_events(self) -> None:
        """A local-only queue subscribed to the alert-events topic, so `/_local/events` can show what was published."""
        sqs = self.client("sqs")
        self.events_queue_url = sqs.create_queue(QueueName="clarion-local-events")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.events_queue_url, AttributeNames=["QueueArn"])["Attributes"]
        topic = self.deployment.output("AlertEventsTopicArn")
        self.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn["QueueArn"])
        self._events: list[dict[str, Any]] = []
        self._events_lock = threading.Lock()
        stop = threading.Event()

        def drain() -> None:  # keep the capture queue short: the emulator's sends slow down as a queue grows
            while not stop.wait(1):
                try:
                    self.events()
                except Exception as error:  # the emulator is stopping; the next call reports it
                    print(f"events capture: {type(error).__name__}: {error}", file=sys.stderr)

        threading.Thread(target=drain, name="events-capture", daemon=True).start()
        self._stoppers.append(stop.set)

    def events(self) -> list[dict[str, Any]]:
        """Every event published to the alert-events topic so far: {"message": ..., "attributes": ...}."""
        sqs = self.client("sqs")
        with self._events_lock:
            while True:
                batch = sqs.receive_message(QueueUrl=self.events_queue_url, MaxNumberOfMessages=10).get("Messages", [])
                if not batch:
                    return list(self._events)
                for message in batch:
                    envelope = json.loads(message["Body"])
                    attributes = {k: v.get("Value") for k, v in envelope.get("MessageAttributes", {}).items()}
                    self._events.append({"message": json.loads(envelope["Message"]), "attributes": attributes})
                sqs.delete_message_batch(
                    QueueUrl=self.events_queue_url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)],
                )

    def clients_repo(self) -> ClientsRepo:
        """The clients table, as the operator's token tool sees it (`python -m tools.tokens`)."""
        table_name = self.deployment.output("ClientsTable")
        with _SESSION_LOCK:
            resource = self.session.resource("dynamodb", endpoint_url=self.endpoint_url)  # type: ignore[call-overload]
        return ClientsRepo(table_name, table=resource.Table(table_name))

    def issue_token(self, client_id: str, *scopes: tokens.Scope) -> tuple[str, str]:
        """A new token for `client_id`: (token, token_id)."""
        issued = tokens.generate(client_id, scopes, datetime.now(UTC).isoformat(timespec="seconds"))
        self.clients_repo().add_token(client_id, issued.stored)
        return issued.token, issued.stored.token_id

    def _issue_tokens(self) -> None:
        """The sample client and admin, each with its own key in the fastest tier: the test suites' bursts fit."""
        fastest = max(self.usage.plans.values(), key=lambda plan: plan.rate).plan_id
        tier = next(t for t, p in json.loads(self.deployment.output("UsagePlans")).items() if p == fastest)
        self.client_token = self.add_client(CLIENT_ID, tokens.Scope.ALERTS, tier, self.client_token)
        self.admin_token = self.add_client(ADMIN_ID, tokens.Scope.ADMIN, tier, self.admin_token)

    def add_client(self, client_id: str, scope: tokens.Scope, tier: str, given: str | None = None) -> str:
        """A client with a token (`given`, else a new one) and its own key in `tier`'s usage plan; its token."""
        repo = self.clients_repo()
        token = store_token(repo, given, client_id, scope, datetime.now(UTC).isoformat(timespec="seconds"))
        give_own_key(repo, self.usage, json.loads(self.deployment.output("UsagePlans")), client_id, tier)
        return token

    # --- HTTP ------------------------------------------------------------------------------
    def _serve(self) -> None:
        self.port, stop = serve("local-api", self.port, self.respond)
        self._stoppers.append(stop)

    def respond(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any, bytes]:
        """One request to the local API: refused (`guard`), a local-only route, else the gateway."""
        parts = urlsplit(path)
        answer = guard.refused(method, parts.path, headers, body, self.port) or self.local_routes.answer(
            method, parts.path, body
        )
        if answer is None:
            query = parse_qs(parts.query, keep_blank_values=True)
            answer = self.gateway.handle(method, parts.path, query, headers, body)
        return answer.status, answer.headers.items(), answer.body

    def request(self, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
        """Send one request to the local API (what `curl` would do); (status, decoded JSON or None)."""
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = token
        data = None if body is None else json.dumps(body).encode()
        status, payload = http_call(self.port, method, path, data, headers)
        return status, json.loads(payload) if payload else None

    # --- local-only views ---------------------------------------------------------------------
    def outbox(self) -> list[dict[str, Any]]:
        """Every provider send that went out, with the alert and attempt it belongs to."""
        return self.local_routes.outbox()

    def metrics(self) -> dict[str, float]:
        """Totals of every EMF metric the functions logged (`clarion_local.local_routes`)."""
        return self.local_routes.metrics()

    def wait_for_status(self, message_id: str, statuses: set[str], timeout: float = 60) -> dict[str, Any]:
        """Poll `GET /alerts/{message_id}` until its status is one of `statuses`."""
        deadline = time.monotonic() + timeout
        while True:
            status, body = self.request("GET", f"/alerts/{message_id}", token=self.client_token)
            if status == 200 and body["status"] in statuses:
                return dict(body)
            if time.monotonic() > deadline:
                raise TimeoutError(f"{message_id} is still {body} after {timeout} s")
            time.sleep(0.1)


def http_call(
    port: int, method: str, path: str, body: bytes | None, headers: dict[str, str], timeout: float = 60
) -> tuple[int, bytes]:
    """One HTTP request to 127.0.0.1:`port`; (status, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class _EndpointSession:
    """A boto3 session whose clients all talk to the emulator."""

    def __init__(self, session: Any, endpoint_url: str) -> None:
        self._session = session
        self._endpoint_url = endpoint_url
        self.region_name = session.region_name

    def client(self, service: str) -> Any:
        return self._session.client(service, endpoint_url=self._endpoint_url)
