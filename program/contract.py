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

    # The stack.
    STATE = "state"
    REGION = "region"
    ROLE = "role"

    # A network: what a workload stack and the pack read from it.
    VPC_ID = "vpcId"
    VPC_CIDR = "vpcCidr"
    SUBNET_IDS = "subnetIds"
    SUBNET_IDS_BY_ZONE = "subnetIdsByZone"
    ENDPOINT_GROUP_ID = "endpointGroupId"
    S3_PREFIX_LIST_ID = "s3PrefixListId"
    ENDPOINT_SERVICES = "endpointServices"
    FLOW_LOG_BUCKET = "flowLogBucket"
    S3_BUCKETS_REACHABLE = "s3BucketsReachable"
    ENDPOINT_DNS_NAMES = "endpointDnsNames"

    # A workload stack.
    NETWORK_STACK = "networkStack"

    # The SSM host.
    SSM_HOST_INSTANCE_ID = "ssmHostInstanceId"
    SSM_HOST_PRIVATE_IP = "ssmHostPrivateIp"
    SSM_HOST_SESSION = "ssmHostSession"
    SSM_HOST_BOOT_LOG = "ssmHostBootLog"

    # The bastion.
    BASTION_MODE = "bastionMode"
    BASTION_CLUSTER = "bastionCluster"
    BASTION_SERVICE = "bastionService"
    BASTION_TARGETS = "bastionTargets"
    BASTION_FORWARD_PORTS = "bastionForwardPorts"
    BASTION_COMMANDS = "bastionCommands"
    BASTION_IMAGE = "bastionImage"
    BASTION_IMAGE_PLATFORM = "bastionImagePlatform"
    BASTION_IMAGE_SOURCE = "bastionImageSource"
    BASTION_IMAGE_FILL = "bastionImageFill"
    BASTION_FORWARD_TO_SSM_HOST = "bastionForwardToSsmHost"
    ECS_SERVICE_LINKED_ROLE = "ecsServiceLinkedRole"

    # The file share.
    FILE_SHARE_ID = "fileShareId"
    FILE_SHARE_ARN = "fileShareArn"

    # The database.
    DATABASE_ENDPOINT = "databaseEndpoint"
    DATABASE_PORT = "databasePort"
    DATABASE_NAME = "databaseName"
    DATABASE_USER = "databaseUser"
    DATABASE_SECRET_ARN = "databaseSecretArn"
    DATABASE_IDENTIFIER = "databaseIdentifier"
    DATABASE_FINAL_SNAPSHOT = "databaseFinalSnapshot"

    # Sessions and operators.
    SESSION_DOCUMENT = "sessionDocument"
    SESSION_LOG_GROUP = "sessionLogGroup"
    OPERATOR_POLICY_ARN = "operatorPolicyArn"
    OPERATOR_ROLE_ARN = "operatorRoleArn"
