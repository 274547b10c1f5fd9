"""Data the components are built from: which AWS service endpoints exist and why, what the workloads may run on.

Tables, not code: adding an endpoint service or an instance type is one row here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

EndpointKind = Literal["Interface", "Gateway"]


@dataclass(frozen=True)
class EndpointService:
    """One AWS service reachable from the private subnets through a VPC endpoint."""

    name: str  # the service suffix in com.amazonaws.<region>.<name>
    kind: EndpointKind
    why: str
    # Whether AWS documents that its endpoint accepts a policy. The program asks AWS itself (DescribeVpcEndpoint-
    # Services); this is what the offline model answers for it.
    documented_policy: bool = True

    def service_name(self, region: str) -> str:
        return f"com.amazonaws.{region}.{self.name}"

    @property
    def slug(self) -> str:
        """The endpoint's logical-name part: 'ecr.api' -> 'ecr-api'."""
        return self.name.replace(".", "-")


ENDPOINT_SERVICES: dict[str, EndpointService] = {
    s.name: s
    for s in (
        EndpointService("ssm", "Interface", "SSM Agent registers the host and fetches its instructions"),
        EndpointService("ssmmessages", "Interface", "Session Manager channels (start-session, ECS Exec)"),
        EndpointService(
            "ec2messages",
            "Interface",
            "only for SSM Agent older than 3.3.40.0, which needs it for Run Command; newer agents "
            "use ssmmessages, so leaving it out saves one endpoint",
        ),
        EndpointService("ecr.api", "Interface", "ECR authentication and image manifests for the bastion"),
        EndpointService("ecr.dkr", "Interface", "Docker registry protocol for the bastion's image pull"),
        EndpointService("logs", "Interface", "awslogs driver and ECS Exec session logs to CloudWatch Logs"),
        EndpointService("kms", "Interface", "decrypting a KMS-encrypted ECS Exec channel"),
        EndpointService("sts", "Interface", "assuming roles from inside the VPC (optional)"),
        EndpointService("secretsmanager", "Interface", "reading secrets from inside the VPC (optional)"),
        EndpointService(
            "s3",
            "Gateway",
            "ECR image layers and the Amazon Linux package repositories live in S3; the gateway is free",
        ),
    )
}

@dataclass(frozen=True)
class InstanceType:
    name: str
    architecture: Literal["arm64", "x86_64"]
    vcpu: int
    memory_gib: float


INSTANCE_TYPES: dict[str, InstanceType] = {
    t.name: t
    for t in (
        InstanceType("t4g.nano", "arm64", 2, 0.5),
        InstanceType("t4g.micro", "arm64", 2, 1),
        InstanceType("t4g.small", "arm64", 2, 2),
        InstanceType("t3.nano", "x86_64", 2, 0.5),
        InstanceType("t3.micro", "x86_64", 2, 1),
        InstanceType("t3.small", "x86_64", 2, 2),
    )
}


def al2023_ami_parameter(architecture: str) -> str:
    """The public SSM parameter AWS keeps pointed at the latest Amazon Linux 2023 AMI."""
    return f"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{architecture}"


# Fargate's allowed task sizes: cpu units -> memory MiB choices (Linux, from the ECS task-size table).
FARGATE_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
    8192: tuple(range(16384, 61441, 4096)),  # 8 and 16 vCPU: Fargate platform 1.4.0 and later
    16384: tuple(range(32768, 122881, 8192)),
}

# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS: tuple[int, ...] = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)
