"""The bastion's image: copied from outside the VPC into the stack's ECR repository (against a registry on
127.0.0.1 and moto's ECR), never pulled by the task from the internet."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from fake_registry import FakeRegistry, digest_of
from ops_world import ACCOUNT, IMAGE, OUTPUTS, REPOSITORY, desired, go, quiet

from airgap.image_reference import Reference
from ops import __main__ as cli
from ops.errors import OpsError
from ops.image import ImageError, TargetRepository, copy_image, registry_session
from ops.outputs import Stack, read_stack

pytestmark = pytest.mark.cli

# --- the bastion's image: copied in from outside the VPC, never pulled by the task from the internet -------------


MiB = 1024 * 1024
SIZES = {"linux/arm64": [12 * MiB + 321, 4096], "linux/amd64": [3 * MiB, 100]}


@pytest.fixture
def registry() -> Iterator[FakeRegistry]:
    fake = FakeRegistry()
    server = fake.start()
    yield fake
    server.shutdown()


@pytest.fixture
def ecr_parts(ecs) -> list[tuple[str, int, int, int]]:
    """Every UploadLayerPart as (uploadId, first, last, len(blob)), to hold the copy to ECR's part-size rules."""
    session, _ = ecs
    parts: list[tuple[str, int, int, int]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        parts.append((params["uploadId"], params["partFirstByte"], params["partLastByte"],
                      len(params["layerPartBlob"])))

    session._session.register("provide-client-params.ecr.UploadLayerPart", record)
    return parts


def empty_repository(session: boto3.Session) -> TargetRepository:
    ecr = session.client("ecr")
    ecr.batch_delete_image(repositoryName=REPOSITORY, imageIds=[{"imageTag": "2023"}])
    return TargetRepository(ecr, REPOSITORY, ACCOUNT)


def test_the_copy_puts_exactly_the_arm64_image_into_the_stacks_repository(ecs, registry: FakeRegistry,
                                                                          ecr_parts: list) -> None:
    session, _ = ecs
    platforms = registry.add_image("amazonlinux/amazonlinux", "2023", SIZES)
    target = empty_repository(session)
    done = copy_image(Reference.parse(f"{registry.address}/amazonlinux/amazonlinux:2023"), target,
                      requests.Session(), platform="linux/arm64", say=quiet)
    arm = platforms["linux/arm64"]
    assert done.digest == arm.digest and done.copied_blobs == 3 and not done.already_there
    ecr = session.client("ecr")
    (stored,) = ecr.batch_get_image(repositoryName=REPOSITORY, imageIds=[{"imageTag": "2023"}])["images"]
    # Byte for byte: what ECR holds hashes to the digest the registry published.
    assert digest_of(stored["imageManifest"].encode()) == arm.digest
    assert stored["imageId"]["imageDigest"] == arm.digest
    layers = ecr.batch_check_layer_availability(repositoryName=REPOSITORY, layerDigests=[
        *arm.blobs, *platforms["linux/amd64"].blobs])
    assert {x["layerDigest"] for x in layers["layers"]} == set(arm.blobs)  # config included, amd64 left out
    # The anonymous token was asked for this repository's pull scope, and never sent to the blob host.
    assert registry.token_requests[0] == {"service": "fake.registry",
                                          "scope": "repository:amazonlinux/amazonlinux:pull"}
    assert registry.storage_authorization and set(registry.storage_authorization) == {None}
    # ECR's part rules: at most 20 MiB a part, every part but an upload's last at least 5 MB, contiguous.
    by_upload: dict[str, list[tuple[int, int, int]]] = {}
    for upload, first, last, size in ecr_parts:
        by_upload.setdefault(upload, []).append((first, last, size))
    assert max(len(p) for p in by_upload.values()) == 2  # the 12 MiB layer went up in two parts
    for uploaded in by_upload.values():
        assert all(size <= 20_971_520 and last - first + 1 == size for first, last, size in uploaded)
        assert all(size >= 5_000_000 for _, _, size in uploaded[:-1])
        assert [first for first, _, _ in uploaded] == [0, *[last + 1 for _, last, _ in uploaded[:-1]]]


def test_a_second_copy_pushes_nothing(ecs, registry: FakeRegistry, ecr_parts: list) -> None:
    session, _ = ecs
    registry.add_image("amazonlinux/amazonlinux", "2023", SIZES)
    target = empty_repository(session)
    source = Reference.parse(f"{registry.address}/amazonlinux/amazonlinux:2023")
    first = copy_image(source, target, requests.Session(), platform="linux/arm64", say=quiet)
    uploads = len(ecr_parts)
    again = copy_image(source, target, requests.Session(), platform="linux/arm64", say=quiet)
    assert again.already_there and again.digest == first.digest and len(ecr_parts) == uploads


def test_a_digest_pinned_source_is_checked_against_what_the_registry_sends(ecs, registry: FakeRegistry) -> None:
    session, _ = ecs
    registry.add_image("amazonlinux/amazonlinux", "2023", SIZES)
    target = empty_repository(session)
    wrong = "sha256:" + "1" * 64
    registry.manifests[("amazonlinux/amazonlinux", wrong)] = registry.manifests[("amazonlinux/amazonlinux", "2023")]
    with pytest.raises(ImageError, match="digest is sha256:"):
        copy_image(Reference.parse(f"{registry.address}/amazonlinux/amazonlinux@{wrong}"), target, requests.Session(),
                   platform="linux/arm64", say=quiet)
    assert target.tagged(f"sha256-{'1' * 64}") is None


def test_a_blob_that_arrives_corrupted_stops_the_copy_before_anything_is_tagged(ecs, registry: FakeRegistry) -> None:
    session, _ = ecs
    arm = registry.add_image("amazonlinux/amazonlinux", "2023", SIZES)["linux/arm64"]
    registry.corrupt.add(next(d for d, b in arm.blobs.items() if len(b) > MiB))
    target = empty_repository(session)
    with pytest.raises(ImageError, match="arrived corrupted"):
        copy_image(Reference.parse(f"{registry.address}/amazonlinux/amazonlinux:2023"), target, requests.Session(),
                   platform="linux/arm64", say=quiet)
    assert target.tagged("2023") is None


def test_a_platform_the_image_lacks_is_named(ecs, registry: FakeRegistry) -> None:
    session, _ = ecs
    registry.add_image("tools/only-amd64", "1", {"linux/amd64": [100]})
    with pytest.raises(ImageError, match=r"no linux/arm64 variant \(it offers linux/amd64\)"):
        copy_image(Reference.parse(f"{registry.address}/tools/only-amd64:1"), empty_repository(session),
                   requests.Session(), platform="linux/arm64", say=quiet)


def test_an_empty_blob_is_refused_before_ecr_is_asked(ecs, tmp_path: Path) -> None:
    session, _ = ecs
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    with pytest.raises(ImageError, match="is empty, and ECR accepts no empty layer upload"):
        empty_repository(session).upload(digest_of(b""), empty)


def with_source(registry: FakeRegistry) -> Stack:
    registry.add_image("amazonlinux/amazonlinux", "2023", SIZES)
    return read_stack("dev", {**OUTPUTS, "bastionImageSource": f"{registry.address}/amazonlinux/amazonlinux:2023"})


def test_forward_fills_a_missing_image_before_it_unparks(ecs, tools: Path, registry: FakeRegistry) -> None:
    session, _ = ecs
    stack = with_source(registry)
    target = empty_repository(session)
    present_at_unpark = []
    session._session.register("before-call.ecs.UpdateService",
                              lambda **_: present_at_unpark.append(target.tagged("2023")))
    assert go(session, stack=stack) == 0
    assert present_at_unpark and present_at_unpark[0] is not None


def test_forward_with_no_fill_names_the_command_and_leaves_the_service_parked(ecs, tools: Path,
                                                                             registry: FakeRegistry) -> None:
    session, fake = ecs
    stack = with_source(registry)
    empty_repository(session)
    with pytest.raises(OpsError, match=r"not in airgap-dev/bastion yet.*`python3 dev.py bastion image --stack dev`"):
        go(session, stack=stack, fill_image=False)
    assert desired(fake) == 0 and not tools.exists()


def test_a_missing_custom_image_is_reported_and_nothing_is_unparked(ecs, tools: Path) -> None:
    session, fake = ecs
    empty_repository(session)
    stack = read_stack("dev", {**OUTPUTS, "bastionImageSource": ""})
    with pytest.raises(OpsError, match=r"not in its registry.*airgap:bastionImage"):
        go(session, stack=stack)
    assert desired(fake) == 0


def test_the_image_command_copies_and_reports(ecs, registry: FakeRegistry, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    session, _ = ecs
    empty_repository(session)
    saved = tmp_path / "outputs.json"
    saved.write_text(json.dumps({**OUTPUTS, "bastionImageSource": f"{registry.address}/amazonlinux/amazonlinux:2023"}))
    registry.add_image("amazonlinux/amazonlinux", "2023", SIZES)
    assert cli.main(["image", "--stack", "dev", "--outputs", str(saved)]) == 0
    assert f"{IMAGE} is in place" in capsys.readouterr().out


def test_a_busy_registry_is_retried_with_backoff_and_the_copy_completes(ecs, registry: FakeRegistry) -> None:
    session, _ = ecs
    arm = registry.add_image("amazonlinux/amazonlinux", "2023", SIZES)["linux/arm64"]
    registry.busy = 4  # the first read answered 503 four times over: within the five retries
    done = copy_image(Reference.parse(f"{registry.address}/amazonlinux/amazonlinux:2023"), empty_repository(session),
                      registry_session(backoff=0), platform="linux/arm64", say=quiet)
    assert registry.busy_answers == 4 and done.digest == arm.digest and done.copied_blobs == 3


def test_a_registry_busy_beyond_the_retries_is_named_with_its_answer(ecs, registry: FakeRegistry) -> None:
    session, _ = ecs
    registry.add_image("amazonlinux/amazonlinux", "2023", SIZES)
    registry.busy = 100
    with pytest.raises(ImageError, match="HTTP 503"):
        copy_image(Reference.parse(f"{registry.address}/amazonlinux/amazonlinux:2023"), empty_repository(session),
                   registry_session(retries=2, backoff=0), platform="linux/arm64", say=quiet)
    assert registry.busy_answers == 3  # the first try and two retries
