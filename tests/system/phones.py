"""The clinicians' phones and inboxes, played as a script against the local outbox, the way the best on-call
projects test theirs (GoAlert's smoke harness): a test says what each device must receive next, acts on it (opens
the link and presses a button, replies to the SMS, presses a key during the call), and anything that reached a
device without being expected fails the test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from clarion_local.system import LocalClarion
from tests.helpers import http_call, wait_until
from tests.system.conftest import Api, wait_idle

LINK = re.compile(r"https?://[^\s/]+(/l/[A-Za-z0-9_-]{38})")


@dataclass
class Message:
    entry: dict[str, Any]

    @property
    def text(self) -> str:
        data = self.entry.get("template_data") or {}
        return str(self.entry.get("text") or " ".join(str(v) for v in data.values()))

    @property
    def code(self) -> str:
        found = re.search(r"Reply (\d{6}) to acknowledge", self.text)
        assert found, f"no reply code in {self.text!r}"
        return found.group(1)

    @property
    def link(self) -> str:
        found = LINK.search(self.text)
        assert found, f"no acknowledgement link in {self.text!r}"
        return found.group(1)


@dataclass
class Phones:
    api: Api
    port: int
    system: LocalClarion
    _start: int = 0
    _taken: set[int] = field(default_factory=set)
    _mine: set[str] = field(default_factory=set)  # the script's alerts: other suites' alerts are not its business

    def __post_init__(self) -> None:
        self._start = len(self._outbox())  # what earlier tests sent is theirs

    def post(self, **fields: Any) -> tuple[int, dict[str, Any]]:
        """Post an alert this script follows."""
        status, _, body = self.api.post_alert(**fields)
        self._mine.add(body["message_id"])
        return status, body

    def _outbox(self) -> list[dict[str, Any]]:
        entries = list(self.api.call("GET", "/_local/outbox")[1])
        # Messages of other suites' alerts (still escalating) are blanked; notices and answers carry no alert
        return [e if e.get("message_id") in (None, *self._mine) else {} for e in entries]

    def expect(self, destination: str, channel: str, containing: str = "", timeout: float = 20) -> Message:
        """The next message to `destination` nobody has taken yet: it must be on `channel` and hold `containing`."""
        message = wait_until(
            lambda: self._next(destination), timeout, 0.2, f"nothing on {channel} reached {destination}"
        )
        entry = message.entry
        assert entry["channel"] == channel, f"{destination} got {entry['channel']}, not {channel}: {entry}"
        assert containing in message.text, f"{destination} got {message.text!r}"
        return message

    def _next(self, destination: str) -> Message | None:
        """The first message to `destination` the script has not taken, now taken; None while there is none."""
        for index, entry in enumerate(self._outbox()[self._start :], start=self._start):
            if index not in self._taken and entry.get("destination") == destination:
                self._taken.add(index)
                return Message(entry)
        return None

    def press(self, message: Message, action: str, **extra: str) -> tuple[int, str]:
        """Open the message's link (as a phone's browser does) and press a button."""
        status, page = http_call(self.port, "GET", message.link, None, {})
        assert status == 200, page
        body = urlencode({"action": action, **extra}).encode()
        status, page = http_call(
            self.port, "POST", message.link, body, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        return status, page.decode()

    def reply(self, sender: str, text: str) -> None:
        """`sender`'s phone replies `text` to Clarion's number."""
        status, answer = self.api.call("POST", "/_local/sms/reply", {"from": sender, "text": text})
        assert status == 202, answer

    def key(self, call: Message, digits: str) -> dict[str, Any]:
        """The called phone presses `digits` ("" for none) while the flow asks."""
        status, answer = self.api.call("POST", f"/_local/voice/{call.entry['provider_id']}/answer", {"digits": digits})
        assert status == 200, answer
        return dict(answer["flow_result"] or {})

    def nothing_unexpected(self) -> None:
        """Once the system has nothing left to do now (`idle`: what a phone's last answer set going has gone out,
        a call still ringing has ended), every message since the script began was expected by it."""
        wait_idle(self.system)
        extra = [
            e for i, e in enumerate(self._outbox()[self._start :], start=self._start) if i not in self._taken and e
        ]
        assert extra == [], f"messages nobody expected: {extra}"
