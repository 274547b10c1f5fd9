"""Copy the bastion's image into the stack's own ECR repository, from where the operator runs — no Docker, no NAT.

Why not let the VPC pull it: a private VPC reaches ECR only through its interface endpoints, and over PrivateLink the
*first* pull of an image through a pull-through cache rule needs a NAT path to the upstream registry (Amazon ECR
User Guide, "Amazon ECR interface VPC endpoints (AWS PrivateLink)", Considerations; aws/containers-roadmap #939,
#2304). So the image is copied in from outside, once, by this module: the operator's machine has internet, the
stack's repository has immutable tags, and the tag then names one digest for the repository's life.

Pull side: the OCI distribution API (`GET /v2/<name>/manifests/<ref>`, `GET /v2/<name>/blobs/<digest>`) with the
registry's anonymous bearer-token challenge, as every registry client does (ECR Public answers
`Bearer realm="https://public.ecr.aws/token/",service="public.ecr.aws",scope="aws"` and serves blobs through a
redirect to CloudFront). Every manifest and blob is checked against its sha256 digest.

Push side: the ECR API's layer upload (InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload, then PutImage;
Amazon ECR API Reference). Parts are `partSize` bytes as InitiateLayerUpload says (at most 20 MiB; all but the last
at least 5 MB), the config blob goes up like a layer (as AWS's own containerd resolver, awslabs/amazon-ecr-containerd-
resolver, does), and the manifest goes up byte for byte with its digest, so ECR stores exactly the digest pulled.

Why a client of our own (reviewed 2026-12): crane, skopeo and regctl copy images but are Go binaries a user would
have to install per platform; oras-py, the maintained Python OCI client, pushes and pulls artifacts but has no image
copy (its own TODO lists one). What is here is only the two APIs above, with retries and a digest check on every read.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import requests
from botocore.exceptions import ClientError
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from airgap.image_reference import Reference

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
INDEXES = (DOCKER_LIST, OCI_INDEX)
MANIFESTS = (DOCKER_MANIFEST, OCI_MANIFEST)
ACCEPT = ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST))
TIMEOUT = (10, 120)  # connect, read (seconds)
CHUNK = 1024 * 1024
# Registries and their CDNs answer 429 and 5xx under load: reads are retried with exponential backoff
# (0, 1, 2, 4, 8 s; a Retry-After header is honoured), then the last answer is reported as it came.
RETRIES, BACKOFF = 5, 0.5
BUSY = (429, 500, 502, 503, 504)



class ImageError(Exception):
    """The image could not be copied; the message says why and what to do."""


def registry_session(retries: int = RETRIES, backoff: float = BACKOFF) -> requests.Session:
    """The HTTP session the copy pulls through: GETs retried on connection errors and busy answers."""
    policy = Retry(total=retries, backoff_factor=backoff, status_forcelist=BUSY, allowed_methods={"GET", "HEAD"},
                   raise_on_status=False, respect_retry_after_header=True)
    http = requests.Session()
    http.mount("https://", HTTPAdapter(max_retries=policy))
    http.mount("http://", HTTPAdapter(max_retries=policy))
    http.headers["User-Agent"] = "airgap-image-copy"
    return http


def _scheme(registry: str) -> str:
    # Loopback registries speak plain HTTP, as Docker treats 127.0.0.0/8 and localhost as insecure by default.
    host = registry.rsplit(":", 1)[0] if registry.count(":") == 1 else registry
    return "http" if host in ("localhost", "127.0.0.1", "[::1]") else "https"


def sha256_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class SourceRegistry:
    """Anonymous reads from a registry that speaks the OCI distribution API."""

    def __init__(self, registry: str, repository: str, http: requests.Session) -> None:
        self.base = f"{_scheme(registry)}://{registry}/v2/{repository}"
        self.registry, self.repository, self.http = registry, repository, http
        self._token: str | None = None

    def _get(self, url: str, **headers: str) -> requests.Response:
        for _ in range(2):
            sent = dict(headers)
            if self._token:
                sent["Authorization"] = f"Bearer {self._token}"
            response = self.http.get(url, headers=sent, timeout=TIMEOUT, stream=True, allow_redirects=True)
            if response.status_code != 401 or self._token:
                return response
            self._token = self._fetch_token(response.headers.get("WWW-Authenticate", ""))
        return response

    def _fetch_token(self, challenge: str) -> str:
        """The bearer-token exchange of the distribution spec's token authentication, anonymously."""
        if not challenge.lower().startswith("bearer "):
            raise ImageError(f"{self.registry} asks for credentials ({challenge or 'no challenge'}); only registries "
                             "that allow anonymous pulls can be copied from")
        fields = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        params = {"service": fields.get("service", ""), "scope": f"repository:{self.repository}:pull"}
        response = self.http.get(fields["realm"], params=params, timeout=TIMEOUT)
        if response.status_code != 200:
            raise ImageError(f"{self.registry} refused an anonymous token for {self.repository}: "
                             f"HTTP {response.status_code}")
        body = response.json()
        return body.get("token") or body.get("access_token") or ""

    def manifest(self, reference: str) -> tuple[bytes, str, str]:
        """(bytes, media type, digest) of a manifest or index, by tag or digest."""
        response = self._get(f"{self.base}/manifests/{reference}", Accept=ACCEPT)
        if response.status_code == 404:
            raise ImageError(f"{self.registry}/{self.repository} has no image {reference}")
        if response.status_code != 200:
            raise ImageError(f"{self.registry}/{self.repository}:{reference}: HTTP {response.status_code} "
                             f"reading the manifest")
        body = response.content
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip() or \
            json.loads(body).get("mediaType", "")
        digest = sha256_of(body)
        if reference.startswith("sha256:") and digest != reference:
            raise ImageError(f"{self.registry}/{self.repository}@{reference}: the registry sent a manifest whose "
                             f"digest is {digest}")
        return body, media_type, digest

    def blob(self, digest: str, size: int, sink: IO[bytes]) -> None:
        """Stream a blob into `sink`, checking its size and digest."""
        response = self._get(f"{self.base}/blobs/{digest}")
        if response.status_code != 200:
            raise ImageError(f"{self.registry}/{self.repository}: HTTP {response.status_code} reading blob {digest}")
        hasher, written = hashlib.sha256(), 0
        for chunk in response.iter_content(CHUNK):
            hasher.update(chunk)
            sink.write(chunk)
            written += len(chunk)
        if "sha256:" + hasher.hexdigest() != digest or written != size:
            raise ImageError(f"{self.registry}/{self.repository}: blob {digest} arrived corrupted "
                             f"({written} bytes, digest sha256:{hasher.hexdigest()}); nothing was pushed for it")


class TargetRepository:
    """The stack's private ECR repository, written through the ECR API."""

    def __init__(self, ecr: Any, name: str, registry_id: str) -> None:
        self.ecr, self.name, self.registry_id = ecr, name, registry_id

    def tagged(self, tag: str) -> str | None:
        """The digest the tag names in the repository, or None."""
        return self._find({"imageTag": tag})

    def has_digest(self, digest: str) -> str | None:
        return self._find({"imageDigest": digest})

    def _find(self, image_id: dict[str, str]) -> str | None:
        try:
            found = self.ecr.describe_images(repositoryName=self.name, registryId=self.registry_id,
                                             imageIds=[image_id])["imageDetails"]
        except ClientError as err:
            code = err.response["Error"]["Code"]
            if code == "ImageNotFoundException":
                return None
            if code == "RepositoryNotFoundException":
                raise ImageError(f"ECR repository {self.name} does not exist: run `pulumi up` first (the stack "
                                 "creates it)") from err
            raise
        return found[0]["imageDigest"] if found else None

    def missing(self, digests: list[str]) -> set[str]:
        if not digests:
            return set()
        answer = self.ecr.batch_check_layer_availability(repositoryName=self.name, registryId=self.registry_id,
                                                         layerDigests=digests)
        present = {layer["layerDigest"] for layer in answer.get("layers", [])
                   if layer.get("layerAvailability") == "AVAILABLE"}
        return set(digests) - present

    def upload(self, digest: str, path: Path) -> None:
        if path.stat().st_size == 0:
            # ECR refuses an empty upload (EmptyUploadException); images that need an empty blob cannot be copied.
            raise ImageError(f"blob {digest} is empty, and ECR accepts no empty layer upload")
        started = self.ecr.initiate_layer_upload(repositoryName=self.name, registryId=self.registry_id)
        upload_id, part_size = started["uploadId"], int(started["partSize"])
        with path.open("rb") as blob:
            first = 0
            while True:
                part = blob.read(part_size)
                if not part:
                    break
                self.ecr.upload_layer_part(repositoryName=self.name, registryId=self.registry_id, uploadId=upload_id,
                                           partFirstByte=first, partLastByte=first + len(part) - 1,
                                           layerPartBlob=part)
                first += len(part)
                if len(part) < part_size:
                    break
        try:
            done = self.ecr.complete_layer_upload(repositoryName=self.name, registryId=self.registry_id,
                                                  uploadId=upload_id, layerDigests=[digest])
        except ClientError as err:
            if err.response["Error"]["Code"] == "LayerAlreadyExistsException":
                return
            raise
        if done.get("layerDigest") != digest:
            raise ImageError(f"ECR computed {done.get('layerDigest')} for blob {digest}")

    def put_manifest(self, body: bytes, media_type: str, digest: str, tag: str) -> str:
        try:
            image = self.ecr.put_image(repositoryName=self.name, registryId=self.registry_id,
                                       imageManifest=body.decode("utf-8"), imageManifestMediaType=media_type,
                                       imageTag=tag, imageDigest=digest)["image"]
        except ClientError as err:
            code = err.response["Error"]["Code"]
            if code == "ImageAlreadyExistsException":
                return digest
            if code == "ImageTagAlreadyExistsException":
                raise ImageError(self._tag_taken(tag, digest)) from err
            raise
        return image["imageId"]["imageDigest"]

    def _tag_taken(self, tag: str, digest: str) -> str:
        return (f"tag {tag} in {self.name} already names another image (tags there are immutable, so an image is "
                f"never swapped under a running bastion); the source now resolves to {digest}. To move to it, set "
                "airgap:bastionImageSource to a new tag or to ...@<digest>, then `pulumi up`")


@dataclass(frozen=True)
class Copied:
    digest: str
    copied_blobs: int
    copied_bytes: int
    already_there: bool


def pick_platform(index: bytes, os_name: str, architecture: str) -> tuple[str, str, int]:
    """(digest, media type, size) of the manifest for one platform in an image index."""
    entries = json.loads(index).get("manifests", [])
    for entry in entries:
        platform = entry.get("platform") or {}
        if platform.get("os") == os_name and platform.get("architecture") == architecture:
            return entry["digest"], entry.get("mediaType", ""), int(entry.get("size", 0))
    offered = sorted({f"{(e.get('platform') or {}).get('os')}/{(e.get('platform') or {}).get('architecture')}"
                      for e in entries})
    raise ImageError(f"the image has no {os_name}/{architecture} variant (it offers {', '.join(offered)})")


def _blobs(manifest: dict[str, Any]) -> Iterator[tuple[str, int]]:
    yield manifest["config"]["digest"], int(manifest["config"]["size"])
    for layer in manifest.get("layers", []):
        yield layer["digest"], int(layer["size"])


def copy_image(source: Reference, target: TargetRepository, http: requests.Session, *, platform: str,
               say: Callable[[str], None] = print) -> Copied:
    """Copy one platform of `source` into `target` under `source.private_tag`; nothing is pushed twice."""
    tag = source.private_tag
    present = target.tagged(tag)
    if present is not None:
        if source.digest and present != source.digest and not _is_platform_of(source, present, http, platform):
            raise ImageError(target._tag_taken(tag, source.digest))
        return Copied(present, 0, 0, True)

    registry = SourceRegistry(source.registry, source.repository, http)
    body, media_type, digest = registry.manifest(source.digest or source.tag or "")
    os_name, _, architecture = platform.partition("/")
    if media_type in INDEXES:
        chosen, _, _ = pick_platform(body, os_name, architecture)
        body, media_type, digest = registry.manifest(chosen)
    if media_type not in MANIFESTS:
        raise ImageError(f"{source}: manifest type {media_type or '(none)'} is not an image manifest ECR stores")
    manifest = json.loads(body)
    blobs = list(dict(_blobs(manifest)).items())
    wanted = target.missing([d for d, _ in blobs])
    total = sum(size for d, size in blobs if d in wanted)
    say(f"copying {source} ({platform}, {digest[:19]}…) into {target.name}:{tag}: {len(wanted)} of {len(blobs)} "
        f"blobs, {total / 1e6:.1f} MB")
    with tempfile.TemporaryDirectory(prefix="airgap-image-") as scratch:
        for blob_digest, size in blobs:
            if blob_digest not in wanted:
                continue
            path = Path(scratch) / blob_digest.replace(":", "-")
            with path.open("wb") as sink:
                registry.blob(blob_digest, size, sink)
            target.upload(blob_digest, path)
            say(f"  {blob_digest[:19]}… {size / 1e6:.1f} MB")
            path.unlink()
    stored = target.put_manifest(body, media_type, digest, tag)
    say(f"{target.name}:{tag} is {stored}")
    return Copied(stored, len(wanted), total, False)


def _is_platform_of(source: Reference, present: str, http: requests.Session, platform: str) -> bool:
    """Whether `present` is the `platform` manifest inside the index `source.digest` names."""
    registry = SourceRegistry(source.registry, source.repository, http)
    body, media_type, _ = registry.manifest(source.digest or "")
    if media_type not in INDEXES:
        return False
    os_name, _, architecture = platform.partition("/")
    return pick_platform(body, os_name, architecture)[0] == present
