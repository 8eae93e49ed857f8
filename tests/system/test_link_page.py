"""The acknowledgement page in a real browser (Debian's Chromium, headless, driven by Playwright): the link from
an SMS opens the alert, pressing Acknowledge acknowledges it and says so, and a spoiled link shows the plain page.

Screenshots land in `.build/screenshots/` for a person to look at."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clarion_local.system import LocalClarion
from tests.helpers import wait_until
from tests.system.conftest import Api

CHROMIUM = shutil.which("chromium")
SHOTS = Path(__file__).resolve().parents[2] / ".build" / "screenshots"
LINK = re.compile(r"https?://[^\s/]+(/l/[A-Za-z0-9_-]{38})")
# .ci/run installs Chromium; on CI its absence is a failure, on a workstation without it the test is skipped.
if CHROMIUM is None and not os.environ.get("CI"):
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "CI must have Debian's chromium (.ci/run installs it)"
    with sync_playwright() as driver:
        launched = driver.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield launched
        launched.close()


def _sms_link(api: Api, message_id: str) -> str:
    def link() -> str | None:
        for entry in api.outbox_of(message_id):
            found = LINK.search(entry.get("text") or "")
            if entry["channel"] == "sms" and found:
                return found.group(1)
        return None

    return wait_until(link, 30, 0.2, f"no SMS link for {message_id}")


def test_the_link_opens_the_alert_and_the_button_acknowledges_it(api: Api, local: LocalClarion, browser: Any) -> None:
    # Given a medium-priority alert whose SMS to C-1 carries a link
    status, _, body = api.post_alert(priority="M", description="Sodium 118 mmol/L, ward 4 <b>bold?</b>")
    assert status == 202
    link = _sms_link(api, body["message_id"])
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 420, "height": 760})
    # When the clinician opens it on a phone-sized screen
    page.goto(f"{local.url}{link}")
    # Then the page shows the alert's words, escaped, and the two buttons; nothing is acknowledged yet
    assert page.title() == "Clarion alert - Clarion"
    assert "Sodium 118 mmol/L, ward 4 <b>bold?</b>" in page.inner_text("body")
    page.screenshot(path=str(SHOTS / "link-page.png"), full_page=True)
    assert page.get_by_role("button", name="Acknowledge").is_visible()
    assert page.get_by_role("button", name="Decline").is_visible()
    assert api.call("GET", f"/alerts/{body['message_id']}", token=api.client_token)[1]["ack"]["acknowledged_by"] is None
    # When the Acknowledge button is pressed
    page.get_by_role("button", name="Acknowledge").click()
    page.wait_for_load_state()
    # Then the browser shows the confirmation and the alert is acknowledged by C-1 via the link
    assert page.title() == "Acknowledged - Clarion"
    page.screenshot(path=str(SHOTS / "link-acknowledged.png"), full_page=True)
    view = api.call("GET", f"/alerts/{body['message_id']}", token=api.client_token)[1]
    assert (view["status"], view["ack"]["acknowledged_by"], view["ack"]["via"]) == ("acknowledged", "C-1", "link")
    page.close()


def test_a_spoiled_link_shows_the_plain_page(local: LocalClarion, browser: Any) -> None:
    page = browser.new_page()
    response = page.goto(f"{local.url}/l/{'A' * 38}")
    assert response is not None and response.status == 404
    assert "This link is no longer valid" in page.inner_text("body")
    page.screenshot(path=str(SHOTS / "link-invalid.png"))
    page.close()
