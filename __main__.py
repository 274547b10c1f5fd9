"""airgap: a private-only AWS environment, reached only through AWS Systems Manager.

    VPC, isolated subnets only ── endpoint group ── interface endpoints (+ S3 gateway on every route table)
     ├─ SSM host (EC2) ── tcp/2049 ──► file share (EFS)
     └─ Fargate bastion (ECS Exec) ── port forwarding ──► SSM host
    operator ── aws ssm start-session ──► ssmmessages endpoint ──► host or bastion
"""

import pulumi

from components import config
from components.bastion import FargateBastion, FargateBastionArgs
from components.connections import Port
from components.endpoint_policies import allowed_buckets
from components.endpoints import VpcEndpoints, VpcEndpointsArgs
from components.file_share import FileShare, FileShareArgs
from components.flow_logs import VpcFlowLogs, VpcFlowLogsArgs
from components.image_reference import Reference
from components.network import PrivateNetwork, PrivateNetworkArgs
from components.ssm_host import SsmHost, SsmHostArgs

settings = config.load()

network = PrivateNetwork(
    "network",
    PrivateNetworkArgs(
        cidr=settings.vpc_cidr,
        subnets={zone: settings.subnet_cidr(zone) for zone in settings.availability_zones},
    ),
)
flow_logs = VpcFlowLogs(
    "flow-logs",
    VpcFlowLogsArgs(vpc_id=network.vpc.id, names=settings.names, region=settings.region, account=settings.account,
                    traffic=settings.flow_log_traffic, retention_days=settings.flow_log_retention_days,
                    keep_on_destroy=settings.production),
) if settings.flow_logs else None

# The only way out of the VPC, and what may pass: endpoint policies admit the account's own principals and
# resources, and the S3 gateway exactly the buckets the workloads read.
endpoints = VpcEndpoints(
    "endpoints",
    VpcEndpointsArgs(network=network, region=settings.region, services=settings.endpoints,
                     zones=settings.endpoint_zones, account=settings.account,
                     policy_supported=settings.endpoint_policy_supported,
                     s3_buckets=allowed_buckets(settings.region, settings.workloads, settings.s3_buckets),
                     asleep=settings.asleep),
)

share = FileShare("file-share", FileShareArgs(network=network, protect=settings.production)) \
    if settings.file_share else None

# The host and the bastion connect themselves to the endpoints (and the host to the share) before they start.
host = None
if settings.ssm_host:
    host = SsmHost(
        "ssm-host",
        SsmHostArgs(network=network, region=settings.region, zone=settings.availability_zones[0],
                    instance_type=settings.ssm_host_instance_type, endpoints=endpoints, file_share=share,
                    running=not settings.asleep),
    )

bastion = None
if settings.bastion != "off":
    bastion = FargateBastion(
        "bastion",
        FargateBastionArgs(network=network, region=settings.region, names=settings.names, mode=settings.bastion,
                           cpu=settings.bastion_cpu, memory=settings.bastion_memory,
                           log_retention_days=settings.log_retention_days,
                           image_source=settings.bastion_image_source,
                           image_tag=Reference.parse(settings.bastion_image_source).private_tag,
                           image=settings.bastion_image or None, kms=settings.exec_kms, endpoints=endpoints,
                           asleep=settings.asleep),
    )
    if host is not None:
        for port in settings.bastion_forward_ports:
            bastion.connections.allow_to(host.connections, Port.tcp(port), "port forwarding to the SSM host")

pulumi.export("region", settings.region)
# awake or asleep (airgap:asleep): what `dev.py session`, `bastion forward`, `sleep` and `wake` start from.
pulumi.export("state", "asleep" if settings.asleep else "awake")
pulumi.export("vpcId", network.vpc.id)
pulumi.export("subnetIds", network.subnet_ids)
pulumi.export("endpointServices", list(settings.endpoints))
if flow_logs is not None:
    pulumi.export("flowLogBucket", flow_logs.bucket.id)
pulumi.export("s3BucketsReachable", [b.name for b in allowed_buckets(settings.region, settings.workloads,
                                                                     settings.s3_buckets)])
pulumi.export("endpointDnsNames", endpoints.dns_names)
if host is not None:
    pulumi.export("ssmHostInstanceId", host.instance.id)
    pulumi.export("ssmHostPrivateIp", host.instance.private_ip)
    pulumi.export("ssmHostSession", host.instance.id.apply(
        lambda i: f"aws ssm start-session --region {settings.region} --target {i}"))
    # First boot reports each step on the console and ends with "done" or "FAILED: <step>".
    pulumi.export("ssmHostBootLog", host.instance.id.apply(
        lambda i: f"aws ec2 get-console-output --region {settings.region} --instance-id {i} --latest --output text"
                  " | grep airgap-first-boot"))
if share is not None:
    pulumi.export("fileShareId", share.file_system.id)
    pulumi.export("fileShareArn", share.file_system.arn)
if bastion is not None:
    pulumi.export("bastionMode", settings.bastion)
    pulumi.export("bastionForwardPorts", list(settings.bastion_forward_ports))
    pulumi.export("bastionCluster", bastion.cluster.name)
    pulumi.export("bastionService", bastion.service.name)
    pulumi.export("bastionCommands", bastion.commands)
    pulumi.export("bastionImage", bastion.image)
    pulumi.export("bastionImagePlatform", bastion.image_platform)
    if bastion.image_source:
        # The task cannot pull from the internet: the image is copied in from outside, once (forward does it too).
        pulumi.export("bastionImageSource", bastion.image_source)
        pulumi.export("bastionImageFill", f"python3 dev.py bastion image --stack {settings.stack}")
    # What the bastion's group may reach, for `dev.py bastion forward` to check --host/--port against.
    pulumi.export("bastionTargets", [{"name": "ssm-host", "address": host.instance.private_ip,
                                      "ports": list(settings.bastion_forward_ports)}]
                  if host is not None and settings.bastion_forward_ports else [])
    if host is not None and settings.bastion_forward_ports:
        port = str(settings.bastion_forward_ports[0])
        pulumi.export("bastionForwardToSsmHost", pulumi.Output.all(bastion.commands, host.instance.private_ip).apply(
            lambda v: v[0]["portForward"].replace("<hostIp>", v[1]).replace("<port>", port)))
