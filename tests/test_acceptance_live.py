"""The live acceptance test: a real stack on your AWS account. Opt-in; it costs money (README, "Live acceptance").

    AIRGAP_LIVE=1 python3 dev.py test tests/test_acceptance_live.py -s

Skipped unless AIRGAP_LIVE=1, AWS credentials resolve, and the pulumi CLI, the AWS CLI and the Session Manager
plugin are on PATH. Region: AWS_REGION (default ap-northeast-1). The Pulumi backend is the one you are logged in to.
"""

from __future__ import annotations

import os
import shutil
import socket

import pytest


def _why_skipped() -> str | None:
    if os.environ.get("AIRGAP_LIVE") != "1":
        return "live AWS test: set AIRGAP_LIVE=1 to run it (it creates and destroys a stack on your account)"
    missing = [tool for tool in ("pulumi", "aws", "session-manager-plugin") if shutil.which(tool) is None]
    if missing:
        return f"live AWS test: {', '.join(missing)} not on PATH"
    import boto3

    if boto3.Session().get_credentials() is None:
        return "live AWS test: no AWS credentials"
    return None


pytestmark = pytest.mark.skipif(_why_skipped() is not None, reason=_why_skipped() or "")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_fresh_stack_works_end_to_end_sleeps_and_wakes_and_leaves_nothing() -> None:
    import boto3

    from ops.acceptance import Run, acceptance, cost_per_run
    from ops.acceptance_aws import AutomationStack, AwsCloud, ProcessForward, fetch_url, postgres_answer, tool

    region = os.environ.get("AWS_REGION", "ap-northeast-1")
    run = Run.new(region, _free_port())
    usd, how = cost_per_run()
    print(f"acceptance run {run.stack} in {region}: about ${usd:.2f} for both runs ({how})")
    report = acceptance(run, AutomationStack(run), AwsCloud(boto3.Session(region_name=region)), tool,
                        ProcessForward, fetch_url, probe=postgres_answer)
    print("measured on this account: " + ", ".join(f"{k} {v:.0f} s" for k, v in report.seconds.items()))
    assert report.leftovers == []


def test_a_workload_stack_on_a_network_stack_sleeps_with_it_and_previews_while_it_sleeps() -> None:
    import boto3

    from ops.acceptance import Run, split_acceptance
    from ops.acceptance_aws import AutomationStack, AwsCloud, tool

    region = os.environ.get("AWS_REGION", "ap-northeast-1")
    run = Run.new(region, _free_port())
    report = split_acceptance(run, AutomationStack(run.part("net")), AutomationStack(run.part("app")),
                              AwsCloud(boto3.Session(region_name=region)), tool)
    print("measured on this account: " + ", ".join(f"{k} {v:.0f} s" for k, v in report.seconds.items()))
    assert report.leftovers == []
