"""airgap-guard: the CrossGuard policies, grouped by concern. `POLICIES` is what the pack enforces."""

from guard import (
    compute,
    endpoints,
    exec_targets,
    exposure,
    file_share,
    iam,
    network,
    storage,
    structure,
    workload_endpoints,
)

POLICIES = [*network.POLICIES, *endpoints.POLICIES, *compute.POLICIES, *exec_targets.POLICIES, *exposure.POLICIES,
            *storage.POLICIES, *iam.POLICIES, *workload_endpoints.POLICIES, *file_share.POLICIES,
            *structure.POLICIES]
PACK_NAME = "airgap-guard"

# Policies that presume a private-only environment (no way in from the internet, AWS reached through endpoints,
# operators through Session Manager). The rest hold for any AWS stack: a team can enable them on ordinary stacks.
PRIVATE_ONLY = frozenset({
    "no-internet-gateway", "no-default-route", "subnet-no-public-ip", "vpc-dns-enabled",
    "interface-endpoint-private-dns", "s3-gateway-endpoint", "ec2-no-public-ip", "ec2-no-key-pair",
    "ecs-no-public-ip", "ecs-exec-expected", "lb-internal", "nacl-no-open-ingress", "no-open-egress",
    "required-endpoints", "endpoint-reachability", "endpoint-group-ingress-by-reference", "ec2-ssm-managed",
    "efs-mount-targets-isolated", "endpoint-budget",
})
