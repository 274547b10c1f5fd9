"""airgap: Pulumi components for a private-only AWS VPC — no internet gateway, no NAT — reached only through AWS
Systems Manager.

    network = PrivateNetwork("network", PrivateNetworkArgs(cidr=..., subnets={...}))
    endpoints = VpcEndpoints("endpoints", VpcEndpointsArgs(vpc_id=network.vpc_id, ...))
    host = SsmHost("ssm-host", SsmHostArgs(vpc_id=network.vpc_id, subnet_id=..., endpoints=endpoints))

Every component takes ids (`pulumi.Input[str]`) for what it attaches to, so it works as well on a VPC made
elsewhere; builds in the region and account of its own provider; and names every child and every physical name
after itself, so a stack may hold any number of each. See the package README for the whole API.
"""

from airgap.bastion import FargateBastion, FargateBastionArgs
from airgap.connections import Connectable, Connections, Port, PrefixListPeer
from airgap.database import Database, DatabaseArgs
from airgap.endpoints import EndpointAccess, EndpointGroup, VpcEndpoints, VpcEndpointsArgs
from airgap.file_share import FileShare, FileShareArgs
from airgap.flow_logs import VpcFlowLogs, VpcFlowLogsArgs
from airgap.naming import PhysicalNames
from airgap.network import ExistingNetwork, Network, PrivateNetwork, PrivateNetworkArgs
from airgap.operator_access import OperatorAccess, OperatorAccessArgs
from airgap.session_preferences import SessionPreferences, SessionPreferencesArgs
from airgap.shared_network import SharedNetwork, SharedNetworkArgs
from airgap.ssm_host import SsmHost, SsmHostArgs
from airgap.workload import ForwardTarget, Needs, Workload

__version__ = "0.4.0"

__all__ = [
    "Connectable",
    "Connections",
    "Database",
    "DatabaseArgs",
    "EndpointAccess",
    "EndpointGroup",
    "ExistingNetwork",
    "FargateBastion",
    "FargateBastionArgs",
    "FileShare",
    "FileShareArgs",
    "ForwardTarget",
    "Needs",
    "Network",
    "OperatorAccess",
    "OperatorAccessArgs",
    "PhysicalNames",
    "Port",
    "PrefixListPeer",
    "PrivateNetwork",
    "PrivateNetworkArgs",
    "SessionPreferences",
    "SessionPreferencesArgs",
    "SharedNetwork",
    "SharedNetworkArgs",
    "SsmHost",
    "SsmHostArgs",
    "VpcEndpoints",
    "VpcEndpointsArgs",
    "VpcFlowLogs",
    "VpcFlowLogsArgs",
    "Workload",
    "__version__",
]
