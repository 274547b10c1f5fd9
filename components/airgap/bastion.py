"""FargateBastion: a Fargate service with ECS Exec, for Session Manager port forwarding into the VPC.

A service without `enableExecuteCommand` answers `start-session` with TargetNotConnected; registering the task as a
hybrid managed instance instead needs `iam:PassRole` on the SSM service role and an activation. ECS Exec needs
neither: Fargate injects the SSM agent when the service enables exec, and the task role needs only the four
`ssmmessages` channel actions (Amazon ECS Developer Guide, "Monitor Amazon ECS containers with ECS Exec"), plus
exec logging, and kms:Decrypt when the channel is encrypted.

Session Manager target: `ecs:<cluster>_<taskId>_<containerRuntimeId>`; document
`AWS-StartPortForwardingSessionToRemoteHost` reaches any host the bastion's group may connect to.

What ECS Exec's logging and KMS settings cover: `aws ecs execute-command` sessions (the cluster's
executeCommandConfiguration). A port-forwarding `aws ssm start-session` to an `ecs:` target is a Session Manager
session: its data channel is TLS, and it is logged only by Session Manager's own preferences (a port-forwarding
session's content is not logged at all — Systems Manager User Guide, "Logging session data").

The image: from the stack's own ECR repository, never pulled from the internet by the task. A private VPC cannot
fill a pull-through cache on first pull (that needs a NAT path: Amazon ECR User Guide, "Amazon ECR interface VPC
endpoints", Considerations), so the repository is filled from outside by `python3 dev.py bastion image` (ops/image.py),
and `forward` fills it before it ever unparks the service. Tags are immutable, so a tag names one digest for the
repository's life; ECS also resolves the tag to that digest when it deploys (Amazon ECS "software version
consistency", July 2024).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_aws as aws

from airgap.connections import Connections, Port
from airgap.endpoints import EndpointAccess
from airgap.iam import role_policy, service_role, statement
from airgap.image_reference import EcrImage, Reference
from airgap.naming import BASTION_CONTAINER, ChildNames, PhysicalNames, check_component_name
from airgap.where import PARTITION, Where, where
from airgap.workload import ForwardTarget, Needs, Workload, buckets_of

# Amazon Linux from ECR Public: multi-arch, and anonymous pulls need no credentials to copy it.
DEFAULT_IMAGE_SOURCE = "public.ecr.aws/amazonlinux/amazonlinux:2023"
# The platform the copied image is taken for: Graviton Fargate costs less, and Amazon Linux is multi-arch.
COPIED_PLATFORM = ("linux/arm64", "ARM64")
PLATFORMS = {"X86_64": "linux/amd64", "ARM64": "linux/arm64"}  # ECS cpuArchitecture -> OCI platform


@dataclass(frozen=True)
class FargateBastionArgs:
    vpc_id: pulumi.Input[str]
    # Isolated subnets the task may be placed in.
    subnet_ids: Sequence[pulumi.Input[str]]
    # Physical names (cluster, service, task family, log groups, repository, key alias) start with these and the
    # component's name; None: the running project and stack.
    names: PhysicalNames | None = None
    mode: Literal["parked", "on"] = "parked"
    cpu: int = 256
    memory: int = 512
    log_retention_days: int = 30
    # Where the stack's repository gets its image from (copied in from outside the VPC: the airgap program's
    # `dev.py bastion image`), and the tag the copy carries there (default: the source's tag, or its digest).
    image_source: str = DEFAULT_IMAGE_SOURCE
    image_tag: str = ""
    # A private ECR image URI the user maintains instead; then the stack owns no repository.
    image: str | None = None
    # The CPU architecture that image is built for (the copy is always ARM64): "X86_64" or "ARM64".
    image_architecture: Literal["X86_64", "ARM64"] = "X86_64"
    # The endpoints its tasks pull, log and talk through: connected before the service exists.
    endpoints: EndpointAccess | None = None
    # Encrypt the exec channel and both log groups with a key of the stack's own.
    kms: bool = False
    # Asleep: no task whatever the mode (its endpoints are gone); waking restores the mode's count.
    asleep: bool = False
    # What the cluster and service wait for besides their own parts: ECS's service-linked role, on an account that
    # never used ECS (CreateCluster and CreateService fail until it exists and IAM has propagated it).
    depends_on: Sequence[pulumi.Resource] = ()


class FargateBastion(pulumi.ComponentResource):
    connections: Connections
    cluster: aws.ecs.Cluster
    service: aws.ecs.Service
    task_role: aws.iam.Role
    execution_role: aws.iam.Role

    @classmethod
    def needs(cls, kms: bool = False) -> Needs:
        """Pulling its image from private ECR (ecr.api, ecr.dkr, and S3 for the layers: ECR User Guide, "Amazon ECR
        interface VPC endpoints"), awslogs (logs), ECS Exec (ssmmessages; kms for an encrypted channel)."""
        return Needs(frozenset({"ecr.api", "ecr.dkr", "s3", "logs", "ssmmessages", *(["kms"] if kms else [])}),
                     buckets_of("bastion"))

    def forward_targets(self) -> list[ForwardTarget]:
        return []  # it forwards; it serves nothing

    def allow_forwarding_to(self, *workloads: Workload) -> list[pulumi.Resource]:
        """Open each workload's forward targets to the bastion: egress here, ingress on the workload's group."""
        rules: list[pulumi.Resource] = []
        for workload in workloads:
            for target in workload.forward_targets():
                for port in target.ports:
                    rules += self.connections.allow_to(workload, Port.tcp(port),
                                                       f"port forwarding to {target.what or target.name}")
        return rules

    def __init__(self, name: str, args: FargateBastionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airgap:compute:FargateBastion", check_component_name("FargateBastion", name), None, opts)
        self._names = own = ChildNames(name, first_name="bastion")
        # ARNs in the IAM policies are spelt from the account and explicit names, not taken from the resources'
        # outputs: then every policy document is known in a first preview and the policy pack can read it.
        at = where(self)
        self._physical = names = args.names or PhysicalNames.of_this_stack()
        # Physical names, known before anything exists (operator policies are spelt from them).
        self.cluster_name = self.service_name = names.name(own())
        self.repository_name = names.path(own()) if not args.image else None
        self._log_names = (names.log_group(own()), names.log_group(own("exec")))
        key = self._exec_key(args, at) if args.kms else None
        task_logs = self._cluster(args, key)
        self.repository: aws.ecr.Repository | None = None
        image, repository_arn, copied = self._image(args, at)
        self._roles(repository_arn, key, at)
        platform = COPIED_PLATFORM[1] if copied else args.image_architecture  # the copy is always ARM64
        task = self._task(args, image, platform, task_logs, at.region)
        self._service(args, task)
        self.image = image
        self.image_source = args.image_source if copied else ""
        self.image_platform = COPIED_PLATFORM[0] if copied else PLATFORMS[args.image_architecture]
        self.commands = pulumi.Output.all(self.cluster.name, self.service.name).apply(
            lambda found: session_commands(found[0], found[1], at.region)
        )
        self.register_outputs(
            {"clusterName": self.cluster.name, "serviceName": self.service.name, "commands": self.commands,
             "image": image}
        )

    def _cluster(self, args: FargateBastionArgs, key: aws.kms.Key | None) -> aws.cloudwatch.LogGroup:
        """The task's and the exec sessions' log groups, and the cluster that logs every exec session; returns the
        task's group."""
        own, child = self._names, pulumi.ResourceOptions(parent=self)
        key_arn = key.arn if key is not None else None
        task_log_name, exec_log_name = self._log_names

        def log_group(logical: str, name: str) -> aws.cloudwatch.LogGroup:
            return aws.cloudwatch.LogGroup(logical, name=name, retention_in_days=args.log_retention_days,
                                           kms_key_id=key_arn, opts=child)

        task_logs = log_group(own("task"), task_log_name)
        exec_logs = log_group(own("exec"), exec_log_name)
        self.cluster = aws.ecs.Cluster(
            own(),
            name=self.cluster_name,
            configuration=aws.ecs.ClusterConfigurationArgs(
                execute_command_configuration=aws.ecs.ClusterConfigurationExecuteCommandConfigurationArgs(
                    kms_key_id=key_arn,
                    logging="OVERRIDE",
                    log_configuration=aws.ecs.ClusterConfigurationExecuteCommandConfigurationLogConfigurationArgs(
                        cloud_watch_log_group_name=exec_logs.name,
                        cloud_watch_encryption_enabled=args.kms,
                    ),
                )
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
        )
        return task_logs

    def _roles(self, repository_arn: str, key: aws.kms.Key | None, at: Where) -> None:
        """The execution role (ECS pulls and logs) and the task role (ECS Exec from inside), each least privilege."""
        own = self._names
        task_log_name, exec_log_name = self._log_names

        def log_streams(name: str) -> str:
            return f"arn:{PARTITION}:logs:{at.region}:{at.account}:log-group:{name}:*"

        self.execution_role = service_role(
            own("execution"), "ecs-tasks.amazonaws.com", "Bastion: ECS pulls the image and ships its logs", self
        )
        pull = [
            # GetAuthorizationToken has no resource to scope to.
            statement("EcrLogin", ["ecr:GetAuthorizationToken"], ["*"]),
            statement("PullImage", ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer",
                                    "ecr:BatchGetImage"], [repository_arn]),
            statement("ShipTaskLogs", ["logs:CreateLogStream", "logs:PutLogEvents"],
                      [log_streams(task_log_name)]),
        ]
        role_policy(own("execution"), self.execution_role, pull, self)
        self.task_role = service_role(
            own("task"), "ecs-tasks.amazonaws.com", "Bastion: ECS Exec sessions from inside the task", self
        )
        exec_grants = [
            # The channel actions have no resource to scope to; these four are all ECS Exec needs.
            statement("SessionChannels", ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                                          "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"], ["*"]),
            statement("FindExecLogGroup", ["logs:DescribeLogGroups"], ["*"]),
            statement("WriteExecLogs", ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                      [log_streams(exec_log_name)]),
        ]
        if key is not None:
            # Scoped by the key's alias, a name known before the key exists.
            exec_grants.append(statement(
                "DecryptExecChannel", ["kms:Decrypt"], [f"arn:{PARTITION}:kms:{at.region}:{at.account}:key/*"],
                Condition={"ForAnyValue:StringEquals": {"kms:ResourceAliases": self.key_alias}}))
        role_policy(own("task"), self.task_role, exec_grants, self)

    def _task(self, args: FargateBastionArgs, image: str, platform: str, task_logs: aws.cloudwatch.LogGroup,
              region: str) -> aws.ecs.TaskDefinition:
        own = self._names
        return aws.ecs.TaskDefinition(
            own(),
            family=self.cluster_name,  # the task family, named like its cluster and service
            requires_compatibilities=["FARGATE"],
            network_mode="awsvpc",
            cpu=str(args.cpu),
            memory=str(args.memory),
            runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(operating_system_family="LINUX",
                                                                       cpu_architecture=platform),
            execution_role_arn=self.execution_role.arn,
            task_role_arn=self.task_role.arn,
            container_definitions=json.dumps([self._container(image, self._log_names[0], region)]),
            opts=pulumi.ResourceOptions(
                parent=self,
                # The awslogs driver needs its group; the image reference names the repository.
                depends_on=[task_logs, *([self.repository] if self.repository is not None else [])],
            ),
        )

    def _service(self, args: FargateBastionArgs, task: aws.ecs.TaskDefinition) -> None:
        own = self._names
        self.connections = Connections.with_new_group(
            own(), vpc_id=args.vpc_id, owner=self,
            description="Fargate bastion: no inbound; outbound only to the endpoints and forwarding targets",
        )
        ready = args.endpoints.allow_from(self.connections) if args.endpoints is not None else []
        self.service = aws.ecs.Service(
            own(),
            name=self.service_name,
            cluster=self.cluster.arn,
            task_definition=task.arn,
            launch_type="FARGATE",
            platform_version="LATEST",
            # parked: the service exists (so unparking is one desired-count change) but runs and costs nothing.
            desired_count=1 if args.mode == "on" and not args.asleep else 0,
            enable_execute_command=True,  # without it the target never connects (TargetNotConnected)
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=list(args.subnet_ids),
                security_groups=[self.connections.group.id],
                assign_public_ip=False,
            ),
            propagate_tags="SERVICE",
            # A task started before its endpoints and rules exist cannot pull its image or reach ssmmessages.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*ready, *args.depends_on]),
        )

    @staticmethod
    def _container(image: str, log_group: str, region: str) -> dict:
        return {
            "name": BASTION_CONTAINER,
            "image": image,
            "essential": True,
            # Nothing to serve: the task exists to host exec sessions and port forwarding.
            "command": ["sleep", "infinity"],
            # An init process reaps the session processes the SSM agent starts (AWS's ECS Exec guidance).
            "linuxParameters": {"initProcessEnabled": True},
            # Only values that differ from ECS's defaults: an explicit false that ECS leaves out of its answer
            # replaces the task definition on every `pulumi up` (terraform-provider-aws task_definition_equivalency.go).
            # Unset: not privileged, and the writable root file system ECS Exec's agent needs.
            "logConfiguration": {
                "logDriver": "awslogs",
                # The group is created by the stack (with retention); awslogs-create-group would make one without.
                "options": {"awslogs-group": log_group, "awslogs-region": region,
                            "awslogs-stream-prefix": BASTION_CONTAINER},
            },
        }

    @property
    def key_alias(self) -> str:
        """The exec key's alias (`alias/<prefix>-<name>-exec`): a name known before the key exists."""
        return f"alias/{self._physical.name(self._names('exec'))}"

    def _image(self, args: FargateBastionArgs, at: Where) -> tuple[str, str, bool]:
        """(image URI, the repository ARN the execution role may pull from, whether the stack copies the image)."""
        custom = EcrImage.parse(args.image) if args.image else None
        if args.image and custom is not None:  # config.py accepts no other form
            return args.image, custom.repository_arn(PARTITION), False
        name = self._physical.path(self._names())
        self.repository = aws.ecr.Repository(
            self._names("image"),
            name=name,
            # A tag names one image for the repository's life: the bastion never runs an image swapped under it.
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
            # It holds only a copy of a public image: `pulumi destroy` removes it with its images.
            force_delete=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Spelt from the account id and the explicit name, so the task definition is known in a first preview.
        tag = args.image_tag or Reference.parse(args.image_source).private_tag
        image = f"{at.account}.dkr.ecr.{at.region}.amazonaws.com/{name}:{tag}"
        return image, f"arn:{PARTITION}:ecr:{at.region}:{at.account}:repository/{name}", True

    def _exec_key(self, args: FargateBastionArgs, at: Where) -> aws.kms.Key:
        root = f"arn:{PARTITION}:iam::{at.account}:root"
        log_groups = f"arn:{PARTITION}:logs:{at.region}:{at.account}:log-group:/{self._physical.prefix}/*"
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                # The account's IAM policies decide who else may use the key (the default key policy).
                {"Sid": "AccountAdministers", "Effect": "Allow", "Principal": {"AWS": root},
                 "Action": "kms:*", "Resource": "*"},
                # CloudWatch Logs encrypts the stack's two log groups, and nothing else, with it.
                {"Sid": "LogsEncryptTheStackLogGroups", "Effect": "Allow",
                 "Principal": {"Service": f"logs.{at.region}.amazonaws.com"},
                 "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                            "kms:DescribeKey"],
                 "Resource": "*",
                 "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}}},
            ],
        }
        key = aws.kms.Key(
            self._names("exec"),
            description=f"{self._physical.prefix}: ECS Exec (execute-command) channel and bastion logs",
            enable_key_rotation=True,
            deletion_window_in_days=7,
            policy=json.dumps(policy),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.kms.Alias(self._names("exec"), name=self.key_alias, target_key_id=key.key_id,
                      opts=pulumi.ResourceOptions(parent=self))
        return key


def session_commands(cluster: str, service: str, region: str) -> dict[str, str]:
    """The exact commands to reach a host through the bastion (placeholders in <angle brackets>)."""
    task = (f"aws ecs list-tasks --region {region} --cluster {cluster} --service-name {service} "
            "--desired-status RUNNING --query 'taskArns[0]' --output text")
    runtime = (f"aws ecs describe-tasks --region {region} --cluster {cluster} --tasks <taskArn> "
               f"--query \"tasks[0].containers[?name=='{BASTION_CONTAINER}'].runtimeId | [0]\" --output text")
    forward = (f"aws ssm start-session --region {region} --target ecs:{cluster}_<taskId>_<runtimeId> "
               "--document-name AWS-StartPortForwardingSessionToRemoteHost "
               "--parameters '{\"host\":[\"<hostIp>\"],\"portNumber\":[\"<port>\"],\"localPortNumber\":[\"<port>\"]}'")
    unpark = f"aws ecs update-service --region {region} --cluster {cluster} --service {service} --desired-count 1"
    return {"unpark": unpark, "findTask": task, "findRuntimeId": runtime, "portForward": forward}
