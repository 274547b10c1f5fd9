"""The names the pack reads from another stack's outputs (a network stack, through a StackReference).

The pack installs without the airgap package, so it keeps this pinned copy of program/contract.py's names;
tests/test_contract.py fails when the two differ.
"""

from __future__ import annotations


class NetworkOut:
    """A network stack's outputs, as program/contract.py's `Out` spells them."""

    REGION = "region"
    STATE = "state"
    VPC_ID = "vpcId"
    ENDPOINT_GROUP_ID = "endpointGroupId"
    S3_PREFIX_LIST_ID = "s3PrefixListId"
    ENDPOINT_SERVICES = "endpointServices"


# program/contract.py's StackState.ASLEEP: a network stack asleep has only its S3 gateway.
ASLEEP = "asleep"
