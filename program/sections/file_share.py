"""The file share (EFS) the SSM host mounts over TLS."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from airgap.file_share import FileShare, FileShareArgs
from airgap.workload import Needs
from program.contract import Out
from program.keys import Key, Problems, Values
from program.sections import Built, Context

NAME, ORDER = "file-share", 30
KEYS = (Key("fileShare", "boolean", True, "Create the EFS file share mounted by the SSM host over TLS."),)


@dataclass(frozen=True)
class FileShareSection:
    enabled: bool
    workload = False  # the SSM host's disk, not something sessions reach

    def needs(self) -> Needs:
        return Needs()

    def build(self, settings: Any, built: Built) -> FileShare | None:
        if not self.enabled:
            return None
        return FileShare("file-share", FileShareArgs(vpc_id=built.network.vpc_id,
                                                     subnet_ids=built.network.subnet_ids_by_zone,
                                                     protect=settings.production))

    def export(self, settings: Any, built: Built) -> None:
        share = built.components.get(NAME)
        if share is not None:
            pulumi.export(Out.FILE_SHARE_ID, share.file_system.id)
            pulumi.export(Out.FILE_SHARE_ARN, share.file_system.arn)


def parse(v: Values, ctx: Context, p: Problems) -> FileShareSection:
    return FileShareSection(v["fileShare"] is True)
