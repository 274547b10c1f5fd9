"""airgap-guard: the CrossGuard policies, grouped by concern. `POLICIES` is what the pack enforces."""

from guard import compute, endpoints, exec_targets, iam, network, stack, storage

POLICIES = [*network.POLICIES, *endpoints.POLICIES, *compute.POLICIES, *exec_targets.POLICIES, *storage.POLICIES,
            *iam.POLICIES, *stack.POLICIES]
PACK_NAME = "airgap-guard"
