"""Write docs/openapi.json for the whole API, generated from the handlers' routes and models.

python -m tools.openapi            # write docs/openapi.json
python -m tools.openapi --check    # exit 1 when docs/openapi.json is out of date
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn

from clarion.handlers import acks, contacts, http_errors, intake, overrides, policies, schedules

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "docs" / "openapi.json"
DESCRIPTION = (
    "Clarion routes clinical alerts to clinicians by call, SMS and email. "
    "Send the client token in the Authorization header, bare or as `Bearer <token>`. "
    'Every error answers {"error": {"code", "message", "field"}}. See docs/api.md.'
)


def render() -> str:
    """The OpenAPI document of both functions' routes (intake: alerts; contacts: contacts)."""
    app = APIGatewayRestResolver(enable_validation=True)
    http_errors.install(app)
    app.include_router(intake.router)
    app.include_router(acks.router)
    app.include_router(contacts.router)
    app.include_router(policies.router)
    app.include_router(schedules.router)
    app.include_router(overrides.router)
    schema = app.get_openapi_json_schema(
        title="Clarion API",
        version="1.0.0",
        description=DESCRIPTION,
        security_schemes={"clientToken": APIKey.model_validate({"name": "Authorization", "in": APIKeyIn.header})},
        security=[{"clientToken": []}],
    )
    return json.dumps(_finish(json.loads(schema)), indent=2, sort_keys=True) + "\n"


# What the gateway itself may answer on any operation, before or instead of the function.
_GATEWAY_ERRORS = {
    "429": "Throttled (over the client's own rate, burst or daily quota, the stage's, or the WAF's): retry after "
    "Retry-After",
    "502": "The gateway could not read the function's answer; retry",
    "504": "The function did not answer in time; retry",
}


_RETRY_AFTER = {
    "description": "Seconds to wait: 1 over a client's or the stage's rate, 3600 over a client's daily quota, 60 "
    "over the WAF's",
    "schema": {"type": "integer", "minimum": 1},
}


def _finish(document: dict[str, Any]) -> dict[str, Any]:
    """What the generator cannot say from the handlers: a 204 has no body; the gateway's own error answers."""
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
    for operations in document["paths"].values():
        for operation in operations.values():
            responses = operation["responses"]
            if "204" in responses:
                responses["204"].pop("content", None)
            for status, description in _GATEWAY_ERRORS.items():
                responses.setdefault(status, {"description": description, **error})
            responses["429"].setdefault("headers", {"Retry-After": _RETRY_AFTER})
    _link(document)
    _drop_unused_schemas(document)
    return document


def _drop_unused_schemas(document: dict[str, Any]) -> None:
    """Keep only the schemas a request or an answer reaches: Powertools adds its own validation-error schemas,
    which no route answers (http_errors answers ErrorBody), and a client generator would make classes of them."""
    schemas = document["components"]["schemas"]
    used: set[str] = set()
    reached = _refs(document["paths"])
    while reached:
        name = reached.pop()
        if name not in used:
            used.add(name)
            reached |= _refs(schemas[name])
    document["components"]["schemas"] = {name: schema for name, schema in schemas.items() if name in used}


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        found = {ref.removeprefix(_SCHEMA_REF)} if isinstance(ref, str) and ref.startswith(_SCHEMA_REF) else set()
        return found.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(value) for value in node))
    return set()


_SCHEMA_REF = "#/components/schemas/"


# What a client can do next with what an answer names (OpenAPI links; schemathesis's stateful phase follows them).
_LINKS = {  # (path, method, answers): (the linked paths, their parameter, its value)
    ("/alerts", "post", "202"): ("/alerts/{message_id}", "message_id", "$response.body#/message_id"),
    ("/notification", "post", "202"): ("/alerts/{message_id}", "message_id", "$response.body#/message_id"),
    ("/contacts/{contact_id}", "put", "2xx"): ("/contacts/{contact_id}", "contact_id", "$request.path.contact_id"),
    ("/escalation-policies/{policy_id}", "put", "2xx"): (
        "/escalation-policies/{policy_id}",
        "policy_id",
        "$request.path.policy_id",
    ),
    ("/schedules/{schedule_id}", "put", "2xx"): (
        "/schedules/{schedule_id}",
        "schedule_id",
        "$request.path.schedule_id",
    ),
}


def _link(document: dict[str, Any]) -> None:
    paths = document["paths"]
    for (path, method, _), (target, parameter, value) in _LINKS.items():
        targets = [(t, ops) for t, ops in paths.items() if t == target or t.startswith(f"{target}/")]
        links = {
            operation["operationId"]: {"operationId": operation["operationId"], "parameters": {parameter: value}}
            for _, ops in targets
            for verb, operation in ops.items()
            if verb != "put"
        }
        for answer, response in paths[path][method]["responses"].items():
            if answer.startswith("2"):
                response["links"] = links


def main(argv: Sequence[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--check", action="store_true", help="fail when the document is out of date")
    check = args.parse_args(argv).check
    text = render()
    if check:
        current = DOCUMENT.read_text() if DOCUMENT.exists() else ""
        if current != text:
            print(f"{DOCUMENT} is out of date: run python -m tools.openapi", file=sys.stderr)
            return 1
        return 0
    DOCUMENT.write_text(text)
    print(f"wrote {DOCUMENT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
