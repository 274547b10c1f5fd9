"""The airgap-guard policy pack: `pulumi preview --policy-pack policy`. The policies live in guard/, the pack's
settings (every level at once, per-policy overrides, the private-only posture) in guard/settings.py."""

from pulumi_policy import EnforcementLevel, PolicyPack

from guard import PACK_NAME, POLICIES, pack_initial_config
from guard.runtime import tune

tune()
PolicyPack(name=PACK_NAME, policies=POLICIES, enforcement_level=EnforcementLevel.MANDATORY,
           initial_config=pack_initial_config())
