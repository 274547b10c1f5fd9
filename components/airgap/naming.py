"""Physical names: every name the stack gives an AWS resource carries the project and the stack.

Names that AWS scopes to the account and region (ECR repositories, KMS aliases, ECS clusters and task families,
CloudWatch log groups) collide when two stacks use the same one — and ECS's CreateCluster even returns the existing
cluster of that name, so one stack's destroy would delete another's. So each starts with a prefix built from the
project and the stack, e.g. `airgap-dev`.

The prefix must be valid in the strictest of those names. ECR repository names are the strictest: lowercase, and
separators only between letters and digits ("Amazon ECR private repositories" → "Creating a private repository";
API reference CreateRepository, `repositoryName` pattern). Task families and cluster names forbid '.' and '/', KMS
alias names forbid '.'. A project or stack name outside `NAME_PATTERN` is a config error rather than silently
rewritten, because rewriting `Dev` and `dev` to the same prefix would bring the collision back.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import pulumi

# Lowercase letters and digits, words joined by single '-' or '_': valid in every name listed above.
NAME_PATTERN = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
NAME_RULE = "lowercase letters and digits, words joined by single '-' or '_' (e.g. \"dev\", \"team-a\")"
# Long prefixes are shortened and made unique with a hash: every name built on it stays far inside AWS's limits
# (the tightest is a KMS alias or a cluster name, 256 and 255 characters).
MAX_PREFIX = 40

# Names inside the workloads that ops and the operator policy also use.
BASTION_CONTAINER = "bastion"
BOOT_STATUS = "/var/lib/airgap/first-boot"  # the host's first boot writes "ok" or "failed: <step>" here
SHARE_MOUNT_POINT = "/mnt/share"


def name_problem(what: str, value: str) -> str | None:
    """Why `value` cannot be part of AWS names, or None."""
    if NAME_PATTERN.fullmatch(value):
        return None
    return (f'{what} "{value}": expected {NAME_RULE}; it becomes part of ECR repository, KMS alias, ECS and '
            "CloudWatch Logs names, which AWS restricts to these characters")


@dataclass(frozen=True)
class PhysicalNames:
    project: str
    stack: str

    @classmethod
    def of_this_stack(cls) -> PhysicalNames:
        """From the running program's project and stack (the default of every component that names things)."""
        names = cls(pulumi.get_project(), pulumi.get_stack())
        for what, value in (("Pulumi project", names.project), ("Pulumi stack", names.stack)):
            problem = name_problem(what, value)
            if problem:
                raise ValueError(f"{problem}; or pass names=PhysicalNames(<project>, <stack>) explicitly")
        return names

    @property
    def prefix(self) -> str:
        """`<project>-<stack>`, or a shortened form with a hash of both when that would be ambiguous or long.

        Ambiguous: with a '-' in the project name, `a-b` + `c` and `a` + `b-c` would both give `a-b-c`."""
        plain = f"{self.project}-{self.stack}"
        if "-" not in self.project and len(plain) <= MAX_PREFIX:
            return plain
        digest = hashlib.sha256(f"{self.project}/{self.stack}".encode()).hexdigest()[:8]
        head = plain[: MAX_PREFIX - len(digest) - 1].rstrip("-_")
        return f"{head}-{digest}"

    def name(self, part: str) -> str:
        """A flat name: `airgap-dev-bastion` (ECS cluster, task family, KMS alias)."""
        return f"{self.prefix}-{part}"

    def path(self, part: str) -> str:
        """A hierarchical name: `airgap-dev/bastion` (ECR repository)."""
        return f"{self.prefix}/{part}"

    def log_group(self, part: str) -> str:
        """`/airgap-dev/bastion`: every log group of the stack under one path."""
        return f"/{self.prefix}/{part}"


def qualified_stack(stack: str) -> str:
    """`net` -> `<organization>/<project>/net`, the form every backend reads another stack's outputs by: Pulumi Cloud
    accepts no other (pulumi/pulumi, pkg/backend/httpstate: "a stack reference's name should be of the form
    '<organization>/<project>/<stack>'"), and a self-managed backend's organization is "organization"."""
    parts = stack.split("/")
    if len(parts) == 3:
        return stack
    project = parts[0] if len(parts) == 2 else pulumi.get_project()
    return f"{pulumi.get_organization()}/{project}/{parts[-1]}"


# The tag a stack puts on what operators may start sessions on (the operator policy allows the tagged hosts).
STACK_TAG = "airgap-stack"


# A component's name: it starts every child's logical name and every physical name, and names its security group's
# connections (connections.py), so it takes the same form.
COMPONENT_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")


def check_component_name(kind: str, name: str) -> str:
    if not COMPONENT_NAME.fullmatch(name):
        raise ValueError(f'{kind} name "{name}": expected lowercase words joined by single \'-\' (e.g. "network", '
                         '"blue-ssm-host"); it begins the logical and physical names of everything the component makes')
    return name


@dataclass(frozen=True)
class ChildNames:
    """How a component names its children: its main resource `<name>`, the others `<name>-<part>`, so any number of
    components of one kind live in one stack without a duplicate URN.

    In airgap 0.1 children had fixed names, right only for the single instance the program made under the name it
    gave it (`first_name`). A component built under that name gives each renamed child an alias to its 0.1 name
    (`opts(was=...)`), so a stack deployed with 0.1 sees the rename, not a replacement. Under any other name there is
    no alias: two instances must not claim one old resource."""

    component: str
    first_name: str

    def __call__(self, part: str = "") -> str:
        return f"{self.component}-{part}" if part else self.component

    @property
    def legacy(self) -> bool:
        return self.component == self.first_name

    def was(self, old: str) -> str | None:
        """`old` for a component under its 0.1 name, else None (no alias)."""
        return old if self.legacy else None

    def opts(self, parent: pulumi.Resource, *, was: str | None = None, **options: object) -> pulumi.ResourceOptions:
        """ResourceOptions for a child: parented to the component, aliased to `was` (its 0.1 name) when legacy."""
        aliases = [pulumi.Alias(name=was)] if was is not None and self.legacy else None
        return pulumi.ResourceOptions(parent=parent, aliases=aliases, **options)  # type: ignore[arg-type]
