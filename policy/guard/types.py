"""Every resource type token the pack and the offline tools name, in one place.

Pulumi type tokens are `<package>:<module>/<member>:<Type>`; the names below are what the policies, the
harness, the plan and the diagram call them. A token spelt out anywhere else in the pack or the offline tools
is a second spelling of one of these (tests/test_harness.py checks that there is none).
"""

from __future__ import annotations

# alb
ALB_LOAD_BALANCER = "aws:alb/loadBalancer:LoadBalancer"

# autoscaling
AUTOSCALING_GROUP = "aws:autoscaling/group:Group"

# cloudwatch
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"

# ebs
EBS_VOLUME = "aws:ebs/volume:Volume"

# ec2
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
DEFAULT_NETWORK_ACL = "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl"
DEFAULT_ROUTE_TABLE = "aws:ec2/defaultRouteTable:DefaultRouteTable"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
DEFAULT_VPC = "aws:ec2/defaultVpc:DefaultVpc"
EGRESS_ONLY_INTERNET_GATEWAY = "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway"
EIP = "aws:ec2/eip:Eip"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
INSTANCE = "aws:ec2/instance:Instance"
INTERNET_GATEWAY = "aws:ec2/internetGateway:InternetGateway"
INTERNET_GATEWAY_ATTACHMENT = "aws:ec2/internetGatewayAttachment:InternetGatewayAttachment"
LAUNCH_CONFIGURATION = "aws:ec2/launchConfiguration:LaunchConfiguration"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
LEGACY_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
NETWORK_ACL = "aws:ec2/networkAcl:NetworkAcl"
NETWORK_ACL_RULE = "aws:ec2/networkAclRule:NetworkAclRule"
ROUTE = "aws:ec2/route:Route"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
SG = "aws:ec2/securityGroup:SecurityGroup"
SUBNET = "aws:ec2/subnet:Subnet"
VPC = "aws:ec2/vpc:Vpc"

# ec2transitgateway
# Terraform's aws_ec2_instance_state, filed under ec2transitgateway
INSTANCE_STATE = "aws:ec2transitgateway/instanceState:InstanceState"

# ecr
REPOSITORY = "aws:ecr/repository:Repository"

# ecs
CLUSTER = "aws:ecs/cluster:Cluster"
SERVICE = "aws:ecs/service:Service"
TASK = "aws:ecs/taskDefinition:TaskDefinition"

# efs
ACCESS_POINT = "aws:efs/accessPoint:AccessPoint"
BACKUP_POLICY = "aws:efs/backupPolicy:BackupPolicy"
FILE_SYSTEM = "aws:efs/fileSystem:FileSystem"
FS_POLICY = "aws:efs/fileSystemPolicy:FileSystemPolicy"
MOUNT_TARGET = "aws:efs/mountTarget:MountTarget"

# eks
EKS_CLUSTER = "aws:eks/cluster:Cluster"

# elb
ELB_LOAD_BALANCER = "aws:elb/loadBalancer:LoadBalancer"

# glue
GLUE_CONNECTION = "aws:glue/connection:Connection"

# iam
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
IAM_GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
IAM_GROUP_POLICY_ATTACHMENT = "aws:iam/groupPolicyAttachment:GroupPolicyAttachment"
IAM_POLICY = "aws:iam/policy:Policy"
IAM_POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"
IAM_USER_POLICY = "aws:iam/userPolicy:UserPolicy"
IAM_USER_POLICY_ATTACHMENT = "aws:iam/userPolicyAttachment:UserPolicyAttachment"
PROFILE = "aws:iam/instanceProfile:InstanceProfile"
ROLE = "aws:iam/role:Role"
SERVICE_LINKED_ROLE = "aws:iam/serviceLinkedRole:ServiceLinkedRole"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"

# kms
KMS_ALIAS = "aws:kms/alias:Alias"
KMS_KEY = "aws:kms/key:Key"
KMS_KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"

# lb
LB_LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"

# providers
AWS_PROVIDER = "pulumi:providers:aws"

# Pulumi's own
ROOT_STACK = "pulumi:pulumi:Stack"
STACK_REFERENCE = "pulumi:pulumi:StackReference"

# rds
RDS_CLUSTER = "aws:rds/cluster:Cluster"
RDS_CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"

# s3
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
S3_BUCKET_LIFECYCLE_CONFIGURATION = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
S3_BUCKET_OWNERSHIP_CONTROLS = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
S3_BUCKET_PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
S3_BUCKET_SERVER_SIDE_ENCRYPTION_CONFIGURATION = \
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"

# sqs
SQS_QUEUE = "aws:sqs/queue:Queue"

# ssoadmin (IAM Identity Center)
SSO_MANAGED_POLICY_ATTACHMENT = "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment"
SSO_PERMISSION_SET_INLINE_POLICY = "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy"

# vpc
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"

# ssm
SSM_DOCUMENT = "aws:ssm/document:Document"
