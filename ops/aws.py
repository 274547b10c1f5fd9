"""The operator's side of AWS: a boto3 session for a profile, the AWS CLI and its Session Manager plugin, and who
the credentials belong to — all checked before anything is woken or costs money."""

from __future__ import annotations

import shutil
from collections.abc import Callable

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound

from ops.errors import OpsError

PLUGIN_DOCS = "https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html"


def aws_session(profile: str | None, region: str) -> boto3.Session:
    try:
        return boto3.Session(profile_name=profile, region_name=region)
    except ProfileNotFound as err:
        raise OpsError(f"--profile {profile}: no such profile in your AWS config (`aws configure list-profiles` "
                       "lists them)") from err


def check_tools(which: Callable[[str], str | None] = shutil.which) -> None:
    if which("aws") is None:
        raise OpsError("the AWS CLI (`aws`) is not on PATH: install AWS CLI v2")
    if which("session-manager-plugin") is None:
        raise OpsError(f"the Session Manager plugin for the AWS CLI is not installed: see {PLUGIN_DOCS}")


def check_credentials(session: boto3.Session) -> str:
    try:
        return session.client("sts").get_caller_identity()["Arn"]
    except NoCredentialsError as err:
        raise OpsError("no AWS credentials: run `aws configure sso` / `aws sso login`, or export a profile "
                       "(AWS_PROFILE) for the stack's account") from err
    except (ClientError, BotoCoreError) as err:
        raise OpsError(f"AWS refused the credentials: {err}") from err


