"""The local server answers no web page but its own: a foreign Host (DNS rebinding) or Origin is 403, and a
`/_local` POST whose body is not JSON (a cross-site form) is 415, so a page cannot read the outbox or arm faults."""

from __future__ import annotations

import http.client
import json

import pytest

from clarion_local.system import LocalClarion
from tests.system.conftest import Api


def raw(local: LocalClarion, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", local.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_host="Host" in headers)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            conn.putheader(name, value)
        conn.endheaders(body or None)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


@pytest.mark.parametrize("path", ["/_local/outbox", "/_local/faults", "/alerts/x-1", "/docs"])
def test_a_foreign_host_is_refused(local: LocalClarion, path: str) -> None:
    # Given a request whose Host is another site's name re-pointed at 127.0.0.1 (DNS rebinding)
    status, answer = raw(local, "GET", path, {"Host": f"attacker.example:{local.port}"})
    # Then it is refused before any route
    assert status == 403 and answer["error"]["code"] == "forbidden_host"


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/_local/outbox"), ("POST", "/alerts"), ("DELETE", "/_local/faults")]
)
def test_a_foreign_origin_is_refused(local: LocalClarion, method: str, path: str) -> None:
    # Given a request a page of another origin makes
    status, answer = raw(
        local, method, path, {"Origin": "https://attacker.example", "Content-Type": "application/json"}, b"{}"
    )
    # Then it is refused
    assert status == 403 and answer["error"]["code"] == "forbidden_origin"


def test_a_cross_site_form_cannot_arm_a_fault(api: Api, local: LocalClarion) -> None:
    # Given a form post to /_local/faults (what an HTML form on any page can send without a preflight)
    form = b"channel=sms&mode=outage&count=3"
    status, answer = raw(local, "POST", "/_local/faults", {"Content-Type": "application/x-www-form-urlencoded"}, form)
    # Then it is 415 and no fault is armed
    assert status == 415 and answer["error"]["code"] == "unsupported_media_type"
    assert api.call("GET", "/_local/faults")[1] == []


def test_this_servers_own_pages_and_plain_clients_are_answered(api: Api, local: LocalClarion) -> None:
    # Given the page's own origin, localhost, and a client that sends no Origin
    own = {"Origin": f"http://127.0.0.1:{local.port}"}
    # Then each is answered as before
    assert raw(local, "GET", "/_local/health", own)[0] == 200
    assert raw(local, "GET", "/_local/health", {"Host": f"localhost:{local.port}"})[0] == 200
    assert api.call("GET", "/_local/health")[0] == 200


def test_an_opaque_origin_may_post_a_link_page_but_never_a_local_route(local: LocalClarion) -> None:
    # Given the "null" Origin a browser sends for a form of a page that sends no referrer (the link page)
    null = {"Origin": "null", "Content-Type": "application/json"}
    # Then a local-only route refuses it, and the API hears it (here: no token, so the gateway's 401)
    assert raw(local, "POST", "/_local/faults", null, b'{"channel":"sms","mode":"outage"}')[0] == 403
    assert raw(local, "GET", "/alerts/x-1", null)[0] == 401
