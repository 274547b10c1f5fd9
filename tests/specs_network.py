"""Specs for security groups and their rules, network ACLs, routes, VPC endpoints and the private-only posture."""

from __future__ import annotations

from guard_spec import Spec, res

from guard.types import (  # isort: skip
    DEFAULT_SG,
    EGRESS,
    ENDPOINT,
    GLUE_CONNECTION,
    INGRESS,
    INTERNET_GATEWAY,
    LEGACY_RULE,
    NETWORK_ACL_RULE,
    SG,
    VPC,
)

RULES = ("Amazon VPC User Guide, 'Security group rules': protocol -1 (as a number or a string) means all protocols "
         "and all ports")
NACL = ("Amazon VPC User Guide, 'Network ACLs' and 'Ephemeral ports': a stateless network ACL must admit return "
        "traffic on 1024-65535; FSBP EC2.21 finds only 22 and 3389 open to 0.0.0.0/0")
DEFAULT_GROUP = ("Amazon VPC User Guide, 'Default security groups for your VPCs' (FSBP EC2.2); AWS Glue Developer "
                 "Guide, 'Setting up network access to data stores' (a self-referencing rule for all TCP ports)")
S3_DNS = ("AWS PrivateLink Guide / Amazon S3 User Guide, 'AWS PrivateLink for Amazon S3': S3 interface endpoints work "
          "through endpoint-specific DNS names; their private DNS involves the gateway endpoint")
GROUPS_DOC = "Amazon VPC User Guide, 'Security groups' (descriptions; rules as separate resources in the provider)"
ENDPOINT_DOCS = ("AWS PrivateLink Guide, 'Control access to VPC endpoints using endpoint policies' (no policy allows "
                 "everything) and 'Gateway endpoints for Amazon S3' (no charge)")
PRIVATE = {"privateOnly": True}
POSTURE = "airgap's posture (README, 'The policy pack'): private-only only where the stack declares it"


def group(name: str = "web") -> object:
    return res(SG, name, {"description": f"{name} servers", "vpcId": "vpc-1"})


def ingress(name: str, on: object, **props: object) -> object:
    return res(INGRESS, name, {"securityGroupId": "sg-1", **props}, securityGroupId=on)


def egress_rule(**props: object) -> object:
    return res(EGRESS, "out", {"securityGroupId": "sg-1", "ipProtocol": "tcp", "fromPort": 443, "toPort": 443,
                               **props}, securityGroupId=group())


def nacl_rule(**props: object) -> list:
    base = {"networkAclId": "acl-1", "ruleNumber": 130, "egress": False, "ruleAction": "allow",
            "cidrBlock": "0.0.0.0/0", "protocol": "tcp", "fromPort": 1024, "toPort": 65535}
    return [res(NETWORK_ACL_RULE, "rule", {**base, **props})]


def vpc(name: str = "vpc") -> object:
    return res(VPC, name, {"cidrBlock": "10.0.0.0/16", "enableDnsSupport": True, "enableDnsHostnames": True})


def default_group_with_rule() -> list:
    v = vpc()
    return [v, ingress("into-default", v, ipProtocol="tcp", fromPort=443, toPort=443,
                       referencedSecurityGroupId="sg-2")]


def glue_in_default_group() -> list:
    v = vpc()
    return [v, res(GLUE_CONNECTION, "warehouse", {"connectionType": "JDBC", "physicalConnectionRequirements": {
        "securityGroupIdLists": ["sg-default"], "subnetId": "subnet-1"}}, physicalConnectionRequirements=v)]


def interface_endpoint(service: str, **props: object) -> list:
    return [res(ENDPOINT, service.replace(".", "-"), {
        "serviceName": f"com.amazonaws.ap-northeast-1.{service}", "vpcEndpointType": "Interface",
        "privateDnsEnabled": False, "securityGroupIds": ["sg-1"], **props})]


SPECS = [
    # --- protocol -1 as a number (bug) --------------------------------------------------------------------------
    Spec("no-all-protocol-rules", lambda: [ingress("https", group(), ipProtocol="tcp", fromPort=443, toPort=443,
                                                   referencedSecurityGroupId="sg-2")], None, RULES, id="tcp"),
    Spec("no-all-protocol-rules", lambda: [ingress("all", group(), ipProtocol=-1, referencedSecurityGroupId="sg-2")],
         "an all-protocol ingress rule", RULES, id="minus-one-as-a-number"),
    Spec("no-all-protocol-rules", lambda: [res(LEGACY_RULE, "legacy", {
        "type": "egress", "securityGroupId": "sg-1", "protocol": -1.0, "fromPort": 0, "toPort": 0,
        "cidrBlocks": ["10.0.0.0/16"]})], "an all-protocol egress rule", RULES, id="legacy-minus-one-float"),
    # --- network ACLs: the ephemeral return range is not a finding (misleading), the rule number prints whole (bug) --
    Spec("nacl-no-open-ingress", lambda: nacl_rule(toPort=3388), None, NACL, id="return-traffic-below-rdp"),
    Spec("nacl-no-open-ingress", lambda: nacl_rule(protocol="tcp", fromPort=443, toPort=443), None, NACL,
         id="https"),
    Spec("nacl-no-open-ingress", lambda: nacl_rule(),
         "rule 130 allows RDP (3389) from anywhere. Fix: admit 22 and 3389 only from the ranges that administer the "
         "hosts; an entry there for return traffic can skip them (tcp 1024-3388 and 3390-65535)", NACL,
         id="ephemeral-range-contains-rdp-fix-keeps-returns"),
    Spec("nacl-no-open-ingress", lambda: nacl_rule(fromPort=22, toPort=22),
         "rule 130 allows SSH (22) from anywhere", NACL, id="ssh-rule-number-whole"),
    Spec("nacl-no-open-ingress", lambda: nacl_rule(protocol="-1", fromPort=0, toPort=0),
         "allows SSH (22), RDP (3389) from anywhere", NACL, id="all-traffic"),
    # --- the admin-port policy does not repeat what others report (misleading) -----------------------------------
    Spec("no-admin-port-ingress", lambda: [ingress("open", group("endpoints"), ipProtocol="-1",
                                                   cidrIpv4="0.0.0.0/0")], None, RULES,
         id="all-traffic-from-anywhere-is-others-finding"),
    Spec("no-admin-port-ingress", lambda: [ingress("ssh", group(), ipProtocol="tcp", fromPort=22, toPort=22,
                                                   referencedSecurityGroupId="sg-bastion")],
         "admit it only from the group of the hosts that administer it", RULES, id="ssh-from-a-group-any-stack"),
    Spec("no-admin-port-ingress", lambda: [ingress("ssh", group(), ipProtocol="tcp", fromPort=22, toPort=22,
                                                   referencedSecurityGroupId="sg-bastion")],
         "a private-only stack reaches its hosts through Session Manager", RULES, {"privateOnly": True},
         id="ssh-from-a-group-private-only"),
    Spec("no-ingress-from-anywhere", lambda: [ingress("https", group(), ipProtocol="tcp", fromPort=443, toPort=443,
                                                      cidrIpv4="0.0.0.0/0")], None,
         "FSBP EC2.18 (authorized ports 80 and 443)", id="public-https-in-an-ordinary-stack"),
    Spec("no-ingress-from-anywhere", lambda: [ingress("https", group(), ipProtocol="tcp", fromPort=443, toPort=443,
                                                      cidrIpv4="0.0.0.0/0")],
         "and the stack is meant to be private-only", "FSBP EC2.18; " + POSTURE, {"privateOnly": True},
         id="public-https-in-a-private-stack"),
    Spec("no-ingress-from-anywhere", lambda: [ingress("ssh", group(), ipProtocol="tcp", fromPort=22, toPort=22,
                                                      cidrIpv4="0.0.0.0/0")], "including SSH (22)",
         "FSBP EC2.18, EC2.19", id="ssh-from-anywhere"),
    # --- the default group's standalone rules (gap), Glue's self-reference (misleading) ---------------------------
    Spec("default-security-group-empty", lambda: [vpc(), ingress("web-in", group(), ipProtocol="tcp", fromPort=443,
                                                                 toPort=443, referencedSecurityGroupId="sg-2")],
         None, DEFAULT_GROUP, id="rule-on-an-ordinary-group"),
    Spec("default-security-group-empty", default_group_with_rule,
         "adds a rule to the default security group of Vpc 'vpc' (its default_security_group_id)", DEFAULT_GROUP,
         id="rule-on-the-vpcs-default-group"),
    Spec("default-security-group-empty", lambda: [d := res(DEFAULT_SG, "default", {"vpcId": "vpc-1"}),
                                                  ingress("into-adopted", d, ipProtocol="tcp", fromPort=22, toPort=22,
                                                          cidrIpv4="10.0.0.0/8")],
         "adds a rule to DefaultSecurityGroup 'default'", DEFAULT_GROUP, id="rule-on-the-adopted-default-group"),
    Spec("default-security-group-managed", lambda: [v := vpc(), res(DEFAULT_SG, "default", {"vpcId": "vpc-1"},
                                                                    vpcId=v)], None, DEFAULT_GROUP, id="adopted"),
    Spec("default-security-group-managed", lambda: [vpc()], "adopt it with aws.ec2.DefaultSecurityGroup",
         DEFAULT_GROUP, id="not-adopted"),
    Spec("default-security-group-managed", glue_in_default_group,
         "first give Connection 'warehouse' a security group of its own with a self-referencing ingress rule",
         DEFAULT_GROUP, id="glue-relies-on-it"),
    # --- S3 interface endpoints: their own DNS rules (misleading) -------------------------------------------------
    Spec("interface-endpoint-private-dns", lambda: interface_endpoint("s3"), None, S3_DNS, {"privateOnly": True},
         id="s3-interface-private-dns-off"),
    Spec("interface-endpoint-private-dns", lambda: interface_endpoint("ssm"), "private DNS is off", S3_DNS,
         {"privateOnly": True}, id="ssm-interface-private-dns-off"),
    # --- the posture: private-only policies judge only stacks that declare it (misleading wording) -----------------
    Spec("no-internet-gateway", lambda: [res(INTERNET_GATEWAY, "igw", {"vpcId": "vpc-1"})], None, POSTURE,
         id="ordinary-stack"),
    Spec("no-internet-gateway", lambda: [res(INTERNET_GATEWAY, "igw", {"vpcId": "vpc-1"})],
         "and the stack is meant to be private-only", POSTURE, {"privateOnly": True}, id="declared-private-only"),
    Spec("no-internet-gateway", lambda: [res(INTERNET_GATEWAY, "igw", {"vpcId": "vpc-1"}, project="airgap")],
         "opens a path to the internet", POSTURE, id="airgaps-own-project"),
    Spec("no-internet-gateway", lambda: [res(INTERNET_GATEWAY, "igw", {"vpcId": "vpc-1"}, project="airgap")], None,
         POSTURE, {"privateOnly": False}, id="airgap-declared-not-private"),
    # --- the rest of the rules and endpoints, one true and one false case each ---------------------------------------
    Spec("security-group-description", lambda: [group()], None, GROUPS_DOC, id="described"),
    Spec("security-group-description", lambda: [res(SG, "bare", {"description": "Managed by Pulumi"})],
         "no description of its own", GROUPS_DOC, id="provider-default"),
    Spec("no-inline-security-group-rules", lambda: [group()], None, GROUPS_DOC, id="standalone-only"),
    Spec("no-inline-security-group-rules", lambda: [res(SG, "inline", {"description": "x", "ingress": [
        {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["10.0.0.0/16"]}]})], "inline ingress rules",
        GROUPS_DOC, id="inline"),
    Spec("no-open-egress", lambda: [egress_rule(cidrIpv4="10.0.0.0/16")], None, RULES, PRIVATE, id="vpc-range"),
    Spec("no-open-egress", lambda: [egress_rule(cidrIpv4="0.0.0.0/0")], "egress to 0.0.0.0/0 or ::/0", RULES,
         PRIVATE, id="anywhere"),
    Spec("ingress-by-group-reference", lambda: [ingress("ref", group(), ipProtocol="tcp", fromPort=8080,
                                                        toPort=8080, referencedSecurityGroupId="sg-2")], None, RULES,
         id="by-reference"),
    Spec("ingress-by-group-reference", lambda: [ingress("cidr", group(), ipProtocol="tcp", fromPort=8080,
                                                        toPort=8080, cidrIpv4="10.0.0.0/16")],
         "ingress from a CIDR range (10.0.0.0/16)", RULES, id="by-cidr"),
    Spec("endpoint-in-stack-region", lambda: interface_endpoint("ssm"), None, ENDPOINT_DOCS, id="same-region"),
    Spec("endpoint-in-stack-region", lambda: [res(ENDPOINT, "ssm", {"serviceName": "com.amazonaws.us-east-1.ssm"})],
         "use com.amazonaws.ap-northeast-1.<service>", ENDPOINT_DOCS, id="other-region"),
    Spec("s3-gateway-endpoint", lambda: [res(ENDPOINT, "s3", {"serviceName": "com.amazonaws.ap-northeast-1.s3"})],
         None, ENDPOINT_DOCS, PRIVATE, id="gateway-by-default"),
    Spec("s3-gateway-endpoint", lambda: interface_endpoint("s3"), "keep the interface endpoint only for clients "
         "outside the VPC", ENDPOINT_DOCS, PRIVATE, id="interface"),
    Spec("endpoint-policy-restricts", lambda: interface_endpoint("ssm", policy=(
        '{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*", "Condition": '
        '{"StringEquals": {"aws:PrincipalAccount": "123456789012"}}}]}')), None, ENDPOINT_DOCS,
        id="account-only"),
    Spec("endpoint-policy-restricts", lambda: interface_endpoint("ssm"), "no endpoint policy", ENDPOINT_DOCS,
         id="none"),
]
