"""FargateBastion: a Fargate service with ECS Exec, for Session Manager port forwarding into the VPC.

Seed 001 ran a service without `enableExecuteCommand` and got TargetNotConnected; seed 002 registered the task as a
hybrid managed instance, with `iam:PassRole` on `*`. ECS Exec needs neither: Fargate injects the SSM agent when the
service enables exec, and the task role needs only the four `ssmmessages` channel actions (plus exec logging, and
kms:Decrypt when the channel is encrypted).

Session Manager target: `ecs:<cluster>_<taskId>_<containerRuntimeId>`; document
`AWS-StartPortForwardingSessionToRemoteHost` reaches any host the bastion's group may connect to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_aws as aws

from components.connections import Connections
from components.iam import PARTITION, role_policy, service_role, statement
from components.network import PrivateNetwork

CONTAINER = "bastion"
BUILT_IN_IMAGE = "amazonlinux/amazonlinux:2023"  # on ECR Public, pulled through the stack's own registry


@dataclass(frozen=True)
class FargateBastionArgs:
    network: PrivateNetwork
    region: str
    stack: str
    mode: Literal["parked", "on"]
    cpu: int
    memory: int
    log_retention_days: int
    # A private ECR image URI; None pulls Amazon Linux from ECR Public through a pull-through cache rule, so no
    # Docker build and no NAT are needed.
    image: str | None = None
    # Encrypt the exec channel and both log groups with a key of the stack's own.
    kms: bool = False


class FargateBastion(pulumi.ComponentResource):
    connections: Connections
    cluster: aws.ecs.Cluster
    service: aws.ecs.Service
    task_role: aws.iam.Role
    execution_role: aws.iam.Role

    def __init__(self, name: str, args: FargateBastionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airgap:compute:FargateBastion", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # ARNs in the IAM policies are spelt from the account and explicit names, not taken from the resources'
        # outputs: then every policy document is known in a first preview and the policy pack can read it.
        account = aws.get_caller_identity().account_id
        log_prefix = f"/airgap/{args.stack}"
        task_log_name, exec_log_name = f"{log_prefix}/bastion", f"{log_prefix}/bastion-exec"

        def log_streams(name: str) -> str:
            return f"arn:{PARTITION}:logs:{args.region}:{account}:log-group:{name}:*"

        key = self._exec_key(args, account, log_prefix) if args.kms else None
        key_arn = key.arn if key is not None else None

        def log_group(logical: str, name: str) -> aws.cloudwatch.LogGroup:
            return aws.cloudwatch.LogGroup(logical, name=name, retention_in_days=args.log_retention_days,
                                           kms_key_id=key_arn, opts=child)

        task_logs = log_group("bastion-task", task_log_name)
        exec_logs = log_group("bastion-exec", exec_log_name)

        self.cluster = aws.ecs.Cluster(
            "bastion",
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
            opts=child,
        )

        self._pull_through_rule: aws.ecr.PullThroughCacheRule | None = None
        image, repository_arns, pull_through = self._image(args, account)

        self.execution_role = service_role(
            "bastion-execution", "ecs-tasks.amazonaws.com", "Bastion: ECS pulls the image and ships its logs", self
        )
        pull = [
            # GetAuthorizationToken has no resource to scope to.
            statement("EcrLogin", ["ecr:GetAuthorizationToken"], ["*"]),
            statement("PullImage", ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer",
                                    "ecr:BatchGetImage"], repository_arns),
            statement("ShipTaskLogs", ["logs:CreateLogStream", "logs:PutLogEvents"],
                      [log_streams(task_log_name)]),
        ]
        if pull_through:
            # The first pull through the cache imports the image and creates its repository.
            pull.append(statement("PullThroughCache", ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
                                  repository_arns))
        role_policy("bastion-execution", self.execution_role, pull, self)

        self.task_role = service_role(
            "bastion-task", "ecs-tasks.amazonaws.com", "Bastion: ECS Exec sessions from inside the task", self
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
                "DecryptExecChannel", ["kms:Decrypt"], [f"arn:{PARTITION}:kms:{args.region}:{account}:key/*"],
                Condition={"ForAnyValue:StringEquals": {"kms:ResourceAliases": self.key_alias(args.stack)}}))
        role_policy("bastion-task", self.task_role, exec_grants, self)

        container = json.dumps([self._container(image, task_log_name, args.region)])
        task = aws.ecs.TaskDefinition(
            "bastion",
            family=f"airgap-{args.stack}-bastion",
            requires_compatibilities=["FARGATE"],
            network_mode="awsvpc",
            cpu=str(args.cpu),
            memory=str(args.memory),
            # The built-in Amazon Linux image is multi-arch and Graviton Fargate costs less; a custom image is
            # assumed to be x86_64, the common case.
            runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                operating_system_family="LINUX", cpu_architecture="ARM64" if pull_through else "X86_64"
            ),
            execution_role_arn=self.execution_role.arn,
            task_role_arn=self.task_role.arn,
            container_definitions=container,
            opts=pulumi.ResourceOptions(
                parent=self,
                # The first pull needs the cache rule, and the awslogs driver needs its group.
                depends_on=[task_logs, *([self._pull_through_rule] if pull_through else [])],
            ),
        )

        self.connections = Connections.with_new_group(
            "bastion", vpc_id=args.network.vpc.id, owner=self,
            description="Fargate bastion: no inbound; outbound only to the endpoints and forwarding targets",
        )
        group = self.connections.group
        self.service = aws.ecs.Service(
            "bastion",
            cluster=self.cluster.arn,
            task_definition=task.arn,
            launch_type="FARGATE",
            platform_version="LATEST",
            # parked: the service exists (so unparking is one desired-count change) but runs and costs nothing.
            desired_count=1 if args.mode == "on" else 0,
            enable_execute_command=True,  # seed 001: without it the target never connects
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=[s.id for s in args.network.subnets.values()],
                security_groups=[group.id],
                assign_public_ip=False,
            ),
            propagate_tags="SERVICE",
            opts=child,
        )

        self.commands = pulumi.Output.all(self.cluster.name, self.service.name).apply(
            lambda names: session_commands(names[0], names[1], args.region)
        )
        self.register_outputs(
            {"clusterName": self.cluster.name, "serviceName": self.service.name, "commands": self.commands}
        )

    @staticmethod
    def _container(image: str, log_group: str, region: str) -> dict:
        return {
            "name": CONTAINER,
            "image": image,
            "essential": True,
            # Nothing to serve: the task exists to host exec sessions and port forwarding.
            "command": ["sleep", "infinity"],
            # An init process reaps the session processes the SSM agent starts (AWS's ECS Exec guidance).
            "linuxParameters": {"initProcessEnabled": True},
            "privileged": False,
            # ECS Exec's agent writes to the container's file system; a read-only root breaks it.
            "readonlyRootFilesystem": False,
            "logConfiguration": {
                "logDriver": "awslogs",
                # The group is created by the stack (with retention); awslogs-create-group would make one without.
                "options": {"awslogs-group": log_group, "awslogs-region": region, "awslogs-stream-prefix": CONTAINER},
            },
        }

    @staticmethod
    def key_alias(stack: str) -> str:
        return f"alias/airgap-{stack}-bastion-exec"

    def _image(self, args: FargateBastionArgs, account: str) -> tuple[str, list[str], bool]:
        """(image URI, the repository ARNs the execution role may pull from, whether it is a pull-through)."""
        if args.image:
            registry, _, path = args.image.partition("/")
            repository = path.split("@")[0].split(":")[0]
            account_id, region = registry.split(".")[0], registry.split(".")[3]
            return args.image, [f"arn:{PARTITION}:ecr:{region}:{account_id}:repository/{repository}"], False
        prefix = f"{args.stack}-ecr-public"[:30]
        rule = aws.ecr.PullThroughCacheRule(
            "ecr-public",
            ecr_repository_prefix=prefix,
            upstream_registry_url="public.ecr.aws",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._pull_through_rule = rule
        # The cache lives in the account's own registry; spelt from the account id so the task definition is
        # known in a first preview (the task definition depends on the rule explicitly, below).
        image = f"{account}.dkr.ecr.{args.region}.amazonaws.com/{prefix}/{BUILT_IN_IMAGE}"
        return image, [f"arn:{PARTITION}:ecr:{args.region}:{account}:repository/{prefix}/*"], True

    def _exec_key(self, args: FargateBastionArgs, account: str, log_prefix: str) -> aws.kms.Key:
        root = f"arn:{PARTITION}:iam::{account}:root"
        log_groups = f"arn:{PARTITION}:logs:{args.region}:{account}:log-group:{log_prefix}/*"
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                # The account's IAM policies decide who else may use the key (the default key policy).
                {"Sid": "AccountAdministers", "Effect": "Allow", "Principal": {"AWS": root},
                 "Action": "kms:*", "Resource": "*"},
                # CloudWatch Logs encrypts the stack's two log groups, and nothing else, with it.
                {"Sid": "LogsEncryptTheStackLogGroups", "Effect": "Allow",
                 "Principal": {"Service": f"logs.{args.region}.amazonaws.com"},
                 "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                            "kms:DescribeKey"],
                 "Resource": "*",
                 "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}}},
            ],
        }
        key = aws.kms.Key(
            "bastion-exec",
            description=f"airgap {args.stack}: ECS Exec channel and bastion logs",
            enable_key_rotation=True,
            deletion_window_in_days=7,
            policy=json.dumps(policy),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.kms.Alias("bastion-exec", name=self.key_alias(args.stack), target_key_id=key.key_id,
                      opts=pulumi.ResourceOptions(parent=self))
        return key


def session_commands(cluster: str, service: str, region: str) -> dict[str, str]:
    """The exact commands to reach a host through the bastion (placeholders in <angle brackets>)."""
    task = (f"aws ecs list-tasks --region {region} --cluster {cluster} --service-name {service} "
            "--desired-status RUNNING --query 'taskArns[0]' --output text")
    runtime = (f"aws ecs describe-tasks --region {region} --cluster {cluster} --tasks <taskArn> "
               f"--query \"tasks[0].containers[?name=='{CONTAINER}'].runtimeId | [0]\" --output text")
    forward = (f"aws ssm start-session --region {region} --target ecs:{cluster}_<taskId>_<runtimeId> "
               "--document-name AWS-StartPortForwardingSessionToRemoteHost "
               "--parameters '{\"host\":[\"<hostIp>\"],\"portNumber\":[\"<port>\"],\"localPortNumber\":[\"<port>\"]}'")
    unpark = f"aws ecs update-service --region {region} --cluster {cluster} --service {service} --desired-count 1"
    return {"unpark": unpark, "findTask": task, "findRuntimeId": runtime, "portForward": forward}
