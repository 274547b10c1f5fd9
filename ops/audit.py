"""Who got in, and what they did: the stack's recent Session Manager sessions, read from Session Manager's own
history, each with where its log is.

`ssm:DescribeSessions` lists active sessions and "terminated sessions from the past 30 days" (Systems Manager API
Reference). A shell under the stack's document streams its transcript to the stack's session log group, in a stream
named after the session (the agent's CloudWatch writer uses the session id); a one-command session is never
streamed (written at the end only where the preferences that apply say CloudWatch without streaming); port forwarding
is never logged (Systems Manager User Guide, "Logging session data": "Logging isn't available for Session Manager
sessions that connect through port forwarding or SSH").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from airgap.operator_access import PORT_FORWARD_DOCUMENT
from ops.leases import Targets, who
from program.contract import Out

PORT_FORWARDING = ("AWS-StartPortForwardingSession", PORT_FORWARD_DOCUMENT)


@dataclass(frozen=True)
class PastSession:
    session_id: str
    owner: str
    target: str
    document: str
    status: str
    started: datetime | None
    ended: datetime | None


def history(ssm: Any, targets: Targets, vpc_of: Callable[[str], str | None] = lambda _: None) -> list[PastSession]:
    """The stack's sessions, active and ended, newest first."""
    found: list[PastSession] = []
    for state in ("Active", "History"):
        for page in ssm.get_paginator("describe_sessions").paginate(State=state):
            for s in page.get("Sessions", []):
                session = PastSession(s["SessionId"], s.get("Owner", ""), s.get("Target", ""),
                                      s.get("DocumentName", ""), s.get("Status", ""), s.get("StartDate"),
                                      s.get("EndDate"))
                if targets.covers(session.target, vpc_of):
                    found.append(session)
    return sorted(found, key=lambda s: s.started or datetime.min.replace(tzinfo=UTC), reverse=True)


def where_logged(session: PastSession, outputs: Mapping[str, Any], region: str) -> str:
    """Where a person reads what the session did."""
    if session.document in PORT_FORWARDING:
        return "not logged: port forwarding (Session Manager logs no tunnel)"
    group = outputs.get(Out.SESSION_LOG_GROUP)
    if session.document == outputs.get(Out.SESSION_DOCUMENT) and group:
        return (f"aws logs get-log-events --region {region} --log-group-name {group} --log-stream-name "
                f"{session.session_id}")
    if session.target.startswith("ecs:") and not session.document:
        return "ECS Exec: the cluster's exec log group (execute-command sessions)"
    document = session.document or "SSM-SessionManagerRunShell"
    return f"not in the stack's log group: {document} runs under the account's preferences, if any"


def table(sessions: list[PastSession], outputs: Mapping[str, Any], region: str) -> list[str]:
    if not sessions:
        return ["no sessions on this stack's targets in Session Manager's history (the last 30 days)"]

    def when(t: datetime | None) -> str:
        return f"{t:%Y-%m-%d %H:%M}" if t else "-"

    lines = []
    for s in sessions:
        lines.append(f"{when(s.started)} -> {when(s.ended) if s.ended else s.status.lower()}  {who(s.owner)}  "
                     f"{s.target}  {s.document or '(default shell)'}  {s.session_id}")
        lines.append(f"    log: {where_logged(s, outputs, region)}")
    return lines
