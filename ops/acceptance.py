"""The live acceptance run: a fresh stack on a real AWS account, a file written to the share on the SSM host and read
back through `forward` on localhost, the bastion parked, the stack destroyed, and AWS asked that nothing is left.

It needs an AWS account, credentials, the Pulumi CLI, the AWS CLI and the Session Manager plugin, and it costs
money (see `cost_per_run`); tests/test_acceptance_live.py runs it only when AIRGAP_LIVE=1, and the workflow
.github/workflows/acceptance.yml runs that by hand. Everything it talks to is passed in (`Stack`, `Cloud`,
`start_forward`, `fetch`), so that the order of the steps and the clean-up on every failure are tested offline.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from airgap.naming import PhysicalNames

ROOT = Path(__file__).resolve().parent.parent
TAG = "airgap-acceptance"
PORT = 8080
BOOT_STATUS = "/var/lib/airgap/first-boot"


class AcceptanceError(Exception):
    pass


@dataclass(frozen=True)
class Run:
    run_id: str
    region: str
    local_port: int
    project: str = "airgap"

    @property
    def stack(self) -> str:
        return f"acc-{self.run_id}"

    @property
    def names(self) -> PhysicalNames:
        return PhysicalNames(self.project, self.stack)

    @property
    def file_name(self) -> str:
        return f"acceptance-{self.run_id}.txt"

    @property
    def content(self) -> str:
        return f"airgap acceptance {self.run_id}\n"

    @classmethod
    def new(cls, region: str, local_port: int) -> Run:
        return cls(secrets.token_hex(4), region, local_port)


def config(run: Run) -> dict[str, str]:
    """The stack's config: dev's cheap shape, and a tag on everything so that leftovers can be found."""
    return {
        "aws:region": run.region,
        f"aws:defaultTags.tags.{TAG}": run.run_id,
        "airgap:endpointPlacement": "single-az",
        "airgap:bastion": "parked",
        "airgap:bastionForwardPorts[0]": str(PORT),
        "airgap:logRetentionDays": "1",
    }


class Stack(Protocol):
    """What the run uses of a Pulumi Automation API stack (pulumi.automation.Stack)."""

    def set_config(self, key: str, value: Any, *, path: bool = False) -> None: ...
    def up(self, *, on_output: Callable[[str], Any]) -> Any: ...
    def outputs(self) -> Mapping[str, Any]: ...
    def destroy(self, *, on_output: Callable[[str], Any]) -> Any: ...
    def remove(self) -> None: ...


class Cloud(Protocol):
    def wait_host_ready(self, instance_id: str, timeout: float) -> None: ...
    def run_on_host(self, instance_id: str, script: str, timeout: float) -> str: ...
    def desired_count(self, cluster: str, service: str) -> int: ...
    def flow_log_problems(self, bucket: str, timeout: float) -> list[str]: ...
    def leftovers(self, run: Run, file_system_arn: str | None) -> list[str]: ...


class Forward(Protocol):
    def running(self) -> bool: ...
    def stop(self) -> int: ...
    def errors(self) -> str: ...


@dataclass
class Report:
    steps: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)


def host_script(run: Run) -> str:
    """Write the file to the share and serve the share on PORT, detached from the SSM command."""
    return (f"set -e; test \"$(cat {BOOT_STATUS})\" = ok; printf '%s' '{run.content}' > /mnt/share/{run.file_name}; "
            f"setsid nohup python3 -m http.server {PORT} --directory /mnt/share >/dev/null 2>&1 < /dev/null & "
            f"echo served")


def acceptance(run: Run, stack: Stack, cloud: Cloud, start_forward: Callable[[Path, Run], Forward],
               fetch: Callable[[str], bytes], *, say: Callable[[str], None] = print,
               clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
               fetch_timeout: float = 900) -> Report:
    """Every step in order; destroy and the leftover check run whatever happened before them."""
    report = Report()

    def step(text: str) -> None:
        report.steps.append(text)
        say(f"[acceptance {run.stack}] {text}")

    file_system_arn: str | None = None
    failure: BaseException | None = None
    try:
        step("configure")
        for key, value in config(run).items():
            stack.set_config(key, value, path="." in key or "[" in key)
        step("up")
        stack.up(on_output=say)
        outputs = {k: getattr(v, "value", v) for k, v in stack.outputs().items()}
        file_system_arn = outputs.get("fileShareArn")
        with tempfile.TemporaryDirectory(prefix="airgap-acceptance-") as scratch:
            saved = Path(scratch) / "outputs.json"
            saved.write_text(json.dumps(outputs))
            step("wait for the SSM host to be managed and its first boot to finish")
            cloud.wait_host_ready(outputs["ssmHostInstanceId"], timeout=900)
            step("write a file to the share and serve it from the host")
            if "served" not in cloud.run_on_host(outputs["ssmHostInstanceId"], host_script(run), timeout=300):
                raise AcceptanceError("the host did not start serving the share")
            step("forward (fills the image, unparks, waits for ECS Exec, port-forwards, parks after)")
            forward = start_forward(saved, run)
            try:
                body = _fetch_through(forward, run, fetch, clock, sleep, fetch_timeout)
            finally:
                code = forward.stop()
            if body != run.content.encode():
                raise AcceptanceError(f"read {body!r} through the bastion, wrote {run.content!r}")
            step(f"read the file back through localhost:{run.local_port}; forward ended with {code}")
            if cloud.desired_count(outputs["bastionCluster"], outputs["bastionService"]) != 0:
                raise AcceptanceError("the bastion is not parked after forward --park-after")
            step("bastion parked")
            step("flow logs delivered, and the bucket policy as the stack wrote it")
            problems = cloud.flow_log_problems(outputs["flowLogBucket"], timeout=1200)
            if problems:
                raise AcceptanceError("; ".join(problems))
    except BaseException as err:  # KeyboardInterrupt included: destroy must still run
        failure = err
    finally:
        step("destroy")
        try:
            stack.destroy(on_output=say)
            stack.remove()
        finally:
            report.leftovers = cloud.leftovers(run, file_system_arn)
            step("leftovers: " + ("none" if not report.leftovers else "; ".join(report.leftovers)))
    if failure is not None:
        raise failure
    if report.leftovers:
        raise AcceptanceError(f"left behind after destroy: {'; '.join(report.leftovers)}")
    return report


def _fetch_through(forward: Forward, run: Run, fetch: Callable[[str], bytes], clock: Callable[[], float],
                   sleep: Callable[[float], None], timeout: float) -> bytes:
    url = f"http://127.0.0.1:{run.local_port}/{run.file_name}"
    deadline = clock() + timeout
    while True:
        if not forward.running():
            raise AcceptanceError(f"forward ended before the file could be read: {forward.errors()[-2000:]}")
        try:
            return fetch(url)
        except OSError:
            if clock() >= deadline:
                raise AcceptanceError(f"nothing answered on {url} within {timeout:g} s") from None
            sleep(5)


# --- the real world ---------------------------------------------------------------------------------------------

def cost_per_run(hours: float = 1.0) -> tuple[float, str]:
    """(USD, how): the dev stack parked for `hours`, from the plan's own price table and resource list, plus the
    bastion's Fargate task for the same time."""
    from offline.cost import Assumptions, estimate
    from offline.harness import capture

    cap = capture("dev", "update", {"bastion": "parked"})
    month = estimate(cap, Assumptions(session_hours=0, endpoint_gb=0, efs_standard_gb=0, logs_gb=0))
    on = estimate(capture("dev", "update", {"bastion": "on"}), Assumptions(endpoint_gb=0, efs_standard_gb=0,
                                                                          logs_gb=0))
    fargate_hour = on.by_component.get("bastion", 0) / 730
    usd = (month.total / 730 + fargate_hour) * hours
    return usd, (f"dev parked for {hours:g} h (${month.total:.2f}/month / 730 h) plus the bastion task for the same "
                 f"time, at {month.priced_as} list prices")


class AutomationStack:
    """`Stack` through Pulumi's Automation API: the project in this repository, as a local program."""

    def __init__(self, run: Run, work_dir: Path = ROOT) -> None:
        from pulumi import automation

        self._automation = automation
        self.name = run.stack
        self.stack = automation.create_or_select_stack(stack_name=run.stack, work_dir=str(work_dir))

    def set_config(self, key: str, value: Any, *, path: bool = False) -> None:
        self.stack.set_config(key, self._automation.ConfigValue(str(value)), path=path)

    def up(self, *, on_output: Callable[[str], Any]) -> Any:
        return self.stack.up(on_output=on_output, color="never")

    def outputs(self) -> Mapping[str, Any]:
        return self.stack.outputs()

    def destroy(self, *, on_output: Callable[[str], Any]) -> Any:
        return self.stack.destroy(on_output=on_output, color="never")

    def remove(self) -> None:
        self.stack.workspace.remove_stack(self.name)


class ProcessForward:
    """`python -m ops forward ... --park-after` in its own process group; stop() sends Ctrl-C, as a user would."""

    def __init__(self, outputs: Path, run: Run) -> None:
        # Kept open for the life of the process it collects the errors of.
        self._log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ops", "forward", "--stack", run.stack, "--outputs", str(outputs),
             "--local-port", str(run.local_port), "--park-after"],
            cwd=ROOT, stdin=subprocess.DEVNULL, stderr=self._log, start_new_session=True)

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> int:
        if self.running():
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                return self.process.wait(timeout=180)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        return self.process.wait()

    def errors(self) -> str:
        self._log.seek(0)
        return self._log.read()


def fetch_url(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read()


class AwsCloud:
    """`Cloud` on a real account, through boto3."""

    def __init__(self, session: Any, say: Callable[[str], None] = print,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.session, self.say, self.sleep = session, say, sleep

    def wait_host_ready(self, instance_id: str, timeout: float) -> None:
        ssm, deadline = self.session.client("ssm"), time.monotonic() + timeout
        while True:
            found = ssm.describe_instance_information(
                Filters=[{"Key": "InstanceIds", "Values": [instance_id]}])["InstanceInformationList"]
            if found and found[0].get("PingStatus") == "Online":
                status = self.run_on_host(instance_id, f"cat {BOOT_STATUS}", timeout=120).strip()
                if status == "ok":
                    return
                if status.startswith("failed"):
                    raise AcceptanceError(f"the SSM host's first boot {status}")
            if time.monotonic() >= deadline:
                raise AcceptanceError(f"{instance_id} did not become a managed, booted SSM host in {timeout:g} s")
            self.sleep(15)

    def run_on_host(self, instance_id: str, script: str, timeout: float) -> str:
        ssm = self.session.client("ssm")
        command = ssm.send_command(InstanceIds=[instance_id], DocumentName="AWS-RunShellScript",
                                   Parameters={"commands": [script]})["Command"]["CommandId"]
        deadline = time.monotonic() + timeout
        while True:
            self.sleep(3)
            try:
                answer = ssm.get_command_invocation(CommandId=command, InstanceId=instance_id)
            except ssm.exceptions.InvocationDoesNotExist:
                continue
            if answer["Status"] in ("Success", "Failed", "Cancelled", "TimedOut"):
                return answer.get("StandardOutputContent", "") + answer.get("StandardErrorContent", "")
            if time.monotonic() >= deadline:
                raise AcceptanceError(f"command {command} on {instance_id} did not finish in {timeout:g} s")

    def desired_count(self, cluster: str, service: str) -> int:
        found = self.session.client("ecs").describe_services(cluster=cluster, services=[service])["services"]
        return int(found[0]["desiredCount"]) if found else 0

    def flow_log_problems(self, bucket: str, timeout: float) -> list[str]:
        """Records under AWSLogs/ (delivery works with the stack's bucket policy), and that policy's TLS-only deny
        still there (AWS did not replace the policy when it set up delivery)."""
        s3, deadline, problems = self.session.client("s3"), time.monotonic() + timeout, []
        while not s3.list_objects_v2(Bucket=bucket, Prefix="AWSLogs/", MaxKeys=1).get("KeyCount"):
            if time.monotonic() >= deadline:
                problems.append(f"no flow log records reached s3://{bucket}/AWSLogs/ within {timeout:g} s")
                break
            self.sleep(30)
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
        if "DenyWithoutTls" not in {s.get("Sid") for s in policy.get("Statement", [])}:
            problems.append(f"the policy of s3://{bucket} lost its DenyWithoutTls statement: AWS replaced it when "
                            "it set up delivery")
        return problems

    def leftovers(self, run: Run, file_system_arn: str | None) -> list[str]:
        """Everything of this run AWS still knows: tagged resources, and the named ones by name. EFS automatic
        backups are not the stack's resources, so `destroy` leaves them: they are deleted here and reported."""
        names, found = run.names, []
        tagging = self.session.client("resourcegroupstaggingapi")
        for attempt in range(20):  # the tagging API lists deleted resources for a while
            tagged = [r["ResourceARN"] for page in tagging.get_paginator("get_resources").paginate(
                TagFilters=[{"Key": TAG, "Values": [run.run_id]}]) for r in page["ResourceTagMappingList"]]
            if not tagged or attempt == 19:
                break
            self.sleep(30)
        found += [f"tagged {arn}" for arn in tagged]
        ecr = self.session.client("ecr")
        try:
            ecr.describe_repositories(repositoryNames=[names.path("bastion")])
            found.append(f"ECR repository {names.path('bastion')}")
        except ecr.exceptions.RepositoryNotFoundException:
            pass
        groups = self.session.client("logs").describe_log_groups(logGroupNamePrefix=f"/{names.prefix}/")
        found += [f"log group {g['logGroupName']}" for g in groups["logGroups"]]
        clusters = self.session.client("ecs").describe_clusters(clusters=[names.name("bastion")])["clusters"]
        found += [f"ECS cluster {c['clusterName']}" for c in clusters if c.get("status") != "INACTIVE"]
        if file_system_arn:
            backup = self.session.client("backup")
            points = backup.list_recovery_points_by_resource(ResourceArn=file_system_arn).get("RecoveryPoints", [])
            for point in points:
                backup.delete_recovery_point(BackupVaultName=point["BackupVaultName"],
                                             RecoveryPointArn=point["RecoveryPointArn"])
                self.say(f"deleted the EFS backup {point['RecoveryPointArn']} (destroy does not remove backups)")
        return found
