"""DynamoDB tables: contacts, escalation policies, on-call schedules, clients (token hashes), idempotency, the
delivery log and the audit trail of contact, policy and schedule changes."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_backup as backup
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.compliance import acknowledge

S = ddb.AttributeType.STRING


class Storage(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey, retain: bool) -> None:
        super().__init__(scope, construct_id)
        self._key = key
        self._retain = retain
        self.contacts = self._table("Contacts", ddb.Attribute(name="contact_id", type=S))
        # Sparse: only contacts with an escalation policy; tells which contacts a policy covers (delete: in use).
        self.contacts.add_global_secondary_index(
            index_name="by-policy",
            partition_key=ddb.Attribute(name="escalation_policy_id", type=S),
            projection_type=ddb.ProjectionType.KEYS_ONLY,
        )
        self.policies = self._table("Policies", ddb.Attribute(name="policy_id", type=S))
        # One partition per schedule: its definition, its overrides' lock, one item per override.
        self.schedules = self._table(
            "Schedules", ddb.Attribute(name="schedule_id", type=S), sort=ddb.Attribute(name="sk", type=S)
        )
        self.clients = self._table("Clients", ddb.Attribute(name="client_id", type=S))
        self.idempotency = self._table("Idempotency", ddb.Attribute(name="id", type=S), ttl="expiration")
        self.delivery_log = self._table(
            "DeliveryLog", ddb.Attribute(name="pk", type=S), sort=ddb.Attribute(name="sk", type=S), ttl="expires_at"
        )
        # Who changed a contact or a policy, when, and what it held before: kept as long as the table (no TTL).
        self.audit = self._table("Audit", ddb.Attribute(name="subject", type=S), sort=ddb.Attribute(name="sk", type=S))
        self.tables = [
            self.contacts,
            self.policies,
            self.schedules,
            self.clients,
            self.idempotency,
            self.delivery_log,
            self.audit,
        ]

        vault = backup.BackupVault(
            self,
            "Vault",
            encryption_key=key,
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )
        plan = backup.BackupPlan.daily35_day_retention(self, "BackupPlan", vault)
        selection = plan.add_selection(
            "Tables", resources=[backup.BackupResource.from_dynamo_db_table(t) for t in self.tables]
        )
        acknowledge(
            selection,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]",
            "AWS Backup's own service-role policy, maintained by AWS for the backup service to snapshot the tables.",
        )

    def _table(
        self, name: str, pk: ddb.Attribute, sort: ddb.Attribute | None = None, ttl: str | None = None
    ) -> ddb.Table:
        return ddb.Table(
            self,
            name,
            partition_key=pk,
            sort_key=sort,
            billing_mode=ddb.BillingMode.PAY_PER_REQUEST,
            encryption=ddb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self._key,
            point_in_time_recovery_specification=ddb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=ttl,
            deletion_protection=self._retain,
            removal_policy=RemovalPolicy.RETAIN if self._retain else RemovalPolicy.DESTROY,
        )
