"""The operator's side of AWS: a boto3 session for a profile, the AWS CLI and its Session Manager plugin, and who
the credentials belong to — all checked before anything is woken or costs money."""

from __future__ import annotations

import shutil
from collections.abc import Callable

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound

from ops.errors import OpsError
from program.contract import Out

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




def refused(err: ClientError) -> str | None:
    """For an access-denied answer, one line naming the action AWS refused and what grants it; None otherwise.
    AWS's message names the action: "... is not authorized to perform: ssm:DescribeSessions on resource: ..."."""
    error = err.response.get("Error", {})
    if "AccessDenied" not in str(error.get("Code", "")) and "Unauthorized" not in str(error.get("Code", "")):
        return None
    message = str(error.get("Message", ""))
    action = message.split("perform: ", 1)[1].split(" ", 1)[0] if "perform: " in message else \
        f"{err.operation_name} (see AWS's message)"
    resource = message.split("on resource: ", 1)[1].split(" ", 1)[0] if "on resource: " in message else ""
    return (f"AWS refused {action}{' on ' + resource if resource else ''} for your credentials: the stack's operator "
            f"policy (stack output {Out.OPERATOR_POLICY_ARN}) grants every action these tools use; waking or "
            "sleeping a stack also needs the deployer's (iam/deployer-policy.json)")
