"""Programs written for the purpose, as real programs write them: the classic mistakes of private VPCs, the same intent
on resources airgap never creates, several regions, and foreign shapes (several VPCs, a VPC the pack cannot trace,
AWS's defaults left unset, ordinary ECS services). Run through the harness with `conftest.run_program`."""

PLAIN_NETWORK = '''
import json
import pulumi
import pulumi_aws as aws

vpc = aws.ec2.Vpc("vpc", cidr_block="172.31.0.0/24", enable_dns_support=True, enable_dns_hostnames=True)
subnet = aws.ec2.Subnet("private-az1", vpc_id=vpc.id, cidr_block="172.31.0.0/28", availability_zone="ap-northeast-1a")
table = aws.ec2.RouteTable("private-az1", vpc_id=vpc.id)
aws.ec2.RouteTableAssociation("private-az1", subnet_id=subnet.id, route_table_id=table.id)
'''

EXEC_NEVER_ENABLED = PLAIN_NETWORK + '''
# A Fargate service behind seven endpoints whose group is open to the world, without ECS Exec.
endpoint_group = aws.ec2.SecurityGroup("endpoint", vpc_id=vpc.id, description="Allow https access",
    ingress=[{"protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"]}],
    egress=[{"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"]}])
aws.ec2.VpcEndpoint("s3", vpc_id=vpc.id, service_name="com.amazonaws.ap-northeast-1.s3",
                    vpc_endpoint_type="Gateway", route_table_ids=[table.id])
for service in ("ecr.api", "ecr.dkr", "logs", "ssm", "ec2messages", "ssmmessages"):
    aws.ec2.VpcEndpoint(service.replace(".", "-"), vpc_id=vpc.id,
                        service_name=f"com.amazonaws.ap-northeast-1.{service}", vpc_endpoint_type="Interface",
                        private_dns_enabled=True, subnet_ids=[subnet.id], security_group_ids=[endpoint_group.id])
cluster = aws.ecs.Cluster("demo")
# One console-made role for both jobs, by ARN.
role = "arn:aws:iam::123456789012:role/demoExecutionRole"
task = aws.ecs.TaskDefinition("demo", family="demo-ecs-task", network_mode="awsvpc",
    requires_compatibilities=["FARGATE"], cpu="1024", memory="3072",
    execution_role_arn=role, task_role_arn=role,
    container_definitions=json.dumps([{"name": "nginx-demo", "essential": True,
        "image": "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/nginx-demo",
        "portMappings": [{"containerPort": 80}, {"containerPort": 443}],
        "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-create-group": "true",
            "awslogs-group": "/ecs/nginx-demo-task", "awslogs-region": "ap-northeast-1",
            "awslogs-stream-prefix": "ecs"}}}]))
private = aws.ec2.SecurityGroup("private", vpc_id=vpc.id, description="Allow access all",
    ingress=[{"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"]}],
    egress=[{"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"]}])
aws.ecs.Service("demo", cluster=cluster.name, task_definition=task.arn, launch_type="FARGATE",
    network_configuration={"subnets": [subnet.id], "assign_public_ip": False, "security_groups": [private.id]})
# The hybrid-activation workaround: iam:PassRole on every role for the task.
task_role = aws.iam.Role("ecs-task", assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
aws.iam.RolePolicy("ssm-activation", role=task_role.id, policy=json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["ssm:CreateActivation", "ssm:DeleteActivation", "iam:PassRole"],
     "Resource": "*"}]}))
'''

ENDPOINT_GROUP_ADMITS_NOTHING = PLAIN_NETWORK + '''
# An SSM host whose endpoint group admits nothing (the root cause), with an unencrypted disk.
endpoint_group = aws.ec2.SecurityGroup("endpoint", vpc_id=vpc.id, description="PWork VPC Endpoint SecurityGroup")
aws.ec2.DefaultSecurityGroup("default", vpc_id=vpc.id)
for service in ("ssm", "ssmmessages"):
    aws.ec2.VpcEndpoint(service, vpc_id=vpc.id, service_name=f"com.amazonaws.ap-northeast-1.{service}",
                        vpc_endpoint_type="Interface", private_dns_enabled=True, subnet_ids=[subnet.id],
                        security_group_ids=[endpoint_group.id])
host_group = aws.ec2.SecurityGroup("instance", vpc_id=vpc.id, description="PWork Instance SSM OutPut SecurityGroup")
aws.vpc.SecurityGroupEgressRule("to-endpoints", security_group_id=host_group.id, ip_protocol="tcp",
                                from_port=443, to_port=443, referenced_security_group_id=endpoint_group.id)
role = aws.iam.Role("ssm", assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
aws.iam.RolePolicyAttachment("core", role=role.name,
                             policy_arn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")
profile = aws.iam.InstanceProfile("ssm", role=role.name)
aws.ec2.Instance("pwork", ami="ami-09cd9fdbf26acc6b4", instance_type="t2.micro", subnet_id=subnet.id,
                 vpc_security_group_ids=[host_group.id], iam_instance_profile=profile.name,
                 metadata_options={"http_tokens": "required"},
                 root_block_device={"encrypted": False, "volume_type": "gp3", "volume_size": 8})
'''

GROUPS_NAMING_EACH_OTHER = PLAIN_NETWORK + '''
# EC2 and EFS groups naming each other inline, as far as Python lets it be written. (The reverse reference
# cannot even be expressed here: the other group does not exist yet. CDK's lazy tokens allowed it, hence the cycle.)
ec2_group = aws.ec2.SecurityGroup("sg-ec2", vpc_id=vpc.id, description="Security Group for EC2")
aws.ec2.SecurityGroup("sg-efs", vpc_id=vpc.id, description="Security Group for EFS",
    ingress=[{"protocol": "tcp", "from_port": 2049, "to_port": 2049, "security_groups": [ec2_group.id]}],
    egress=[{"protocol": "tcp", "from_port": 2049, "to_port": 2049, "security_groups": [ec2_group.id]}])
'''


WIDER_BAD = PLAIN_NETWORK + '''
# Everything here is a way in, or wider than it needs to be.
template = aws.ec2.LaunchTemplate("web", image_id="ami-0123456789abcdef0", instance_type="t4g.micro",
    key_name="ops", network_interfaces=[{"associate_public_ip_address": "true", "subnet_id": subnet.id}])
aws.autoscaling.Group("web", min_size=1, max_size=2, vpc_zone_identifiers=[subnet.id],
                      launch_template={"id": template.id, "version": "$Latest"})
aws.ec2.LaunchConfiguration("legacy", image_id="ami-0123456789abcdef0", instance_type="t3.micro",
                            associate_public_ip_address=True, key_name="ops")
aws.lb.LoadBalancer("front", load_balancer_type="application", subnets=[subnet.id])
aws.rds.Instance("db", engine="postgres", instance_class="db.t4g.micro", allocated_storage=20, username="app",
                 manage_master_user_password=True, publicly_accessible=True)
aws.rds.Cluster("aurora", engine="aurora-postgresql", master_username="app", manage_master_user_password=True)
acl = aws.ec2.NetworkAcl("acl", vpc_id=vpc.id)
aws.ec2.NetworkAclRule("open", network_acl_id=acl.id, rule_number=100, egress=False, protocol="-1",
                       rule_action="allow", cidr_block="0.0.0.0/0")
role = aws.iam.Role("app", assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
    managed_policy_arns=["arn:aws:iam::aws:policy/AdministratorAccess"],
    inline_policies=[{"name": "all-s3", "policy": json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})}])
aws.iam.RolePolicyAttachment("power", role=role.name, policy_arn="arn:aws:iam::aws:policy/PowerUserAccess")
'''

WIDER_GOOD = PLAIN_NETWORK + '''
# The same resources, private and least-privilege.
template = aws.ec2.LaunchTemplate("web", image_id="ami-0123456789abcdef0", instance_type="t4g.micro",
    metadata_options={"http_tokens": "required"},
    network_interfaces=[{"associate_public_ip_address": "false", "subnet_id": subnet.id}])
aws.autoscaling.Group("web", min_size=1, max_size=2, vpc_zone_identifiers=[subnet.id],
                      launch_template={"id": template.id, "version": "$Latest"})
aws.ec2.LaunchConfiguration("legacy", image_id="ami-0123456789abcdef0", instance_type="t3.micro",
                            metadata_options={"http_tokens": "required"}, root_block_device={"encrypted": True})
aws.lb.LoadBalancer("front", load_balancer_type="application", internal=True, subnets=[subnet.id])
aws.rds.Instance("db", engine="postgres", instance_class="db.t4g.micro", allocated_storage=20, username="app",
                 manage_master_user_password=True, storage_encrypted=True, deletion_protection=True,
                 backup_retention_period=7, iam_database_authentication_enabled=True)
aws.rds.Cluster("aurora", engine="aurora-postgresql", master_username="app", manage_master_user_password=True,
                storage_encrypted=True, deletion_protection=True, iam_database_authentication_enabled=True)
acl = aws.ec2.NetworkAcl("acl", vpc_id=vpc.id)
aws.ec2.NetworkAclRule("vpc-only", network_acl_id=acl.id, rule_number=100, egress=False, protocol="tcp",
                       from_port=443, to_port=443, rule_action="allow", cidr_block="172.31.0.0/24")
role = aws.iam.Role("app", assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
    managed_policy_arns=["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"],
    inline_policies=[{"name": "read-one-bucket", "policy": json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::app-data/*"}]})}])
'''


TWO_REGIONS = '''
import json
import pulumi
import pulumi_aws as aws

def environment(name, region, zone, opts, endpoint_region=None):
    o = lambda: pulumi.ResourceOptions(provider=opts) if opts else None
    vpc = aws.ec2.Vpc(f"{name}-vpc", cidr_block="10.50.0.0/16", enable_dns_support=True, enable_dns_hostnames=True,
                      opts=o())
    subnet = aws.ec2.Subnet(f"{name}-subnet", vpc_id=vpc.id, cidr_block="10.50.0.0/24", availability_zone=zone,
                            opts=o())
    group = aws.ec2.SecurityGroup(f"{name}-endpoints", vpc_id=vpc.id, description="endpoints", opts=o())
    for service in ("ssm", "ssmmessages"):
        aws.ec2.VpcEndpoint(f"{name}-{service}", vpc_id=vpc.id, vpc_endpoint_type="Interface",
                            service_name=f"com.amazonaws.{endpoint_region or region}.{service}",
                            private_dns_enabled=True, subnet_ids=[subnet.id], security_group_ids=[group.id], opts=o())
    role = aws.iam.Role(f"{name}-host", assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}), opts=o())
    aws.iam.RolePolicyAttachment(f"{name}-core", role=role.name,
                                 policy_arn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore", opts=o())
    profile = aws.iam.InstanceProfile(f"{name}-host", role=role.name, opts=o())
    aws.ec2.Instance(f"{name}-host", ami="ami-0123456789abcdef0", instance_type="t4g.micro", subnet_id=subnet.id,
                     iam_instance_profile=profile.name, opts=o())

environment("tokyo", "ap-northeast-1", "ap-northeast-1a", None)
environment("virginia", "us-east-1", "us-east-1a", aws.Provider("virginia", region="us-east-1"),
            endpoint_region={endpoint_region})
'''


HEADER = '''
import json
import pulumi
import pulumi_aws as aws

REGION = "ap-northeast-1"


def spoke(name, cidr, services):
    vpc = aws.ec2.Vpc(name, cidr_block=cidr, enable_dns_support=True, enable_dns_hostnames=True)
    subnet = aws.ec2.Subnet(f"{name}-a", vpc_id=vpc.id, cidr_block=cidr.replace("/24", "/26"),
                            availability_zone=f"{REGION}a")
    endpoints = aws.ec2.SecurityGroup(f"{name}-endpoints", vpc_id=vpc.id, description="endpoints of " + name)
    host = aws.ec2.SecurityGroup(f"{name}-host", vpc_id=vpc.id, description="host of " + name)
    aws.vpc.SecurityGroupEgressRule(f"{name}-host-out", security_group_id=host.id, ip_protocol="tcp",
                                    from_port=443, to_port=443, referenced_security_group_id=endpoints.id)
    aws.vpc.SecurityGroupIngressRule(f"{name}-endpoints-in", security_group_id=endpoints.id, ip_protocol="tcp",
                                     from_port=443, to_port=443, referenced_security_group_id=host.id)
    for service in services:
        aws.ec2.VpcEndpoint(f"{name}-{service}", vpc_id=vpc.id, service_name=f"com.amazonaws.{REGION}.{service}",
                            vpc_endpoint_type="Interface", private_dns_enabled=True, subnet_ids=[subnet.id],
                            security_group_ids=[endpoints.id])
    return vpc, subnet, host


def host(name, subnet_id, group_id):
    role = aws.iam.Role(name, assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    aws.iam.RolePolicyAttachment(name, role=role.name,
                                 policy_arn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")
    profile = aws.iam.InstanceProfile(name, role=role.name)
    return aws.ec2.Instance(name, ami="ami-0123456789abcdef0", instance_type="t4g.micro", subnet_id=subnet_id,
                            vpc_security_group_ids=[group_id], iam_instance_profile=profile.name,
                            metadata_options={"http_tokens": "required"},
                            root_block_device={"encrypted": True, "volume_size": 8})
'''

HUB_AND_SPOKES = HEADER + '''
# Two spokes: a has its Session Manager endpoints, b's were deleted. Each has a host.
vpc_a, subnet_a, group_a = spoke("spoke-a", "10.1.0.0/24", ["ssm", "ssmmessages"])
vpc_b, subnet_b, group_b = spoke("spoke-b", "10.2.0.0/24", [])
host("host-a", subnet_a.id, group_a.id)
host("host-b", subnet_b.id, group_b.id)
'''

UNTRACEABLE_VPC = HEADER + '''
# A host on a network this stack does not own (ids from elsewhere), next to a VPC of its own that has endpoints.
vpc_a, subnet_a, group_a = spoke("own", "10.1.0.0/24", ["ssm", "ssmmessages"])
elsewhere = aws.ec2.SecurityGroup("elsewhere-host", vpc_id="vpc-0aaaabbbbccccdddd", description="host elsewhere")
host("host-elsewhere", "subnet-0aaaabbbbccccdddd", elsewhere.id)
'''

GATEWAY_BY_DEFAULT = HEADER + '''
vpc, subnet, group = spoke("vpc", "10.1.0.0/24", ["ssm", "ssmmessages"])
table = aws.ec2.RouteTable("table", vpc_id=vpc.id)
# No vpc_endpoint_type: AWS and the provider make it a Gateway endpoint.
s3 = aws.ec2.VpcEndpoint("s3", vpc_id=vpc.id, service_name=f"com.amazonaws.{REGION}.s3", route_table_ids=[table.id])
aws.vpc.SecurityGroupEgressRule("host-to-s3", security_group_id=group.id, ip_protocol="tcp", from_port=443,
                                to_port=443, prefix_list_id=s3.prefix_list_id)
host("host", subnet.id, group.id)
'''

ECS_SERVICES = HEADER + '''
vpc, subnet, group = spoke("vpc", "10.1.0.0/24", [])
execution = aws.iam.Role("execution", assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
plain_cluster = aws.ecs.Cluster("web")
exec_cluster = aws.ecs.Cluster("tools", configuration={"execute_command_configuration": {"logging": "DEFAULT"}})


def service(name, cluster):
    task = aws.ecs.TaskDefinition(name, family=name, network_mode="awsvpc", requires_compatibilities=["FARGATE"],
        cpu="256", memory="512", execution_role_arn=execution.arn,
        container_definitions=json.dumps([{"name": name, "image": "public.ecr.aws/nginx/nginx:1", "essential": True,
            "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/" + name,
                "awslogs-region": REGION, "awslogs-stream-prefix": name}}}]))
    return aws.ecs.Service(name, cluster=cluster.arn, task_definition=task.arn, launch_type="FARGATE",
        network_configuration={"subnets": [subnet.id], "assign_public_ip": False, "security_groups": [group.id]})


service("web", plain_cluster)  # an ordinary service: nobody opens a shell in it
service("tools", exec_cluster)  # its cluster is set up for ECS Exec, the service forgot to enable it
'''

DEFAULT_VPC = HEADER + '''
# The default VPC, adopted, and an instance launched into it without naming a subnet.
default = aws.ec2.DefaultVpc("default")
group = aws.ec2.SecurityGroup("web", vpc_id=default.id, description="web server")
aws.vpc.SecurityGroupIngressRule("web-https", security_group_id=group.id, ip_protocol="tcp", from_port=443,
                                 to_port=443, cidr_ipv4="10.0.0.0/8")
host("web", None, group.id)
'''

OTHER_SHAPES = HEADER + '''
# Resources the pack has no policy for, next to legacy aws.ec2.SecurityGroupRule rules.
vpc, subnet, group = spoke("vpc", "10.1.0.0/24", ["ssm", "ssmmessages"])
queue = aws.sqs.Queue("jobs", sqs_managed_sse_enabled=True)
db = aws.ec2.SecurityGroup("db", vpc_id=vpc.id, description="database")
aws.ec2.SecurityGroupRule("db-from-host", type="ingress", security_group_id=db.id, protocol="tcp", from_port=5432,
                          to_port=5432, source_security_group_id=group.id)
aws.ec2.SecurityGroupRule("host-to-db", type="egress", security_group_id=group.id, protocol="tcp", from_port=5432,
                          to_port=5432, source_security_group_id=db.id)
host("host", subnet.id, group.id)
# A host placed in a group this stack does not own, by its id string: its rules cannot be seen from here.
host("host-shared-group", subnet.id, "sg-0aaaabbbbccccdddd")
'''


ORDINARY_VPC_WITH_NAT = HEADER + '''
# An ordinary VPC: the host's subnet routes to a NAT gateway, so it reaches AWS's public endpoints that way.
vpc, subnet, group = spoke("vpc", "10.1.0.0/24", [])
table = aws.ec2.RouteTable("private", vpc_id=vpc.id)
aws.ec2.RouteTableAssociation("private", subnet_id=subnet.id, route_table_id=table.id)
aws.ec2.Route("to-nat", route_table_id=table.id, destination_cidr_block="0.0.0.0/0", nat_gateway_id="nat-0abc")
host("host", subnet.id, group.id)
'''
