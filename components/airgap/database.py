"""Database: a private PostgreSQL — Aurora Serverless v2 that pauses itself when nobody is connected.

Why Aurora Serverless v2 with a minimum of 0 ACUs rather than an RDS instance: a paused cluster bills "Aurora
storage and other aspects of the cluster that aren't tied to that specific DB instance" and no compute (Aurora User
Guide, "Scaling to Zero ACUs with automatic pause and resume"); the first connection resumes it in about 15 seconds
(30 or more after a day paused). An RDS instance bills by the hour while up, and a stopped one is started again by AWS
after seven days (RDS API reference, StopDBInstance), so "asleep" would need a weekly re-stop. Minimum 0 ACUs needs
Aurora PostgreSQL 16.3, 15.7, 14.12, 13.15 or later (same page).

Secure by default: in the isolated subnets, never publicly accessible, storage encrypted (Serverless v2 defaults to
unencrypted in the provider: set explicitly), the master password generated and kept by RDS in Secrets Manager
(`manage_master_user_password`: the provider keeps only the secret's ARN in state), IAM database authentication on,
backups kept, a final snapshot on delete, deletion protection when `protect`. It admits its port only from groups
allowed to use it (`connections.allow_from`, or a bastion's `allow_forwarding_to`). It needs no VPC endpoint: "You
don't need an interface VPC endpoint to connect to a DB instance" (RDS User Guide, "Amazon RDS API and interface VPC
endpoints"), and RDS rotates the managed secret itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from airgap.connections import Connections, Port
from airgap.naming import ChildNames, PhysicalNames, check_component_name
from airgap.where import PARTITION, where
from airgap.workload import ForwardTarget, Needs

PORT = 5432
POSTGRES = Port.tcp(PORT)
# The oldest minor of each major that can pause at 0 ACUs (Aurora User Guide, "Scaling to Zero ACUs").
PAUSABLE_FROM = {13: 15, 14: 12, 15: 7, 16: 3}
DEFAULT_ENGINE_VERSION = "16.6"


@dataclass(frozen=True)
class DatabaseArgs:
    vpc_id: pulumi.Input[str]
    # Isolated subnets in two or more AZs (a DB subnet group needs two).
    subnet_ids: Sequence[pulumi.Input[str]]
    names: PhysicalNames | None = None
    engine_version: str = DEFAULT_ENGINE_VERSION
    database_name: str = "app"
    # Not "postgres": a custom administrator name (Security Hub RDS.24).
    master_username: str = "airgap_admin"
    # Aurora capacity units: 0 pauses when idle; each ACU is about 2 GiB of memory.
    min_capacity: float = 0
    max_capacity: float = 2
    seconds_until_auto_pause: int = 300
    backup_retention_days: int = 7
    # Deletion protection, and the cluster protected in Pulumi (a production stack's data).
    protect: bool = False
    # Asleep changes nothing here: with no session through the bastion, nobody is connected and the cluster pauses.
    asleep: bool = False


class Database(pulumi.ComponentResource):
    connections: Connections
    cluster: aws.rds.Cluster
    instance: aws.rds.ClusterInstance

    @classmethod
    def needs(cls) -> Needs:
        return Needs()  # no endpoint: clients reach it inside the VPC, RDS manages it from outside

    def forward_targets(self) -> list[ForwardTarget]:
        return [ForwardTarget("database", self.cluster.endpoint, (PORT,), "the database")]

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airgap:data:Database", check_component_name("Database", name), None, opts)
        own = ChildNames(name, first_name="database")
        names = args.names or PhysicalNames.of_this_stack()
        at = where(self)
        problem = engine_version_problem(args.engine_version, args.min_capacity)
        if problem:
            raise ValueError(f'Database engine_version "{args.engine_version}": {problem}')
        self.connections = Connections.with_new_group(
            own(), vpc_id=args.vpc_id, owner=self, default_port=POSTGRES,
            description="Database: PostgreSQL only from the groups allowed to use it")
        subnets = aws.rds.SubnetGroup(own(), name=names.name(own()), subnet_ids=list(args.subnet_ids),
                                      description=f"{names.name(own())}: isolated subnets only",
                                      opts=pulumi.ResourceOptions(parent=self))
        self.identifier = names.name(own())
        # RDS takes it as the cluster is deleted; it outlives the stack until someone deletes it.
        self.final_snapshot = names.name(own("final"))
        self.cluster = aws.rds.Cluster(
            own(),
            cluster_identifier=self.identifier,
            engine="aurora-postgresql",
            engine_mode="provisioned",
            engine_version=args.engine_version,
            database_name=args.database_name,
            master_username=args.master_username,
            manage_master_user_password=True,  # generated and kept by RDS in Secrets Manager, never in state
            iam_database_authentication_enabled=True,
            storage_encrypted=True,
            deletion_protection=args.protect,
            skip_final_snapshot=False,
            final_snapshot_identifier=self.final_snapshot,
            backup_retention_period=args.backup_retention_days,
            copy_tags_to_snapshot=True,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[self.connections.group.id],
            port=POSTGRES.from_port,
            serverlessv2_scaling_configuration=aws.rds.ClusterServerlessv2ScalingConfigurationArgs(
                min_capacity=args.min_capacity, max_capacity=args.max_capacity,
                seconds_until_auto_pause=args.seconds_until_auto_pause if args.min_capacity == 0 else None),
            # AWS applies minor upgrades in the maintenance window; the program must not try to undo them.
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, ignore_changes=["engineVersion"]),
        )
        self.instance = aws.rds.ClusterInstance(
            own(),
            identifier=names.name(own("1")),
            cluster_identifier=self.cluster.id,
            instance_class="db.serverless",
            engine=aws.rds.EngineType.AURORA_POSTGRESQL,
            publicly_accessible=False,
            db_subnet_group_name=subnets.name,
            auto_minor_version_upgrade=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.username = args.master_username
        self.database_name = args.database_name
        self.secret_arn = self.cluster.master_user_secrets.apply(lambda s: s[0].secret_arn if s else "")
        # What `rds-db:connect` is granted on for IAM authentication (Service Authorization Reference, RDS IAM
        # authentication: arn:...:rds-db:<region>:<account>:dbuser:<cluster resource id>/<user>).
        self.connect_arn = self.cluster.cluster_resource_id.apply(
            lambda rid: f"arn:{PARTITION}:rds-db:{at.region}:{at.account}:dbuser:{rid}/*")
        self.register_outputs({"endpoint": self.cluster.endpoint, "port": POSTGRES.from_port,
                               "secretArn": self.secret_arn, "username": self.username,
                               "finalSnapshot": self.final_snapshot})


def engine_version_problem(version: str, min_capacity: float) -> str | None:
    """Why Aurora PostgreSQL `version` cannot run as asked, or None."""
    major, _, minor = version.partition(".")
    if not (major.isdigit() and minor.isdigit()):
        return 'expected an Aurora PostgreSQL version "<major>.<minor>", such as "16.6"'
    if min_capacity == 0 and int(major) < 17 and int(minor) < PAUSABLE_FROM.get(int(major), 10**6):
        oldest = ", ".join(f"{m}.{n}" for m, n in sorted(PAUSABLE_FROM.items()))
        return f"a version that pauses at 0 ACUs: {oldest} or later of each major, or 17 and later"
    return None
