"""Who may work in the stack: the operator policy (and a role for the principals named), scoped to this stack's
targets, documents and data."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pulumi

from airgap.operator_access import OperatorAccess, OperatorAccessArgs
from airgap.workload import Needs
from program.contract import Out
from program.keys import Key, Problems, Values
from program.sections import Built, Context

NAME, ORDER = "operators", 70
KEYS = (
    Key("operatorPrincipals", "string-list", [], "Who may assume the stack's operator role (account roots, roles, "
        "Identity Center permission-set roles, as ARNs). Empty: only the operator policy, to attach yourself."),
)
_PRINCIPAL = re.compile(r"arn:aws:iam::\d{12}:(root|role/[\w+=,.@/-]+|user/[\w+=,.@/-]+)")


@dataclass(frozen=True)
class OperatorsSection:
    principals: tuple[str, ...]
    enabled = True
    workload = False

    def needs(self) -> Needs:
        return Needs()

    def build(self, settings: Any, built: Built) -> OperatorAccess | None:
        host, bastion = built.components.get("ssm-host"), built.components.get("bastion")
        database, sessions = built.components.get("database"), built.components.get("sessions")
        if host is None and bastion is None:
            return None  # a network stack: nothing to work in
        return OperatorAccess("operators", OperatorAccessArgs(
            names=settings.names, hosts=host is not None,
            bastion_cluster=bastion.cluster_name if bastion else None,
            bastion_service=bastion.service_name if bastion else None,
            bastion_repository=bastion.repository_name if bastion else None,
            shell_document=sessions.document_name if sessions else None,
            session_key_alias=sessions.key_alias if sessions else None,
            session_log_group=sessions.log_group_name if sessions else None,
            exec_key_alias=bastion.key_alias if bastion and settings.sections["bastion"].exec_kms else None,
            database_cluster=database.identifier if database else None,
            principals=self.principals))

    def export(self, settings: Any, built: Built) -> None:
        access = built.components.get(NAME)
        if access is not None:
            pulumi.export(Out.OPERATOR_POLICY_ARN, access.policy.arn)
            if access.role is not None:
                pulumi.export(Out.OPERATOR_ROLE_ARN, access.role.arn)


def parse(v: Values, ctx: Context, p: Problems) -> OperatorsSection:
    principals = v.get("operatorPrincipals", [])
    for i, principal in enumerate(principals):
        if not _PRINCIPAL.fullmatch(principal):
            p.bad(f"airgap:operatorPrincipals[{i}]", principal, 'an IAM principal ARN: "arn:aws:iam::<account>:root", '
                  '":role/<name>" (an Identity Center permission set\'s role too) or ":user/<name>"')
    return OperatorsSection(tuple(principals))
