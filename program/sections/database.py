"""The database: a private PostgreSQL (Aurora Serverless v2, paused when nobody is connected), reached through the
bastion."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pulumi

from airgap.database import DEFAULT_ENGINE_VERSION, PORT, Database, DatabaseArgs, engine_version_problem
from airgap.workload import Needs
from program.contract import Out
from program.keys import Key, Problems, Values
from program.sections import Built, Context

NAME, ORDER = "database", 50
KEYS = (
    Key("database", "boolean", False, "Run a private PostgreSQL (Aurora Serverless v2, paused at 0 capacity when "
        "nobody is connected), reached through the bastion: python3 dev.py bastion forward --to database."),
    Key("databaseEngineVersion", "string", DEFAULT_ENGINE_VERSION, "Aurora PostgreSQL version; pausing at 0 "
        "capacity needs 13.15, 14.12, 15.7, 16.3 or later of each major."),
    Key("databaseMaxCapacity", "integer", 2,
        "Most Aurora capacity units (ACU, about 2 GiB of memory each) the database scales up to (1 to 256)."),
    Key("databaseAutoPauseSeconds", "integer", 300,
        "Seconds without a connection before the database pauses and bills only its storage (300 to 86400)."),
    Key("databaseName", "string", "app", "The database created in it (a PostgreSQL name: lowercase letters, digits "
        "and _, starting with a letter)."),
    Key("databaseUser", "string", "airgap_admin", "Its master user; the password is generated and kept by RDS in "
        "Secrets Manager, never in config or state."),
)
# PostgreSQL identifiers without quoting, as RDS accepts them; RDS reserves a few admin names.
_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,62}")
_RESERVED_USERS = ("postgres", "rdsadmin", "rdsrepladmin", "admin", "root")


@dataclass(frozen=True)
class DatabaseSection:
    enabled: bool
    engine_version: str
    max_capacity: int
    auto_pause_seconds: int
    database_name: str
    user: str
    switch = ("airgap:database = false", "")  # no fix on its own: it is reached through the bastion
    workload = True

    def needs(self) -> Needs:
        return Database.needs()

    def build(self, settings: Any, built: Built) -> Database | None:
        if not self.enabled:
            return None
        return Database("database", DatabaseArgs(
            vpc_id=built.network.vpc_id, subnet_ids=list(built.network.subnet_ids_by_zone.values()),
            names=settings.names, engine_version=self.engine_version, database_name=self.database_name,
            master_username=self.user, max_capacity=self.max_capacity,
            seconds_until_auto_pause=self.auto_pause_seconds, protect=settings.production, asleep=settings.asleep))

    def export(self, settings: Any, built: Built) -> None:
        database = built.components.get(NAME)
        if database is None:
            return
        pulumi.export(Out.DATABASE_ENDPOINT, database.cluster.endpoint)
        pulumi.export(Out.DATABASE_PORT, PORT)
        pulumi.export(Out.DATABASE_NAME, self.database_name)
        pulumi.export(Out.DATABASE_USER, self.user)
        pulumi.export(Out.DATABASE_SECRET_ARN, database.secret_arn)
        pulumi.export(Out.DATABASE_IDENTIFIER, database.identifier)
        pulumi.export(Out.DATABASE_FINAL_SNAPSHOT, database.final_snapshot)


def parse(v: Values, ctx: Context, p: Problems) -> DatabaseSection:
    version = v.get("databaseEngineVersion", DEFAULT_ENGINE_VERSION)
    problem = engine_version_problem(version, 0)
    if problem:
        p.bad("airgap:databaseEngineVersion", version, problem.removeprefix("expected "))
    if v.ok("databaseMaxCapacity") and not 1 <= v["databaseMaxCapacity"] <= 256:
        p.bad("airgap:databaseMaxCapacity", v["databaseMaxCapacity"], "from 1 to 256 Aurora capacity units")
    if v.ok("databaseAutoPauseSeconds") and not 300 <= v["databaseAutoPauseSeconds"] <= 86400:
        p.bad("airgap:databaseAutoPauseSeconds", v["databaseAutoPauseSeconds"], "from 300 (five minutes) to 86400 "
              "(a day) seconds, the range Aurora accepts")
    for key, what in (("databaseName", "a database name"), ("databaseUser", "a user name")):
        value = v.get(key, "")
        if not _IDENTIFIER.fullmatch(value):
            p.bad(f"airgap:{key}", value, f"{what} of 1 to 63 lowercase letters, digits and _, starting with a letter")
        elif key == "databaseUser" and value in _RESERVED_USERS:
            p.bad(f"airgap:{key}", value, f"a name other than {', '.join(_RESERVED_USERS)} (reserved by RDS or "
                  "PostgreSQL, and a custom administrator name is Security Hub RDS.24)")
    return DatabaseSection(v["database"] is True, version, v.get("databaseMaxCapacity", 2),
                           v.get("databaseAutoPauseSeconds", 300), v.get("databaseName", "app"),
                           v.get("databaseUser", "airgap_admin"))
