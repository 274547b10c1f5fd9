"""Image references, as the stack's config and the image copy both read them. Plain Python: the program's
runtime has only pulumi and pulumi-aws."""

from __future__ import annotations

import re
from dataclasses import dataclass

# <registry>/<repository>[:tag][@sha256:digest]; the registry is required (no implicit Docker Hub), and at least one
# of tag and digest (no implicit "latest"). Repository components follow the distribution spec's name grammar.
_REFERENCE = re.compile(
    r"(?P<registry>[a-zA-Z0-9.-]+(?::\d+)?)/(?P<repository>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>\w[\w.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?"
)
FORM = ('<registry>/<repository>:<tag> or <registry>/<repository>@sha256:<digest>, e.g. '
        '"public.ecr.aws/amazonlinux/amazonlinux:2023"')


@dataclass(frozen=True)
class Reference:
    registry: str
    repository: str
    tag: str | None
    digest: str | None

    @classmethod
    def parse(cls, text: str) -> Reference:
        match = _REFERENCE.fullmatch(text)
        if not match or not (match["tag"] or match["digest"]):
            raise ValueError(f'image reference "{text}": expected {FORM}')
        return cls(match["registry"], match["repository"], match["tag"], match["digest"])

    @property
    def private_tag(self) -> str:
        """The tag a copy carries in the stack's repository: the source's tag, or one spelt from its digest."""
        return self.tag or (self.digest or "").replace(":", "-")

    def __str__(self) -> str:
        return (f"{self.registry}/{self.repository}" + (f":{self.tag}" if self.tag else "")
                + (f"@{self.digest}" if self.digest else ""))


# A private ECR image: <account>.dkr.ecr.<region>.amazonaws.com/<repository>[:tag|@sha256:digest]
_ECR_IMAGE = re.compile(r"(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z]{2}-[a-z]+-\d)\.amazonaws\.com/"
                        # ECR's repository name pattern (ECR API Reference, CreateRepository, repositoryName).
                        r"(?P<repository>(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*)"
                        r"(?::(?P<tag>[\w][\w.-]{0,127})|@(?P<digest>sha256:[0-9a-f]{64}))?")


@dataclass(frozen=True)
class EcrImage:
    """An image in a private ECR registry, as the stack's config, the bastion and the CLI all read it."""

    account: str
    region: str
    repository: str
    tag: str | None
    digest: str | None

    @classmethod
    def parse(cls, uri: str) -> EcrImage | None:
        match = _ECR_IMAGE.fullmatch(uri)
        if not match:
            return None
        return cls(match["account"], match["region"], match["repository"], match["tag"], match["digest"])

    def repository_arn(self, partition: str = "aws") -> str:
        return f"arn:{partition}:ecr:{self.region}:{self.account}:repository/{self.repository}"

    @property
    def image_id(self) -> dict[str, str]:
        """The ECR API's imageId: by digest, else by tag (`latest` when none is given, as ECR does)."""
        return {"imageDigest": self.digest} if self.digest else {"imageTag": self.tag or "latest"}
