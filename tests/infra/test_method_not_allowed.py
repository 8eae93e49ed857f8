"""What the deployed API answers for a method a route does not take, and for a path no route has."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from tests.synth import Synth


def _methods_by_path(s: Synth) -> dict[str, dict[str, dict[str, Any]]]:
    resources = s.resources("AWS::ApiGateway::Resource")

    def path_of(ref: Any) -> str:
        if not isinstance(ref, dict) or "Ref" not in ref:
            return ""
        props = resources[ref["Ref"]]["Properties"]
        return f"{path_of(props['ParentId'])}/{props['PathPart']}"

    by_path: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for method in s.resources("AWS::ApiGateway::Method").values():
        props = method["Properties"]
        by_path[path_of(props["ResourceId"])][props["HttpMethod"]] = props
    return by_path


def test_every_route_answers_other_methods_405_and_options_204_with_its_allow_header(dev: Synth) -> None:
    # Given every resource of the API and its methods
    by_path = _methods_by_path(dev)
    assert len(by_path) == 16
    for path, methods in by_path.items():
        own = sorted(verb for verb, props in methods.items() if props["Integration"]["Type"] != "MOCK")
        # Then besides its own methods it has ANY and OPTIONS, answered by the gateway alone (MOCK, no function)
        assert set(methods) == {*own, "ANY", "OPTIONS"}, path
        for verb, status in (("ANY", "405"), ("OPTIONS", "204")):
            mock = methods[verb]
            integration = mock["Integration"]
            assert integration["Type"] == "MOCK" and "Uri" not in integration
            assert json.loads(integration["RequestTemplates"]["application/json"]) == {"statusCode": int(status)}
            (answer,) = integration["IntegrationResponses"]
            assert answer["StatusCode"] == status
            allow = answer["ResponseParameters"]["method.response.header.Allow"].strip("'").split(", ")
            assert sorted(allow) == sorted([*own, "OPTIONS"]), path
            assert mock["MethodResponses"][0]["ResponseParameters"] == {"method.response.header.Allow": True}
        # And the 405's body is Clarion's error format, naming what the route accepts
        body = methods["ANY"]["Integration"]["IntegrationResponses"][0]["ResponseTemplates"]["application/json"]
        error = json.loads(body)["error"]
        assert error["code"] == "method_not_allowed" and "$context.httpMethod" in error["message"]


def test_a_path_no_route_has_answers_404_not_found_in_our_error_format(dev: Synth) -> None:
    # Given the gateway responses
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in dev.resources("AWS::ApiGateway::GatewayResponse").values()
    }
    # When API Gateway finds no route (it calls that MISSING_AUTHENTICATION_TOKEN, with a 403 by default)
    missing = responses["MISSING_AUTHENTICATION_TOKEN"]
    # Then the answer is 404 not_found, not a 403 that clients read as "do not retry"
    assert missing["StatusCode"] == "404"
    assert json.loads(missing["ResponseTemplates"]["application/json"])["error"]["code"] == "not_found"
