"""airgap-guard: the CrossGuard policies, one module per concern. `POLICIES` is what the pack enforces.

A new module (say, databases or Session Manager documents) defines `POLICIES` with `kit.resource_policy` /
`kit.stack_policy` and is added to `MODULES` below; its resource type tokens go in types.py, its README row comes from
its `reads`/`applies`/`controls` (offline/policy_table.py), and a test checks every module here is listed.
"""

from typing import Any

from guard import (
    autoscaling,
    compute,
    containers,
    database,
    database_reach,
    default_group,
    endpoints,
    exec_targets,
    exposure,
    file_share,
    iam,
    keys,
    network,
    sessions,
    storage,
    structure,
    volumes,
    workload_endpoints,
)
from guard.kit import ABOUT
from guard.posture import KEY as PRIVATE_ONLY_KEY
from guard.settings import PACK_NAME, SETTINGS, Settings, initial_config, pack_version

MODULES = (network, default_group, endpoints, compute, volumes, autoscaling, containers, exec_targets, exposure,
           database, storage, iam, keys, workload_endpoints, file_share, structure, database_reach, sessions)
POLICIES = [p for module in MODULES for p in module.POLICIES]
PACK_VERSION = pack_version()

__all__ = ["ABOUT", "MODULES", "PACK_NAME", "PACK_VERSION", "POLICIES", "POSTURE_POLICIES", "SETTINGS",
           "pack_initial_config"]


# The policies whose judgement or wording follows the private-only posture (their `privateOnly` setting).
POSTURE_POLICIES = frozenset(p.name for p in POLICIES
                             if p.config_schema and PRIVATE_ONLY_KEY in p.config_schema.properties)


def pack_initial_config(settings: Settings = SETTINGS) -> dict[str, Any]:
    """The initial config the pack is served with (policy/__main__.py): `settings` over each policy's own level."""
    return initial_config(settings, {p.name: p.name in POSTURE_POLICIES for p in POLICIES})

