"""The airgap-guard policy pack: `pulumi preview --policy-pack policy`. The policies live in guard/."""

from pulumi_policy import EnforcementLevel, PolicyPack

from guard import PACK_NAME, POLICIES
from guard.runtime import tune

tune()
PolicyPack(name=PACK_NAME, policies=POLICIES, enforcement_level=EnforcementLevel.MANDATORY)
