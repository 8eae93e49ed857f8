"""API Gateway, as the template defines it: routes, the TOKEN authorizer and its cache, the request validator's
JSON-object model, the gateway responses, and Lambda proxy integration.

It holds each client to its usage plan (`clarion_local.usage`): its own rate, burst and daily quota, 429 beyond
them. What it leaves out, and says so in `docs/local.md`: the stage's own throttling, the WAF, access logs, the
`/v1` stage prefix (the local API is served at the root).
"""

from __future__ import annotations

import fnmatch
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from clarion_local.functions import FunctionPool, InvocationError
from clarion_local.stack import Deployment, MockAnswer, Route
from clarion_local.usage import LocalUsage

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
API_ID = "local"
STAGE = "v1"
# Status API Gateway uses for each gateway response type (before the template's own override, if any).
_STATUS = {
    "UNAUTHORIZED": 401,
    "ACCESS_DENIED": 403,
    "MISSING_AUTHENTICATION_TOKEN": 403,
    "BAD_REQUEST_BODY": 400,
    "REQUEST_TOO_LARGE": 413,
    "AUTHORIZER_FAILURE": 500,
    "AUTHORIZER_CONFIGURATION_ERROR": 500,
    "INTEGRATION_FAILURE": 504,
    "INTEGRATION_TIMEOUT": 504,
    "DEFAULT_5XX": 502,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "INVALID_API_KEY": 403,
    "THROTTLED": 429,
    "QUOTA_EXCEEDED": 429,
}
_MESSAGES = {
    "UNAUTHORIZED": "Unauthorized",
    "ACCESS_DENIED": "User is not authorized to access this resource",
    "MISSING_AUTHENTICATION_TOKEN": "Missing Authentication Token",
    "BAD_REQUEST_BODY": "Invalid request body",
    "REQUEST_TOO_LARGE": "Request Too Long",
    "AUTHORIZER_FAILURE": "Internal server error",
    "INTEGRATION_FAILURE": "Internal server error",
    "INTEGRATION_TIMEOUT": "Endpoint request timed out",
    "DEFAULT_5XX": "Internal server error",
    "UNSUPPORTED_MEDIA_TYPE": "Unsupported Media Type",
    "INVALID_API_KEY": "Forbidden",
    "THROTTLED": "Too Many Requests",
    "QUOTA_EXCEEDED": "Limit Exceeded",
}


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class _Decision:
    expires: float
    policy: dict[str, Any]
    principal: str
    context: dict[str, Any]
    usage_key: str | None


class Gateway:
    def __init__(
        self,
        deployment: Deployment,
        pools: dict[str, FunctionPool],
        responses: dict[str, dict[str, Any]],
        region: str,
        account: str,
        usage: LocalUsage | None = None,
    ) -> None:
        self.deployment = deployment
        self.usage = usage
        self.pools = pools
        self.responses = responses
        self.region = region
        self.account = account
        self._routes = [(route, _path_regex(route.path)) for route in deployment.routes]
        self._cache: dict[str, _Decision] = {}
        self._lock = threading.Lock()

    # --- gateway responses ------------------------------------------------------------------
    def gateway_response(self, kind: str, request_id: str) -> Answer:
        family = "DEFAULT_5XX" if _STATUS.get(kind, 400) >= 500 else "DEFAULT_4XX"
        spec = self.responses.get(kind) or self.responses.get(family) or {}
        status = int(spec.get("StatusCode") or _STATUS.get(kind, 400))
        template = (spec.get("ResponseTemplates") or {}).get("application/json")
        message = _MESSAGES.get(kind, "Bad Request")
        if template is None:
            body = json.dumps({"message": message})
        else:
            body = template.replace("$context.error.messageString", json.dumps(message))
            body = body.replace("$context.requestId", request_id)
        headers = {
            name.removeprefix("gatewayresponse.header."): str(value).strip("'")
            for name, value in (spec.get("ResponseParameters") or {}).items()
            if name.startswith("gatewayresponse.header.")
        }
        headers.update({"Content-Type": "application/json", "x-amzn-RequestId": request_id})
        return Answer(status, headers, body.encode())

    # --- a request ----------------------------------------------------------------------------
    def handle(
        self, method: str, raw_path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> Answer:
        request_id = str(uuid.uuid4())
        match = self._match(method, raw_path)
        if match is None:
            return self.gateway_response("MISSING_AUTHENTICATION_TOKEN", request_id)
        route, path_parameters = match
        if route.mock is not None:
            return _mock(route.mock, method, headers, request_id) or self.gateway_response(
                "UNSUPPORTED_MEDIA_TYPE", request_id
            )
        if len(body) > MAX_BODY_BYTES:
            return self.gateway_response("REQUEST_TOO_LARGE", request_id)
        authorizer_context: dict[str, Any] = {}
        if route.authorized and self.deployment.authorizer is not None:
            decision = self._authorize(method, raw_path, headers, request_id)
            if isinstance(decision, Answer):
                return decision
            authorizer_context = {**decision.context, "principalId": decision.principal}
            if route.api_key_required and self.usage is not None:
                refused = self.usage.admit(decision.usage_key)
                if refused:
                    return self.gateway_response(refused, request_id)
        if route.json_object_body and not _is_json_object(body, headers):
            return self.gateway_response("BAD_REQUEST_BODY", request_id)
        event = self._proxy_event(route, method, raw_path, query, headers, body, path_parameters, request_id)
        event["requestContext"]["authorizer"] = authorizer_context
        try:
            result = self.pools[route.function].invoke(event)
        except InvocationError as error:
            kind = "INTEGRATION_TIMEOUT" if error.kind == "Timeout" else "DEFAULT_5XX"
            return self.gateway_response(kind, request_id)
        return _integration_answer(result, request_id) or self.gateway_response("DEFAULT_5XX", request_id)

    def _match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route of `method` on `path`, else that path's ANY route (any method: see docs/local.md)."""
        matches = [(route, found) for route, regex in self._routes if (found := regex.fullmatch(path))]
        for wanted in (method, "ANY"):
            for route, found in matches:
                if route.method == wanted:
                    return route, {k: unquote(v) for k, v in found.groupdict().items()}
        return None

    def _method_arn(self, method: str, path: str) -> str:
        return f"arn:aws:execute-api:{self.region}:{self.account}:{API_ID}/{STAGE}/{method}{path}"

    def _authorize(self, method: str, path: str, headers: dict[str, str], request_id: str) -> _Decision | Answer:
        authorizer = self.deployment.authorizer
        assert authorizer is not None
        token = _header(headers, authorizer.header)
        if not token or (authorizer.validation and not re.fullmatch(authorizer.validation, token)):
            return self.gateway_response("UNAUTHORIZED", request_id)  # the authorizer is not invoked
        method_arn = self._method_arn(method, path)
        with self._lock:
            decision = self._cache.get(token)
        if decision is None or decision.expires < time.monotonic():
            event = {"type": "TOKEN", "authorizationToken": token, "methodArn": method_arn}
            try:
                result = self.pools[authorizer.function].invoke(event)
            except InvocationError as error:
                if error.message.endswith("Unauthorized"):
                    return self.gateway_response("UNAUTHORIZED", request_id)
                return self.gateway_response("AUTHORIZER_FAILURE", request_id)
            if not isinstance(result, dict) or "policyDocument" not in result:
                return self.gateway_response("AUTHORIZER_CONFIGURATION_ERROR", request_id)
            decision = _Decision(
                expires=time.monotonic() + authorizer.ttl_seconds,
                policy=result["policyDocument"],
                principal=str(result.get("principalId", "")),
                context=dict(result.get("context") or {}),
                usage_key=result.get("usageIdentifierKey"),
            )
            if authorizer.ttl_seconds > 0:
                with self._lock:
                    self._cache[token] = decision
        if not _allows(decision.policy, method_arn):
            return self.gateway_response("ACCESS_DENIED", request_id)
        return decision

    def _proxy_event(
        self,
        route: Route,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
        path_parameters: dict[str, str],
        request_id: str,
    ) -> dict[str, Any]:
        now = datetime.now(UTC)
        return {
            "resource": route.path,
            "path": path,
            "httpMethod": method,
            "headers": headers or None,
            "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
            "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
            "multiValueQueryStringParameters": query or None,
            "pathParameters": path_parameters or None,
            "stageVariables": None,
            "requestContext": {
                "resourcePath": route.path,
                "httpMethod": method,
                "path": f"/{STAGE}{path}",
                "stage": STAGE,
                "requestId": request_id,
                "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "requestTimeEpoch": int(now.timestamp() * 1000),
                "accountId": self.account,
                "apiId": API_ID,
                "protocol": "HTTP/1.1",
                "identity": {"sourceIp": "127.0.0.1", "userAgent": _header(headers, "User-Agent")},
            },
            "body": body.decode("utf-8", errors="replace") if body else None,
            "isBase64Encoded": False,
        }


def _path_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[A-Za-z0-9_]+\})", template)
    pattern = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(pattern)


def _header(headers: dict[str, str], name: str) -> str:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), "")


def _is_json_object(body: bytes, headers: dict[str, str]) -> bool:
    content_type = _header(headers, "Content-Type").split(";")[0].strip().lower()
    if content_type and content_type != "application/json":
        return True  # the model applies to application/json only; the handler judges the rest
    try:
        return isinstance(json.loads(body or b"null"), dict)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False


def _allows(policy: dict[str, Any], method_arn: str) -> bool:
    allowed = False
    for statement in policy.get("Statement", []):
        resources = statement.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        if not any(fnmatch.fnmatchcase(method_arn, r) for r in resources):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def _mock(mock: MockAnswer, method: str, headers: dict[str, str], request_id: str) -> Answer | None:
    """A MOCK integration's answer; None (API Gateway's 415) for a body type it has no template for."""
    content_type = _header(headers, "Content-Type").split(";")[0].strip().lower()
    if content_type and content_type != "application/json":
        return None
    body = mock.template.replace("$context.httpMethod", method).encode()
    answer_headers = {**mock.headers, "x-amzn-RequestId": request_id}
    if body:
        answer_headers["Content-Type"] = "application/json"
    return Answer(mock.status, answer_headers, body)


def _integration_answer(result: Any, request_id: str) -> Answer | None:
    """The Lambda proxy response as HTTP, or None when it is malformed (API Gateway answers 502)."""
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        return None
    headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
    for key, values in (result.get("multiValueHeaders") or {}).items():
        headers[str(key)] = ", ".join(str(v) for v in values)
    headers["x-amzn-RequestId"] = request_id
    body = result.get("body") or ""
    if result.get("isBase64Encoded"):
        import base64

        return Answer(result["statusCode"], headers, base64.b64decode(body))
    return Answer(result["statusCode"], headers, str(body).encode())
