"""RDS instances and clusters: no public endpoint (AWS FSBP RDS.2), storage encrypted (RDS.3, RDS.27), deletion
protection (RDS.7, RDS.8), automated backups kept at least a week (RDS.11), IAM database authentication (RDS.10,
RDS.12). A property left unset means what RDS does with it.

Aurora Serverless v1 clusters (`engine_mode` "serverless") are always encrypted (Amazon Aurora User Guide, "Using
Amazon Aurora Serverless v1": you can't create an unencrypted one), so `storage_encrypted` unset is not a finding there.
More database policies (engines, parameter groups, proxies) belong in this module.
"""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import PolicyConfigSchema, ResourceValidationArgs, Severity

from guard.kit import ADVISORY, config, resource_policy, where
from guard.types import RDS_CLUSTER, RDS_CLUSTER_INSTANCE, RDS_INSTANCE
from guard.values import UNKNOWN, fix, get, number, remedy

# Engines RDS.8 judges (its databaseEngines parameter) and those with IAM database authentication (RDS.10).
DELETION_PROTECTED_ENGINES = ("mariadb", "mysql", "oracle-ee", "oracle-se2", "oracle-se1", "oracle-se", "postgres",
                              "sqlserver-ee", "sqlserver-se", "sqlserver-ex", "sqlserver-web")
IAM_AUTH_ENGINES = ("mysql", "postgres", "aurora", "aurora-mysql", "aurora-postgresql", "mariadb")


def db_not_public(args: ResourceValidationArgs) -> Iterator[str]:
    if get(args.props, "publiclyAccessible") is True:
        yield fix("the database has a public endpoint (publicly_accessible)", where(args),
                  "set publicly_accessible=False")


def db_encrypted(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type == RDS_CLUSTER and get(args.props, "engineMode") == "serverless":
        return  # Aurora Serverless v1: always encrypted
    # Unset: RDS creates an unencrypted instance or provisioned cluster.
    if get(args.props, "storageEncrypted") is not True:
        yield fix("its storage is not encrypted at rest (storage_encrypted unset or false), and it cannot be turned "
                  "on later without a copy", where(args), "set storage_encrypted=True")


def _engine(args: ResourceValidationArgs) -> object:
    return get(args.props, "engine")


def db_deletion_protection(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type == RDS_INSTANCE and _engine(args) not in (*DELETION_PROTECTED_ENGINES, UNKNOWN):
        return  # an Aurora member: the cluster's deletion protection is what counts
    if get(args.props, "deletionProtection") is not True:
        yield fix("deletion protection is off (deletion_protection unset or false), so one DeleteDB call — or a "
                  "`pulumi destroy` — removes the database", where(args),
                  remedy(args.urn, "set deletion_protection=True", "pulumi config set airgap:production true, "
                         "which also protects it in Pulumi; a dev stack left without it is destroyed by design"))


def db_backups(args: ResourceValidationArgs) -> Iterator[str]:
    if get(args.props, "replicateSourceDb"):
        return  # a read replica: backups are its source's
    minimum = int(config(args, "minimumRetentionDays", 7))
    days = get(args.props, "backupRetentionPeriod")
    if days is UNKNOWN:
        return
    # Unset: RDS keeps automated backups for 1 day (CreateDBInstance BackupRetentionPeriod's default).
    kept = 1 if days is None else days
    if kept < minimum:
        what = "automated backups are off (backup_retention_period 0)" if kept == 0 else \
            f"automated backups are kept {number(kept)} day{'s' if kept != 1 else ''}" + \
            (" (backup_retention_period unset: RDS's default)" if days is None else "")
        yield fix(f"{what}, less than {minimum}", where(args), f"set backup_retention_period={minimum} or more")


def db_iam_auth(args: ResourceValidationArgs) -> Iterator[str]:
    engine = _engine(args)
    if engine is UNKNOWN or str(engine) not in IAM_AUTH_ENGINES:
        return
    if get(args.props, "iamDatabaseAuthenticationEnabled") is not True:
        yield fix(f"IAM database authentication is off for this {engine} database, so every client holds a "
                  "long-lived database password", where(args), "set iam_database_authentication_enabled=True and "
                  "grant rds-db:connect to the roles that connect")


BACKUP_SCHEMA = PolicyConfigSchema(properties={"minimumRetentionDays": {
    "type": "integer", "default": 7, "description": "fewest days of automated backups (FSBP RDS.11's default)"}})

POLICIES = [
    resource_policy("rds-not-public", "RDS instances and cluster instances have no public endpoint.",
                    (RDS_INSTANCE, RDS_CLUSTER_INSTANCE), db_not_public, controls=("RDS.2",),
                    reads="rds.Instance/ClusterInstance publicly_accessible", severity=Severity.CRITICAL),
    resource_policy("rds-encrypted", "RDS instances and clusters encrypt their storage.", (RDS_INSTANCE, RDS_CLUSTER),
                    db_encrypted, controls=("RDS.3", "RDS.27"),
                    reads="rds.Instance/Cluster storage_encrypted; Cluster engine_mode"),
    # Advisory: a stack destroyed by design (dev, a test) must be able to delete its database; FSBP rates RDS.7 and
    # RDS.8 low. A production pack raises it to mandatory (README, "Enabling it on stacks it has never seen").
    resource_policy("rds-deletion-protection", "RDS instances and clusters have deletion protection (advisory).",
                    (RDS_INSTANCE, RDS_CLUSTER), db_deletion_protection, controls=("RDS.7", "RDS.8"),
                    reads="rds.Instance/Cluster deletion_protection; Instance engine", severity=Severity.LOW,
                    level=ADVISORY),
    resource_policy("rds-backups", "RDS instances keep automated backups at least a week.", (RDS_INSTANCE,),
                    db_backups, controls=("RDS.11",), schema=BACKUP_SCHEMA, severity=Severity.MEDIUM,
                    reads="rds.Instance backup_retention_period, replicate_source_db"),
    resource_policy("rds-iam-authentication", "RDS instances and clusters use IAM database authentication.",
                    (RDS_INSTANCE, RDS_CLUSTER), db_iam_auth, controls=("RDS.10", "RDS.12"), severity=Severity.MEDIUM,
                    reads="rds.Instance/Cluster iam_database_authentication_enabled, engine"),
]
