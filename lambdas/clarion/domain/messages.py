"""The words that go out: SMS text, spoken text for the call, and the fields of the email template.

Built only from the alert's type, priority and description. No patient reference reaches this module (the
`Alert` carries none), and as a second guard any identifier-like run of six or more digits in the description
is masked, so a reference typed into free text does not leave in an SMS, a call or an email.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from html import escape

from clarion.domain import masking
from clarion.domain.models import Alert, Priority


class TemplateKind(StrEnum):
    CRITICAL_RESULT = "critical_result"
    APPOINTMENT_REMINDER = "appointment_reminder"
    GENERIC = "generic"
    TAKEN = "taken"  # not an alert: the notice that someone took one (`taken_text`)


_KIND_WORDS: tuple[tuple[TemplateKind, frozenset[str]], ...] = (
    (TemplateKind.APPOINTMENT_REMINDER, frozenset({"appointment", "appt", "reminder", "booking", "clinic"})),
    (
        TemplateKind.CRITICAL_RESULT,
        frozenset({"critical", "result", "results", "lab", "labs", "blood", "test", "pathology", "panic"}),
    ),
)

_URGENCY = {Priority.HIGH: "URGENT", Priority.MEDIUM: "Important", Priority.LOW: "For information"}
_SPOKEN_URGENCY = {Priority.HIGH: "an urgent", Priority.MEDIUM: "an important", Priority.LOW: "a routine"}
_WHAT = {
    TemplateKind.CRITICAL_RESULT: "critical result",
    TemplateKind.APPOINTMENT_REMINDER: "appointment reminder",
    TemplateKind.GENERIC: "clinical alert",
}

SMS_MAX_CHARS = 160  # one GSM-7 segment
SMS_WITH_LINK_MAX_CHARS = 306  # two concatenated GSM-7 segments (153 each): the link never shortened
DESCRIPTION_MAX_CHARS = 500
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def template_kind(alert_type: str) -> TemplateKind:
    """Map a client's free-form alert type (`critical_lab_result`, `blood_test_alert`, ...) to a template."""
    words = set(re.split(r"[^a-z0-9]+", alert_type.lower()))
    for kind, markers in _KIND_WORDS:
        if words & markers:
            return kind
    return TemplateKind.GENERIC


def clean_description(description: str) -> str:
    """The description as it may go out: one line, bounded, identifiers and dates of birth withheld."""
    text = " ".join(_CONTROL.sub(" ", description).split())
    return masking.mask(text)[:DESCRIPTION_MAX_CHARS].rstrip(" .")


def _answer_tail(link: str | None, code: str | None) -> str:
    if code is not None and link is not None:
        return f"Reply {code} to acknowledge, or open {link}"
    if code is not None:
        return f"Reply {code} to acknowledge (NO {code} to decline)"
    return f"Acknowledge: {link}"


def sms_text(alert: Alert, link: str | None = None, detail: str = "description", code: str | None = None) -> str:
    """The SMS. With an acknowledgement `link` it ends with the link, whole; with a reply `code` (two-way SMS) it
    says how to answer by reply ("Reply 482193 to acknowledge"). `detail` "minimal" leaves the description out (it
    is on the link's page, behind its signature), keeping free text off lock screens."""
    what = f"{_URGENCY[alert.priority]} Clarion {_WHAT[template_kind(alert.type)]}"
    answerable = link is not None or code is not None
    if answerable and detail == "minimal":
        return f"{what}. {_answer_tail(link, code)}"
    head = f"{what}: "
    tail = ". See the clinical system." if not answerable else f". {_answer_tail(link, code)}"
    limit = SMS_MAX_CHARS if not answerable else SMS_WITH_LINK_MAX_CHARS
    room = limit - len(head) - len(tail)
    description = clean_description(alert.description)
    if len(description) > room:
        description = description[: max(room - 3, 0)].rstrip() + "..."
    return f"{head}{description}{tail}"


CALL_CHOICES = "Press 1 to acknowledge. Press 2 to hear it again. Press 3 if this is not your patient."
CALL_CHOICES_HEARD = "Press 1 to confirm you heard this. Press 2 to hear it again."


def spoken_text(alert: Alert) -> str:
    """Plain text for the contact flow's prompt, ending with the keypress choices; short sentences so
    text-to-speech paces it."""
    return (
        f"This is Clarion, with {_SPOKEN_URGENCY[alert.priority]} {_WHAT[template_kind(alert.type)]}. "
        f"{clean_description(alert.description)}. "
        "Please check the clinical system for details. "
        f"{CALL_CHOICES if alert.ack_required else CALL_CHOICES_HEARD}"
    )


def spoken_ssml(alert: Alert) -> str:
    """The same words as SSML, slowed down, for a flow that plays the prompt as SSML."""
    return f'<speak><prosody rate="slow">{escape(spoken_text(alert), quote=False)}</prosody></speak>'


@dataclass(frozen=True)
class EmailContent:
    kind: TemplateKind
    subject: str
    body: str
    link: str | None = None

    def template_data(self) -> dict[str, str]:
        """The SES template's placeholders: `{{subject}}`, `{{body}}` and, when there is one, `{{link}}`."""
        data = {"subject": self.subject, "body": self.body}
        if self.link is not None:
            data["link"] = self.link
        return data


def email_content(alert: Alert, link: str | None = None) -> EmailContent:
    kind = template_kind(alert.type)
    what = _WHAT[kind]
    subject = f"[{_URGENCY[alert.priority]}] Clarion {what}"
    body = (
        f"{_URGENCY[alert.priority]} {what}: {clean_description(alert.description)}.\n"
        "Open the clinical system for the details. This message does not identify the patient."
    )
    return EmailContent(kind=kind, subject=subject, body=body, link=link)


TAKEN_NAME_MAX = 40


def taken_text(name: str, at: str) -> str:
    """The one line everyone else reached by SMS gets once an alert is acknowledged: who took it and when (UTC),
    so that two clinicians neither both act nor both wait. No alert text: it is a notice, not an alert."""
    who = " ".join(_CONTROL.sub(" ", name).split())[:TAKEN_NAME_MAX] or "a colleague"
    when = at[11:16] if len(at) >= 16 else at
    return f"Clarion: taken by {who}, {when} UTC. No action needed from you."


class ReplyAnswer(StrEnum):
    ACKNOWLEDGED = "acknowledged"
    DECLINED = "declined"
    WHICH = "which"  # several alerts are open for the number: ask for the code
    NEED_CODE = "need_code"  # a reply without the code, which counts for nothing (setting `sms_bare_ack` off)
    LOCKED = "locked"  # too many wrong codes: the number's replies count for nothing for a while
    UNKNOWN_CODE = "unknown_code"


def reply_text(answer: ReplyAnswer, code: str | None = None) -> str:
    """Clarion's answer to a clinician's SMS reply: short, and naming no alert but by the code they sent."""
    if answer is ReplyAnswer.ACKNOWLEDGED:
        return f"Clarion: {code} acknowledged. Thank you."
    if answer is ReplyAnswer.DECLINED:
        return f"Clarion: {code} declined. It passes to the next person now."
    if answer is ReplyAnswer.WHICH:
        return "Clarion: more than one alert is open for you. Reply with its code, e.g. ACK 482193."
    if answer is ReplyAnswer.NEED_CODE:
        return "Clarion: nothing was recorded. A reply needs the alert's code, e.g. ACK 482193 or NO 482193."
    if answer is ReplyAnswer.LOCKED:
        return "Clarion: too many wrong codes. Replies from this number are locked for an hour; use the alert's link."
    return "Clarion: no open alert has that code. Reply with the code from the alert, e.g. ACK 482193."
