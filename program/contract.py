"""What crosses layers: the stack's state and the output names the program writes and ops, offline and tests read.

No imports beyond the standard library, so every layer can use it.
"""

from __future__ import annotations

from enum import StrEnum


class StackState(StrEnum):
    """Whether a stack is awake. It lives with the deployed stack (its `state` output, in the backend), so every
    clone, CI job and the nightly workflow read the same answer; only an explicit move changes it."""

    AWAKE = "awake"
    ASLEEP = "asleep"
    # Woken by a session: the last session to end (or the nightly sleep) puts it back to sleep.
    ON_DEMAND = "awake-on-demand"

    @property
    def asleep(self) -> bool:
        return self is StackState.ASLEEP

    @property
    def words(self) -> str:
        return "awake for sessions" if self is StackState.ON_DEMAND else self.value

    @classmethod
    def forms(cls) -> str:
        return ", ".join(f'"{s.value}"' for s in cls)


# A move, for one `pulumi up` only: the ops commands set it in the CLI's environment. A plain `pulumi up` or
# `preview` leaves it unset and keeps the state the stack was deployed in.
MOVE_VARIABLE = "AIRGAP_MOVE_TO"


class Out:
    """Stack output names."""

    STATE = "state"
    REGION = "region"
    ROLE = "role"
    VPC_ID = "vpcId"
    NETWORK_STACK = "networkStack"
    ENDPOINT_SERVICES = "endpointServices"
    SSM_HOST_INSTANCE_ID = "ssmHostInstanceId"
    BASTION_MODE = "bastionMode"
    BASTION_CLUSTER = "bastionCluster"
    BASTION_SERVICE = "bastionService"
    BASTION_TARGETS = "bastionTargets"
    ECS_SERVICE_LINKED_ROLE = "ecsServiceLinkedRole"
    SESSION_DOCUMENT = "sessionDocument"
    SESSION_LOG_GROUP = "sessionLogGroup"
    OPERATOR_POLICY_ARN = "operatorPolicyArn"
    OPERATOR_ROLE_ARN = "operatorRoleArn"
