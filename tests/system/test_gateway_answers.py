"""The local gateway answers as the deployed API would: each answer below is compared with what the synthesized
template defines (its MOCK methods and gateway responses), and none is Python's HTML error page."""

from __future__ import annotations

import http.client
import json

import pytest

from clarion_local.system import LocalClarion
from tests.synth import Synth
from tests.system.conftest import Api


def raw(local: LocalClarion, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", local.port, timeout=30)
    try:
        conn.request(method, path, body=body or None, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def template_allow(dev: Synth, part: str) -> str:
    """The Allow header the template's ANY method on the resource whose last path part is `part` answers."""
    resources = dev.resources("AWS::ApiGateway::Resource")
    for method in dev.resources("AWS::ApiGateway::Method").values():
        props = method["Properties"]
        if props["HttpMethod"] == "ANY" and resources[props["ResourceId"]["Ref"]]["Properties"]["PathPart"] == part:
            return str(
                props["Integration"]["IntegrationResponses"][0]["ResponseParameters"]["method.response.header.Allow"]
            ).strip("'")
    raise AssertionError(part)


@pytest.mark.parametrize(
    ("method", "path", "part"),
    [
        ("TRACE", "/alerts", "alerts"),
        ("PATCH", "/alerts", "alerts"),
        ("PATCH", "/contacts/C-1", "{contact_id}"),
        ("POST", "/alerts/x-1", "{message_id}"),
        ("DELETE", "/notification", "notification"),
    ],
)
def test_a_method_the_route_does_not_take_is_405_with_the_templates_allow(
    local: LocalClarion, dev: Synth, method: str, path: str, part: str
) -> None:
    # Given a route and a method it does not take
    # When it is called, with a token or without
    for headers in ({"Authorization": str(local.client_token)}, {}):
        status, answered, body = raw(local, method, path, b'{"a": 1}', {"Content-Type": "application/json", **headers})
        # Then the answer is 405, the template's Allow, and Clarion's JSON error naming the method
        assert status == 405
        assert answered["allow"] == template_allow(dev, part)
        error = json.loads(body)["error"]
        assert error["code"] == "method_not_allowed" and method in error["message"]


def test_head_is_405_without_a_body_and_options_is_204(local: LocalClarion, dev: Synth) -> None:
    # Given a GET route
    # When HEAD and OPTIONS are sent
    head = raw(local, "HEAD", "/alerts/x-1")
    options = raw(local, "OPTIONS", "/contacts/C-1")
    # Then HEAD is 405 with no body, and OPTIONS 204 with the route's Allow
    assert head[0] == 405 and head[2] == b"" and head[1]["allow"] == template_allow(dev, "{message_id}")
    assert options[0] == 204 and options[2] == b""
    assert options[1]["allow"] == template_allow(dev, "{contact_id}") == "PUT, GET, DELETE, OPTIONS"


@pytest.mark.parametrize("path", ["/nope", "/alerts/a/b/c", "/v1/alerts"])
def test_a_path_no_route_has_is_404_not_found_in_json(local: LocalClarion, dev: Synth, path: str) -> None:
    # Given a path no route has, and the template's answer for it
    (missing,) = [
        r["Properties"]
        for r in dev.resources("AWS::ApiGateway::GatewayResponse").values()
        if r["Properties"]["ResponseType"] == "MISSING_AUTHENTICATION_TOKEN"
    ]
    # When it is called with any method
    for method in ("GET", "POST", "TRACE"):
        status, headers, body = raw(local, method, path)
        # Then the answer is the template's: 404, JSON, not_found
        assert status == int(missing["StatusCode"]) == 404
        assert headers["content-type"] == "application/json"
        assert json.loads(body) == json.loads(missing["ResponseTemplates"]["application/json"])


def test_an_undeclared_method_with_a_body_not_json_is_415(local: LocalClarion) -> None:
    # Given a body type the MOCK integration has no template for
    status, _, body = raw(local, "PATCH", "/alerts", b"a=1", {"Content-Type": "text/plain"})
    # Then API Gateway's 415 comes back, in JSON
    assert status == 415 and json.loads(body)["error"]


def test_a_percent_encoded_id_reaches_the_route_decoded(api: Api) -> None:
    # Given an alert whose message id holds a ':'
    status, _, alert = api.post_alert(message_id="lab:encoded-1")
    assert status == 202
    # When a client reads it with the ':' percent-encoded, as some HTTP libraries send it
    status, view = api.call("GET", "/alerts/lab%3Aencoded-1", token=api.client_token)
    # Then the route reads the id decoded (schemathesis found it refused as not matching the pattern)
    assert status == 200 and view["message_id"] == alert["message_id"]


@pytest.mark.parametrize("path", ["/contacts/%C2%84", "/contacts/a%2Fb"])
def test_an_encoded_id_no_id_may_hold_is_400_not_404(api: Api, path: str) -> None:
    # Given an id percent-encoding what no contact id holds (found by schemathesis as an undocumented 404)
    status, answer = api.call("GET", path, token=api.admin_token)
    # Then the id is refused as invalid
    assert status == 400 and answer["error"]["field"] == "contact_id"


def test_a_body_sent_as_another_media_type_is_415_not_500(api: Api) -> None:
    # Given a multipart body without a boundary (schemathesis found it answered 500)
    for content_type in ("multipart/form-data", "application/x-www-form-urlencoded", "text/plain"):
        status, answer = api.call(
            "POST", "/alerts", {"message_id": "m"}, api.client_token, headers={"Content-Type": content_type}
        )
        # Then it is refused as the wrong media type
        assert status == 415 and answer["error"]["code"] == "unsupported_media_type", content_type


@pytest.mark.parametrize("header", ["x" * 2000, "Basic dXNlcjpwYXNz", "Bearer not-a-token", "clr_lab-system_short"])
def test_a_header_holding_no_token_is_401_without_invoking_the_authorizer(local: LocalClarion, header: str) -> None:
    # Given the authorizer's log so far
    assert local.log_dir is not None
    log = local.log_dir / "authorizer.log"
    before = log.read_text() if log.exists() else ""
    # When a request carries an Authorization header that is no Clarion token's form
    status, _, body = raw(local, "GET", "/alerts/x-1", headers={"Authorization": header})
    # Then the gateway answers 401 in Clarion's format, and the authorizer was not invoked
    assert status == 401 and json.loads(body)["error"]["code"] == "unauthorized"
    assert (log.read_text() if log.exists() else "") == before
