"""The live acceptance run's real world: the Automation API stack, the ops CLI and `forward` as processes, and AWS
through boto3 — including "nothing left", asked of each service, since the tagging API keeps listing deleted
resources for hours (Resource Groups Tagging API reference, GetResources: "recently deleted resources may still
appear")."""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ops.acceptance import BOOT_STATUS, TAG, AcceptanceError, Run
from program.contract import Out

ROOT = Path(__file__).resolve().parent.parent


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

    def preview_changes(self) -> dict[str, int]:
        return {str(getattr(op, "value", op)): n for op, n in self.stack.preview(color="never").change_summary.items()}

    def outputs(self) -> Mapping[str, Any]:
        return self.stack.outputs()

    def destroy(self, *, on_output: Callable[[str], Any]) -> Any:
        return self.stack.destroy(on_output=on_output, color="never")

    def remove(self) -> None:
        self.stack.workspace.remove_stack(self.name)


def tool(*args: str) -> tuple[int, str]:
    """`python3 dev.py <args>`, as an operator runs it, non-interactively."""
    done = subprocess.run([sys.executable, "-m", "ops", *args], cwd=ROOT, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=3600)
    print(done.stdout, end="")
    return done.returncode, done.stdout + done.stderr


class ProcessForward:
    """`python3 dev.py bastion forward` in its own process group; stop() sends Ctrl-C, as a user would."""

    def __init__(self, outputs: Mapping[str, Any], run: Run, to: str | None = None) -> None:
        self._saved = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)  # noqa: SIM115
        json.dump(dict(outputs), self._saved)
        self._saved.close()
        # Kept open for the life of the process it collects the errors of.
        self._log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ops", "forward", "--stack", run.stack, "--outputs", self._saved.name,
             "--local-port", str(run.local_port), *(["--to", to] if to else [])],
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
        os.unlink(self._saved.name)
        return self.process.wait()

    def errors(self) -> str:
        self._log.seek(0)
        return self._log.read()


def fetch_url(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read()


def postgres_answer(port: int) -> bytes:
    """What a PostgreSQL server on localhost:`port` answers an SSLRequest: b"S" or b"N" (message: Int32 8, Int32
    80877103; PostgreSQL documentation, "Message Formats", SSLRequest). Anything else is not PostgreSQL."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(struct.pack("!ii", 8, 80877103))
        return connection.recv(1)


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

    def asleep_problems(self, outputs: Mapping[str, Any]) -> list[str]:
        """What AWS says of an asleep stack: the host stopped, no interface endpoint in its VPC, no task."""
        problems, ec2 = [], self.session.client("ec2")
        host = outputs.get(Out.SSM_HOST_INSTANCE_ID)
        if host:
            state = ec2.describe_instances(InstanceIds=[host])["Reservations"][0]["Instances"][0]["State"]["Name"]
            if state not in ("stopped", "stopping"):
                problems.append(f"the SSM host is {state}")
        interfaces = ec2.describe_vpc_endpoints(Filters=[
            {"Name": "vpc-id", "Values": [str(outputs.get(Out.VPC_ID))]},
            {"Name": "vpc-endpoint-type", "Values": ["Interface"]},
            {"Name": "vpc-endpoint-state", "Values": ["pendingAcceptance", "pending", "available"]}])["VpcEndpoints"]
        if interfaces:
            problems.append(f"{len(interfaces)} interface endpoints still exist")
        if outputs.get(Out.BASTION_CLUSTER) and self.desired_count(outputs[Out.BASTION_CLUSTER],
                                                                outputs[Out.BASTION_SERVICE]):
            problems.append("the bastion still asks for a task")
        return problems

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

    def delete_task_definitions(self, run: Run) -> list[str]:
        """`pulumi destroy` deregisters the bastion's task definitions; AWS keeps them INACTIVE until deleted
        (ECS API reference, DeleteTaskDefinitions)."""
        ecs = self.session.client("ecs")
        found = ecs.list_task_definitions(familyPrefix=run.names.name("bastion"), status="INACTIVE")
        arns = found.get("taskDefinitionArns", [])
        if arns:
            ecs.delete_task_definitions(taskDefinitions=arns[:10])
        return [a.rsplit("/", 1)[-1] for a in arns[:10]]

    def leftovers(self, run: Run, file_system_arn: str | None) -> list[str]:
        """What is left of this run, each confirmed by its own service; EFS backups (not the stack's) deleted."""
        from ops.leftovers import confirmed, named_leftovers

        tagging = self.session.client("resourcegroupstaggingapi")
        tagged = [r["ResourceARN"] for page in tagging.get_paginator("get_resources").paginate(
            TagFilters=[{"Key": TAG, "Values": [run.run_id]}]) for r in page["ResourceTagMappingList"]]
        found = [f"tagged {arn}" for arn in tagged if confirmed(self.session, arn)]
        found += named_leftovers(self.session, run)
        if file_system_arn:
            backup = self.session.client("backup")
            points = backup.list_recovery_points_by_resource(ResourceArn=file_system_arn).get("RecoveryPoints", [])
            for point in points:
                backup.delete_recovery_point(BackupVaultName=point["BackupVaultName"],
                                             RecoveryPointArn=point["RecoveryPointArn"])
                self.say(f"deleted the EFS backup {point['RecoveryPointArn']} (destroy does not remove backups)")
        return found

    def delete_final_snapshot(self, name: str) -> list[str]:
        """The database's final snapshot, which `destroy` takes by design (skip_final_snapshot is false): deleted
        once available and reported; one that cannot be deleted is a leftover."""
        rds = self.session.client("rds")
        try:
            rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=name)
        except rds.exceptions.DBClusterSnapshotNotFoundFault:
            return []
        try:
            rds.get_waiter("db_cluster_snapshot_available").wait(DBClusterSnapshotIdentifier=name,
                                                                WaiterConfig={"Delay": 15, "MaxAttempts": 40})
            rds.delete_db_cluster_snapshot(DBClusterSnapshotIdentifier=name)
        except Exception as err:  # reported as a leftover, never hidden
            return [f"the database's final snapshot {name} ({type(err).__name__}: {err})"]
        self.say(f"deleted the database's final snapshot {name} (destroy keeps one by design)")
        return []
