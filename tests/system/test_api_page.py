"""The API page (`/docs`) in a real browser: Swagger UI, served by the local server itself, shows every operation of
docs/openapi.json, takes the token a link carries in its fragment, and sends a request that the API accepts.

Uses Debian's Chromium through the `browser` fixture of test_link_page.py; the screenshot lands in
`.build/screenshots/`."""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from clarion_local.system import LocalClarion
from tests.system import test_link_page  # skips this module too where there is no Chromium
from tests.system.conftest import Api, new_alert

SHOTS = test_link_page.SHOTS
browser = test_link_page.browser  # the fixture: Debian's Chromium, headless

DOCUMENT = json.loads((Path(__file__).resolve().parents[2] / "docs" / "openapi.json").read_text())
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
OPERATIONS = sum(1 for item in DOCUMENT["paths"].values() for method in item if method in METHODS)
# Content-Security-Policy breaches, gathered in the page before any of its scripts runs
WATCH_CSP = (
    "window.cspBreaches = [];"
    "document.addEventListener('securitypolicyviolation', e => window.cspBreaches.push(e.violatedDirective));"
)


def _open(launched: Any, url: str) -> tuple[Any, list[str]]:
    """A page at `url` once Swagger UI has drawn the operations, and every URL the page requested."""
    page = launched.new_page(viewport={"width": 1280, "height": 900})
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.add_init_script(WATCH_CSP)
    page.goto(url)
    page.wait_for_selector(".opblock", timeout=30_000)
    return page, requested


def test_the_page_shows_every_operation_of_the_document(local: LocalClarion, browser: Any) -> None:
    # When the API page is opened
    page, _ = _open(browser, f"{local.url}/docs")
    # Then there is one operation block per operation of docs/openapi.json, and the title is the document's
    expect(page.locator(".opblock")).to_have_count(OPERATIONS)
    assert DOCUMENT["info"]["title"] in page.inner_text(".info .title")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "api-page.png"))
    page.close()


def test_a_token_in_the_fragment_authorizes_try_it_out(api: Api, local: LocalClarion, browser: Any) -> None:
    # Given the page opened from a link carrying the client token in its fragment
    page, _ = _open(browser, f"{local.url}/docs#token={api.client_token}")
    # Then the token is out of the address bar, and Swagger UI holds it
    assert page.url == f"{local.url}/docs"
    expect(page.locator(".auth-wrapper .authorize.locked")).to_have_count(1)
    # When POST /alerts is tried out with a valid alert for C-1
    body = new_alert(description="Potassium 6.9 mmol/L on ward 7 (API page)")
    send = page.locator(".opblock-post", has=page.locator(".opblock-summary-path[data-path='/alerts']"))
    send.locator(".opblock-summary").click()
    send.get_by_role("button", name="Try it out").click()
    send.locator("textarea.body-param__text").fill(json.dumps(body, indent=1))
    send.get_by_role("button", name="Execute").click()
    # Then the page shows the API's 202, and the alert exists
    expect(send.locator(".live-responses-table tbody .response-col_status")).to_have_text("202", timeout=30_000)
    assert api.view(body["message_id"])["message_id"] == body["message_id"]
    assert api.client_token not in page.url
    page.close()


def test_the_page_asks_no_host_but_this_server(local: LocalClarion, browser: Any) -> None:
    # When the page is opened and has settled
    page, requested = _open(browser, f"{local.url}/docs")
    page.wait_for_load_state("networkidle")
    # Then every request it made went to this server, the document and Swagger UI's files among them
    assert {urlsplit(url).hostname for url in requested} == {"127.0.0.1"}
    paths = {urlsplit(url).path for url in requested}
    assert {"/openapi.json", "/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css", "/docs/api_page.js"} <= paths
    page.close()


def test_the_page_keeps_to_its_content_security_policy(local: LocalClarion, browser: Any) -> None:
    # When the page is opened with its Content-Security-Policy (no inline script, this origin only)
    page, _ = _open(browser, f"{local.url}/docs")
    page.wait_for_load_state("networkidle")
    # Then nothing it does breaks the policy
    assert page.evaluate("window.cspBreaches") == []
    page.close()


def test_the_page_and_its_files_are_served_with_their_types(local: LocalClarion) -> None:
    # When the page and each of its files are fetched
    served = {}
    for path in ("/docs", "/docs/swagger-ui.css", "/docs/swagger-ui-bundle.js", "/docs/api_page.js"):
        conn = http.client.HTTPConnection("127.0.0.1", local.port, timeout=30)
        conn.request("GET", path)
        response = conn.getresponse()
        assert response.status == 200 and response.read()
        served[path] = response.headers
        conn.close()
    # Then each has its content type and nosniff, and the page its policy
    types = {path: headers["Content-Type"].split(";")[0] for path, headers in served.items()}
    assert types == {
        "/docs": "text/html",
        "/docs/swagger-ui.css": "text/css",
        "/docs/swagger-ui-bundle.js": "text/javascript",
        "/docs/api_page.js": "text/javascript",
    }
    assert {headers["X-Content-Type-Options"] for headers in served.values()} == {"nosniff"}
    assert "script-src 'self'" in served["/docs"]["Content-Security-Policy"]


@pytest.mark.parametrize(
    "path", ["/docs/../package.json", "/docs/%2e%2e/package.json", "/docs/index.js", "/docs/swagger-ui.js", "/docs/"]
)
def test_a_file_off_the_list_is_refused(api: Api, path: str) -> None:
    # When a name that is not one of the page's files is asked for under /docs/
    status, answer = api.call("GET", path)
    # Then the answer is a 404 in the API's error shape
    assert (status, answer["error"]["code"]) == (404, "not_found")
