"""Where a component builds: the region and account of its own provider, not of the program's configuration.

A component given `opts=ResourceOptions(provider=aws.Provider(..., region="eu-west-1"))` builds eu-west-1's
endpoint service names, log ARNs and image URIs. The invokes carry `parent=component`, so the SDK sends them to the
provider the component resolves for `aws` (its own, or its parent's, or the default provider) — the same one its
children are created with.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

# The components write ARNs for the standard AWS partition only (the program accepts only its regions).
PARTITION = "aws"


@dataclass(frozen=True)
class Where:
    region: str
    account: str
    partition: str = PARTITION


def where(component: pulumi.Resource) -> Where:
    """The region and account of `component`'s AWS provider (two invokes: GetRegion, GetCallerIdentity)."""
    opts = pulumi.InvokeOptions(parent=component)
    region = aws.get_region(opts=opts).region
    account = aws.get_caller_identity(opts=opts).account_id
    return Where(region=region, account=account)
