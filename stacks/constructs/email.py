"""SES: one email template per kind of alert, and a configuration set whose event destination
reports deliveries, bounces, complaints and rejects to the receipts topic."""

from __future__ import annotations

from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from constructs import Construct

# Template kinds the router chooses from (by alert type, and `taken` for the notice that someone took an alert);
# the router fills {{subject}} and {{body}}.
TEMPLATES = {
    "generic": ("Clarion alert", "A clinical alert needs your attention."),
    "critical_result": ("Clarion critical result", "A critical result needs your attention now."),
    "appointment_reminder": ("Clarion reminder", "A reminder from your clinical system."),
    # not an alert: the notice to the others reached once someone acknowledged (no link is ever filled in)
    "taken": ("Clarion alert taken", "A colleague has taken this alert."),
}

_HTML = (
    '<!doctype html><html><body style="font-family:sans-serif">'
    "<h2>{{{{subject}}}}</h2><p>{lead}</p><p>{{{{body}}}}</p>"
    '{{{{#if link}}}}<p><a href="{{{{link}}}}">Acknowledge or decline</a></p>{{{{/if}}}}'
    '<p style="color:#666">Sent by Clarion. Open your clinical system for details; '
    "this message carries no patient identifiers.</p></body></html>"
)
_TEXT = (
    "{{{{subject}}}}\n\n{lead}\n\n{{{{body}}}}\n\n{{{{#if link}}}}Acknowledge or decline: {{{{link}}}}\n\n{{{{/if}}}}"
    "Sent by Clarion. Open your clinical system for details."
)


class Email(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, receipts_topic: sns.ITopic) -> None:
        super().__init__(scope, construct_id)
        self.template_names: dict[str, str] = {}
        for kind, (title, lead) in TEMPLATES.items():
            template = ses.CfnTemplate(
                self,
                f"Template{kind.title().replace('_', '')}",
                template=ses.CfnTemplate.TemplateProperty(
                    subject_part="{{subject}}",
                    text_part=_TEXT.format(lead=lead),
                    html_part=_HTML.format(lead=lead),
                ),
            )
            template.add_metadata("clarion:title", title)
            self.template_names[kind] = template.ref
        self.configuration_set = ses.ConfigurationSet(
            self, "ConfigurationSet", tls_policy=ses.ConfigurationSetTlsPolicy.REQUIRE, reputation_metrics=True
        )
        # L1 on purpose: the L2 destination writes a topic-policy statement naming this configuration
        # set into the data stack's topic, a cross-stack cycle. The topic policy there lets SES publish.
        ses.CfnConfigurationSetEventDestination(
            self,
            "ToReceipts",
            configuration_set_name=self.configuration_set.configuration_set_name,
            event_destination=ses.CfnConfigurationSetEventDestination.EventDestinationProperty(
                enabled=True,
                matching_event_types=["delivery", "bounce", "complaint", "reject", "renderingFailure"],
                sns_destination=ses.CfnConfigurationSetEventDestination.SnsDestinationProperty(
                    topic_arn=receipts_topic.topic_arn
                ),
            ),
        )
