"""What every part of the stack shares: how long logs are kept, and whether the stack is a production one."""

from __future__ import annotations

from dataclasses import dataclass

from airgap.catalog import LOG_RETENTION_DAYS
from program.keys import Key, Problems, Values
from program.sections import Context

NAME, ORDER = "common", 5
KEYS = (
    Key("logRetentionDays", "integer", 30,
        "Retention of every log group the stack creates, in days (a value CloudWatch Logs accepts)."),
    Key("production", "boolean", False, "Production stack - protects the file share and the database from deletion."),
)


@dataclass(frozen=True)
class CommonSection:
    log_retention_days: int
    production: bool


def parse(v: Values, ctx: Context, p: Problems) -> CommonSection:
    if v.ok("logRetentionDays") and v["logRetentionDays"] not in LOG_RETENTION_DAYS:
        p.bad("airgap:logRetentionDays", v["logRetentionDays"], "a retention CloudWatch Logs accepts: "
              f"{', '.join(map(str, LOG_RETENTION_DAYS))}")
    return CommonSection(v.get("logRetentionDays", 30), v["production"] is True)
