"""Acknowledging compliance findings: one place, always on the narrowest construct, always with a reason."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_iam as iam
from constructs import Construct, IConstruct


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge `rule` (e.g. `AwsSolutions-IAM5[Resource::*]`) on `construct` only."""
    Validations.of(construct).acknowledge(Acknowledgment(id=rule, reason=reason))


class ManagedPolicyRole(iam.Role):
    """A role whose grants land in one customer-managed policy instead of an inline policy
    (HIPAA.Security-IAMNoInlinePolicy), so CDK's grant helpers still work unchanged."""

    def __init__(self, scope: Construct, construct_id: str, *, principal: iam.IPrincipal, description: str) -> None:
        super().__init__(scope, construct_id, assumed_by=principal, description=description)
        self.policy = iam.ManagedPolicy(self, "Policy", roles=[self], description=description)

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        self.policy.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self.policy)
