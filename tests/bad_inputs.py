"""Every bad input a user has tried, in one table: where it enters, the key, the value, and a fragment the one clear
error must contain. The next bad input is a one-line addition.

where:
- "config":     a stack config value, run through the real program under the mock runtime, on the dev stack
                (value: YAML, as written in a stack file or `pulumi config set`; "<unset>" removes the key);
- "stack-file": the whole text of a stack file `Pulumi.bad.yaml` (key: what is wrong);
- "plan":       arguments to `python3 dev.py plan` (value: the argument list, shell-quoted);
- "ops":        arguments to `python3 dev.py bastion` (value: the argument list; `{outputs}` is a saved outputs file).

`also` holds further config needed to make exactly this one input the only problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Where = Literal["config", "stack-file", "plan", "ops"]


@dataclass(frozen=True)
class Bad:
    where: Where
    key: str
    value: str
    fragment: str
    also: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        whole = f"{self.where}:{self.key}={self.value}"
        # Long values end in what differs: the end of the value.
        return whole if len(whole) <= 80 else f"{whole[:40]}...{whole[-37:]}"


# dev as a workload stack: its network keys back at their defaults (a workload stack may not set them).
AS_WORKLOADS = {"role": "workloads", "endpointPlacement": "every-az"}
NO_WORKLOAD = {"ssmHost": False, "fileShare": False, "bastionForwardPorts": [], "database": False}
OTHER_ACCOUNT_IMAGE = "210987654321.dkr.ecr.ap-northeast-1.amazonaws.com/tools:1"

BAD_INPUTS: list[Bad] = [
    # --- the network ---
    Bad("config", "airgap:vpcCidr", "10.0.0.0/33", "an IPv4 CIDR block"),
    Bad("config", "airgap:vpcCidr", "10.40.0.1/16", "no host bits set"),
    Bad("config", "airgap:vpcCidr", "8.8.0.0/16", "RFC 1918"),
    Bad("config", "airgap:vpcCidr", "10.0.0.0/8", "/16 to /24"),
    Bad("config", "airgap:vpcCidr", "42", "an IPv4 CIDR block"),
    Bad("config", "airgap:vpcCidr", "fd00::/48", "an IPv4 CIDR block"),
    Bad("config", "airgap:subnetPrefixLength", "16", "from 17 to 28"),
    Bad("config", "airgap:subnetPrefixLength", "29", "from 17 to 28"),
    Bad("config", "airgap:subnetPrefixLength", "twenty", "a whole number"),
    Bad("config", "airgap:subnetPrefixLength", "24.5", "a whole number"),
    Bad("config", "airgap:vpcCidr", "10.40.0.0/24", "room for a /25 subnet in zone ap-northeast-1d",
        {"subnetPrefixLength": 25, "availabilityZones": ["ap-northeast-1a", "ap-northeast-1d"]}),
    Bad("config", "airgap:azCount", "1", "2 or more"),
    Bad("config", "airgap:azCount", "4", "at most 3, the AZs this account has"),
    Bad("config", "airgap:azCount", "two", "a whole number"),
    Bad("config", "airgap:availabilityZones", "[ap-northeast-1a]", "at least two zone names"),
    Bad("config", "airgap:availabilityZones[0]", "[us-east-1a, ap-northeast-1c]", "a zone name of ap-northeast-1"),
    Bad("config", "airgap:availabilityZones", "ap-northeast-1a", "a YAML list"),
    Bad("config", "airgap:availabilityZones", "[ap-northeast-1a, ap-northeast-1a]", "each zone at most once"),
    Bad("config", "airgap:availabilityZones[1]", "[ap-northeast-1a, ap-northeast-1b]", "a zone this account has"),
    Bad("config", "airgap:availabilityZones[1]", "[ap-northeast-1a, 7]", "a string"),
    # --- the region ---
    Bad("config", "aws:region", "ap-northest-1", 'did you mean "ap-northeast-1"?'),
    Bad("config", "aws:region", "tokyo", "an AWS region such as"),
    Bad("config", "aws:region", "AP-NORTHEAST-1", "an AWS region such as"),
    Bad("config", "aws:region", "cn-north-1", "standard aws partition"),
    Bad("config", "aws:region", "us-gov-west-1", "standard aws partition"),
    Bad("config", "aws:region", "<unset>", "aws:region is not set"),
    # --- endpoints ---
    Bad("config", "airgap:endpointPlacement", "two-az", '"every-az" (highly available) or "single-az"'),
    Bad("config", "airgap:endpointPlacement", "Every-AZ", '"every-az"'),
    Bad("config", "airgap:endpoints[1]", "[ssm, sqs]", "one of ssm, ssmmessages"),
    Bad("config", "airgap:endpoints[1]", "[ssm, ssmmessage]", 'did you mean "ssmmessages"?'),
    Bad("config", "airgap:endpoints", "ssm", "a YAML list"),
    Bad("config", "airgap:endpoints", "[ssm, s3]", "add ssmmessages, ecr.api, ecr.dkr, logs"),
    Bad("config", "airgap:endpoints", "[ssm, ssmmessages, s3]", "add ecr.api, ecr.dkr, logs"),
    Bad("config", "airgap:includeEc2Messages", "yes", "true or false"),
    # --- what may cross the edge ---
    Bad("config", "airgap:s3Buckets[0]", "[My_Bucket]", "an S3 bucket name"),
    Bad("config", "airgap:s3Buckets[0]", "[ab]", "an S3 bucket name"),
    Bad("config", "airgap:s3Buckets[0]", "[192.168.1.1]", "an S3 bucket name"),
    Bad("config", "airgap:s3Buckets[1]", "[logs-archive, -leading-dash]", "an S3 bucket name"),
    Bad("config", "airgap:s3Buckets", "logs-archive", "a YAML list"),
    Bad("config", "airgap:flowLogTraffic", "rejected", '"REJECT"'),
    Bad("config", "airgap:flowLogRetentionDays", "0", "from 1 to 3650"),
    Bad("config", "airgap:flowLogs", "sometimes", "true or false"),
    # --- workloads ---
    Bad("config", "airgap:ssmHost", "maybe", "true or false"),
    Bad("config", "airgap:ssmHostInstanceType", "m5.24xlarge", "one of t4g.nano"),
    Bad("config", "airgap:ssmHostInstanceType", "t4g.Micro", "one of t4g.nano"),
    Bad("config", "airgap:fileShare", "1", "true or false"),
    Bad("config", "airgap:asleep", "true", "no such key: whether a stack is asleep lives with the deployed stack"),
    Bad("config", "airgap:role", "app", '"all" (network and workloads in this stack)'),
    # --- the database ---
    Bad("config", "airgap:database", "yes", "true or false"),
    Bad("config", "airgap:database", "true", "false while airgap:bastion is off (the database is reached through "
        "the bastion", {"bastion": "off", "bastionForwardPorts": []}),
    Bad("config", "airgap:databaseEngineVersion", "16.2", "a version that pauses at 0 ACUs: 13.15, 14.12, 15.7, "
        "16.3 or later"),
    Bad("config", "airgap:databaseEngineVersion", "sixteen", 'an Aurora PostgreSQL version "<major>.<minor>"'),
    Bad("config", "airgap:databaseMaxCapacity", "0", "from 1 to 256 Aurora capacity units"),
    Bad("config", "airgap:databaseMaxCapacity", "2.5", "a whole number"),
    Bad("config", "airgap:databaseAutoPauseSeconds", "60", "from 300 (five minutes) to 86400"),
    Bad("config", "airgap:databaseName", "App-DB", "a database name of 1 to 63 lowercase letters"),
    Bad("config", "airgap:databaseUser", "postgres", "a name other than postgres"),
    Bad("config", "airgap:databaseUser", "1st", "a user name of 1 to 63 lowercase letters"),
    Bad("config", "airgap:networkStack", '""', "the network stack to run on", AS_WORKLOADS),
    Bad("config", "airgap:networkStack", "net", '"" unless airgap:role is "workloads"'),
    Bad("config", "airgap:networkStack", "acme/airgap/net stack", "a stack name", AS_WORKLOADS),
    Bad("config", "airgap:networkStack", "nosuch", "a stack this backend has and you may read", AS_WORKLOADS),
    Bad("config", "airgap:s3Buckets", '["data"]', "[] in a workload stack", {**AS_WORKLOADS, "networkStack": "net"}),
    Bad("config", "airgap:fileShare", "true", "the SSM host is the share's only client",
        {"ssmHost": False, "bastionForwardPorts": []}),
    Bad("config", "airgap:ssmHost", "false", "at least one workload", {**NO_WORKLOAD, "bastion": "off"}),
    Bad("config", "airgap:bastion", "sometimes", '"parked"'),
    Bad("config", "airgap:bastion", "true", '"parked"'),
    Bad("config", "airgap:bastionCpu", "300", "a Fargate CPU size"),
    Bad("config", "airgap:bastionMemory", "4096", "with 256 CPU units"),
    Bad("config", "airgap:bastionMemory", "512", "with 1024 CPU units", {"bastionCpu": 1024}),
    Bad("config", "airgap:bastionImage", "nginx latest", "a full image URI in a private ECR registry"),
    Bad("config", "airgap:bastionImage", OTHER_ACCOUNT_IMAGE, "this account's registry (123456789012)"),
    Bad("config", "airgap:bastionImage", "123456789012.dkr.ecr.us-east-1.amazonaws.com/tools:1",
        "the stack's region ap-northeast-1"),
    Bad("config", "airgap:bastionImageSource", "amazonlinux:2023", "an image reference"),
    Bad("config", "airgap:bastionImageSource", "public.ecr.aws/amazonlinux/amazonlinux", "an image reference"),
    Bad("config", "airgap:bastionImageSource", "public.ecr.aws/amazonlinux/amazonlinux:2023.9",
        "its default while airgap:bastionImage is set",
        {"bastionImage": "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/tools:1"}),
    Bad("config", "airgap:bastionImage", "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/tools//x:1",
        "a full image URI in a private ECR registry"),
    Bad("config", "airgap:bastionImage", "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/a..b:1",
        "a full image URI in a private ECR registry"),
    Bad("config", "airgap:bastionImage", "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/tools-:1",
        "a full image URI in a private ECR registry"),
    Bad("config", "airgap:bastionImageArchitecture", "arm64", '"X86_64" or "ARM64"',
        {"bastionImage": "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/tools:1"}),
    Bad("config", "airgap:bastionImageArchitecture", "ARM64", "its default while airgap:bastionImage is empty"),
    Bad("config", "airgap:bastionImageSource", "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/tools:1",
        "a public image"),
    Bad("config", "airgap:bastionCpu", "3000", "a Fargate CPU size: 256, 512, 1024, 2048, 4096, 8192, 16384"),
    Bad("config", "airgap:bastionMemory", "8192", "with 8192 CPU units", {"bastionCpu": 8192}),
    Bad("config", "airgap:bastionForwardPorts", "[" + ", ".join(str(p) for p in range(8000, 8070)) + "]",
        "at most 50 ports"),
    Bad("config", "airgap:bastionForwardPorts[0]", "[22]", "other than 22 and 3389"),
    Bad("config", "airgap:bastionForwardPorts[0]", "[70000]", "from 1 to 65535"),
    Bad("config", "airgap:bastionForwardPorts[1]", "[8080, 3389]", "other than 22 and 3389"),
    Bad("config", "airgap:bastionForwardPorts[0]", '["8080"]', "a whole number"),
    Bad("config", "airgap:bastionForwardPorts", "8080", "a YAML list"),
    Bad("config", "airgap:bastionForwardPorts", "[8080, 8080]", "each port at most once"),
    Bad("config", "airgap:bastionForwardPorts", "[8080]", "[] while airgap:ssmHost is false",
        {"ssmHost": False, "fileShare": False}),
    Bad("config", "airgap:execKms", "on", "true or false"),
    Bad("config", "airgap:logRetentionDays", "10", "a retention CloudWatch Logs accepts"),
    Bad("config", "airgap:production", "maybe", "true or false"),
    # --- who may get in, and what a session may do ---
    Bad("config", "airgap:sessionIdleTimeoutMinutes", "0", "minutes from 1 to 60"),
    Bad("config", "airgap:sessionIdleTimeoutMinutes", "twenty", "a whole number"),
    Bad("config", "airgap:sessionMaxDurationMinutes", "2880", "minutes from 1 to 1440"),
    Bad("config", "airgap:sessionUser", "root", "a Linux user name other than root"),
    Bad("config", "airgap:sessionUser", "Ops Team", "a Linux user name"),
    Bad("config", "airgap:operatorPrincipals[0]", '["alice"]', "an IAM principal ARN"),
    Bad("config", "airgap:operatorPrincipals[1]", '["arn:aws:iam::123456789012:root", "arn:aws:iam::1234:root"]',
        "an IAM principal ARN"),
    Bad("config", "airgap:operatorPrincipals", "arn:aws:iam::123456789012:root", "a YAML list"),
    # --- values a workload stack cannot use (the network stack decides them) ---
    *[Bad("config", f"airgap:{key}", value, "in a workload stack: the network stack (net) decides it",
          {**AS_WORKLOADS, "networkStack": "net"})
      for key, value in (("vpcCidr", "10.9.0.0/16"), ("availabilityZones", '["ap-northeast-1a", "ap-northeast-1c"]'),
                         ("azCount", "3"), ("endpoints", '["ssm"]'), ("endpointPlacement", "single-az"),
                         ("includeEc2Messages", "true"), ("flowLogs", "false"), ("flowLogTraffic", "REJECT"),
                         ("flowLogRetentionDays", "30"), ("subnetPrefixLength", "26"))],
    Bad("config", "airgap:networkStack", "dev", "another stack than this one (dev)", AS_WORKLOADS),
    Bad("config", "airgap:networkStack", "airgap/dev", "another stack than this one (dev)", AS_WORKLOADS),
    Bad("config", "airgap:networkStack", "../net", "a name, not a path", AS_WORKLOADS),
    Bad("config", "airgap:networkStack", "acme/airgap/net", "give them with `dev.py plan --network-outputs FILE`",
        AS_WORKLOADS),
    # --- too loose before ---
    Bad("config", "airgap:endpoints", '["ssm", "ssm", "ssmmessages", "logs", "kms", "s3"]',
        "each endpoint service at most once", {"bastion": "off", "database": False}),
    Bad("config", "airgap:s3Buckets", '["data", "data"]', "each bucket at most once"),
    Bad("config", "airgap:s3Buckets[0]", '["reports-s3alias"]', "the suffixes -s3alias"),
    Bad("config", "airgap:s3Buckets[0]", '["reports--x-s3"]', "the suffixes"),
    Bad("config", "airgap:s3Buckets[0]", '["amzn-s3-demo-data"]', "the prefix amzn-s3-demo-"),
    Bad("config", "airgap:vpcCidr", '""', "an IPv4 CIDR block"),
    # --- keys that do not exist ---
    Bad("config", "airgap:bastionn", "parked", 'did you mean "airgap:bastion"?'),
    Bad("config", "airgap:vpc_cidr", "10.1.0.0/16", 'did you mean "airgap:vpcCidr"?'),
    Bad("config", "airgap:flowlogs", "true", 'did you mean "airgap:flowLogs"?'),
    Bad("config", "aws:regoin", "ap-northeast-1", 'did you mean "aws:region"?'),
    Bad("config", "AIRGAP:bastion", "on", 'the namespace "airgap:" (keys are case-sensitive): airgap:bastion'),
    Bad("config", "airgapp:bastion", "on", 'the namespace "airgap:"'),
    # --- stack files ---
    Bad("stack-file", "YAML syntax", "config:\n  airgap:bastion: [on\n", "Pulumi.bad.yaml is not valid YAML at line"),
    Bad("stack-file", "tab indentation", "config:\n\tairgap:bastion: on\n", "Pulumi.bad.yaml is not valid YAML"),
    Bad("stack-file", "config is a list", "config:\n  - airgap:bastion: on\n", "expected a mapping with a `config:`"),
    Bad("stack-file", "the file is a list", "- config\n", "expected a mapping with a `config:`"),
    Bad("stack-file", "no namespace", "config:\n  aws:region: ap-northeast-1\n  bastion: on\n",
        "config key 'bastion' has no namespace"),
    Bad("stack-file", "key twice", "config:\n  aws:region: ap-northeast-1\n  airgap:bastion: on\n"
        "  airgap:bastion: off\n", "appears twice (lines 3 and 4)"),
    Bad("stack-file", "a secret", "config:\n  aws:region: ap-northeast-1\n  airgap:bastionImageSource:\n"
        "    secure: v1:abc:def\n", "airgap:bastionImageSource is a secret (`secure:`), which only the Pulumi CLI can "
        "decrypt: to plan offline, give its value for this plan with --set bastionImageSource=<value>"),
    Bad("stack-file", "unknown key", "config:\n  aws:region: ap-northeast-1\n  airgap:bastoin: off\n",
        'did you mean "airgap:bastion"?'),
    # --- the plan's command line ---
    Bad("plan", "--set", "--set endpoints=[ssm", "the value is not valid YAML"),
    Bad("plan", "--set", "--set bastion", "expected KEY=VALUE"),
    Bad("plan", "--set", "--set =on", "expected KEY=VALUE"),
    Bad("plan", "--set", "--set nosuch=1", 'airgap:nosuch = "1": expected one of the declared keys'),
    Bad("plan", "--stack", "--stack nosuch", "Pulumi.nosuch.yaml does not exist"),
    Bad("plan", "--mode", "--mode live", "invalid choice: 'live'"),
    Bad("plan", "--set", "--set 'vpcCidr= '", "expected a value after '='"),
    Bad("plan", "--set", "--set vpcCidr=~", "expected a value after '='"),
    Bad("plan", "--stack", "--stack acme/other/dev", "expected a stack of this project"),
    Bad("plan", "--diagram-dir", "--diagram-dir README.md", "README.md is a file: expected a directory"),
    Bad("plan", "program", "docs-that-do-not-exist", "expected a Pulumi Python program's directory"),
    Bad("plan", "--network-outputs", "--stack app --network-outputs {list}", "expected a JSON object"),
    Bad("plan", "--network-outputs", "--stack dev --network-outputs README.md", "stack dev names no "
        "airgap:networkStack"),
    Bad("plan", "--network-outputs", "--stack app --network-outputs README.md", "expected the JSON `pulumi stack "
        "output --json --stack net` prints"),
    Bad("plan", "--network-outputs", "--stack app --network-outputs nosuch.json", "expected the JSON"),
    # The network stack's real outputs with one value as no network stack writes it (tests/test_bad_inputs.py).
    Bad("plan", "--network-outputs", "--stack app --network-outputs {net:subnetIdsByZone=[subnet-1]}",
        "subnetIdsByZone (a map of this region's zones to subnet ids"),
    Bad("plan", "--network-outputs", "--stack app --network-outputs {net:subnetIdsByZone={}}",
        "subnetIdsByZone (a map of this region's zones to subnet ids"),
    Bad("plan", "--network-outputs", "--stack app --network-outputs {net:vpcCidr=10.40.0.0/33}",
        "vpcCidr (a CIDR block such as 10.41.0.0/16) is not as a network stack writes it"),
    Bad("plan", "--network-outputs", "--stack app --network-outputs {net:endpointServices=ssm}",
        "endpointServices (a list of service names"),
    Bad("plan", "--network-outputs", "--stack app --network-outputs {net:state=sleeping}",
        "state (one of awake, asleep, awake-on-demand)"),
    Bad("plan", "--network-outputs", "--stack app --network-outputs "
        "'{net:subnetIdsByZone={us-east-1a: subnet-1, us-east-1c: subnet-2}}'",
        "expected a network whose subnets are in ap-northeast-1 (its subnetIdsByZone names us-east-1a, us-east-1c)"),
    # --- the operator's command line ---
    Bad("ops", "--port", "forward --port 70000", "70000 is not a port number (1-65535)"),
    Bad("ops", "--port", "forward --port ssh", "'ssh' is not a port number"),
    Bad("ops", "--local-port", "forward --local-port 0", "0 is not a port number"),
    Bad("ops", "--timeout", "forward --timeout soon", "invalid float value: 'soon'"),
    Bad("ops", "--timeout", "session --timeout -5", "-5: expected a number of seconds greater than 0"),
    Bad("ops", "--timeout", "session --timeout nan", "nan: expected a number of seconds greater than 0"),
    Bad("ops", "--timeout", "forward --timeout inf", "inf: expected a number of seconds greater than 0"),
    Bad("ops", "--outputs", "park --outputs /nonexistent/outputs.json", "cannot read stack outputs"),
    Bad("ops", "--outputs", "forward --outputs {not-json}", "are not JSON"),
    Bad("ops", "--outputs", "forward --outputs {no-bastion}", "'bastionCluster', 'bastionService' missing"),
    Bad("ops", "--host", "forward --outputs {outputs} --host 8.8.8.8",
        "--to 8.8.8.8: not something the bastion may forward to"),
    Bad("ops", "--port", "forward --outputs {outputs} --port 22",
        "--port 22: the bastion may reach ssm-host only on 8080"),
    Bad("ops", "--profile", "park --outputs {outputs} --profile nosuch", "--profile nosuch: no such profile"),
    Bad("ops", "command", "unpark", "invalid choice: 'unpark'"),
]
