"""Session Manager's preferences for the stack's shells: encrypted with the stack's key, streamed to its log group,
timed out when idle, run as a non-root user."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pulumi

from airgap.session_preferences import SESSION_USER, SessionPreferences, SessionPreferencesArgs
from airgap.workload import Needs
from program.contract import Out
from program.keys import Key, Problems, Values
from program.sections import Built, Context

NAME, ORDER = "sessions", 45
KEYS = (
    Key("sessionIdleTimeoutMinutes", "integer", 20,
        "Minutes without input before Session Manager ends a shell session (1 to 60)."),
    Key("sessionMaxDurationMinutes", "integer", 60, "Longest a shell session lasts, in minutes (1 to 1440)."),
    Key("sessionUser", "string", SESSION_USER,
        "The non-root user shell sessions run as on the SSM host (created at its first boot)."),
)
_LINUX_USER = re.compile(r"[a-z_][a-z0-9_-]{0,31}")


@dataclass(frozen=True)
class SessionsSection:
    enabled: bool  # only the SSM host takes shell sessions
    idle_minutes: int
    max_minutes: int
    user: str
    workload = False

    def needs(self) -> Needs:
        return SessionPreferences.needs() if self.enabled else Needs()

    def build(self, settings: Any, built: Built) -> SessionPreferences | None:
        host = built.components.get("ssm-host")
        if not self.enabled or host is None:
            return None
        preferences = SessionPreferences("sessions", SessionPreferencesArgs(
            names=settings.names, idle_timeout_minutes=self.idle_minutes, max_duration_minutes=self.max_minutes,
            run_as_user=self.user, log_retention_days=settings.log_retention_days))
        preferences.grant_to_host(host.role)
        return preferences

    def export(self, settings: Any, built: Built) -> None:
        preferences = built.components.get(NAME)
        if preferences is not None:
            pulumi.export(Out.SESSION_DOCUMENT, preferences.document_name)
            pulumi.export(Out.SESSION_LOG_GROUP, preferences.log_group_name)


def parse(v: Values, ctx: Context, p: Problems) -> SessionsSection:
    if v.ok("sessionIdleTimeoutMinutes") and not 1 <= v["sessionIdleTimeoutMinutes"] <= 60:
        p.bad("airgap:sessionIdleTimeoutMinutes", v["sessionIdleTimeoutMinutes"], "minutes from 1 to 60 (Session "
              "Manager's range)")
    if v.ok("sessionMaxDurationMinutes") and not 1 <= v["sessionMaxDurationMinutes"] <= 1440:
        p.bad("airgap:sessionMaxDurationMinutes", v["sessionMaxDurationMinutes"], "minutes from 1 to 1440 (a day: "
              "Session Manager's range)")
    user = v.get("sessionUser", v.default("sessionUser"))
    if not _LINUX_USER.fullmatch(user) or user == "root":
        p.bad("airgap:sessionUser", user, "a Linux user name other than root: lowercase letters, digits, _ and -, "
              "up to 32, starting with a letter or _")
    return SessionsSection(ctx.sections["ssm-host"].enabled,
                           v.get("sessionIdleTimeoutMinutes", v.default("sessionIdleTimeoutMinutes")),
                           v.get("sessionMaxDurationMinutes", v.default("sessionMaxDurationMinutes")), user)
