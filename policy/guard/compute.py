"""EC2 instances and what auto-scaling launches from (launch templates and configurations): no public IP, IMDSv2 and
a hop limit of one, no SSH key pair in a private-only stack, no secrets in user data.

Unset means what EC2 does: `http_tokens` unset accepts IMDSv1 unless the AMI (`imds_support` "v2.0") or the account's
instance-metadata defaults require IMDSv2, which the pack cannot see — so a message says "unless" rather than
claiming it. A message speaks of role credentials only when an instance profile is set (Amazon EC2 User Guide,
"Use instance metadata to manage your EC2 instance": the credentials IMDS serves are the instance profile role's).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator

from pulumi_policy import ResourceValidationArgs, Severity

from guard.kit import ADVISORY, PRIVATE_ONLY, resource_policy, where
from guard.types import INSTANCE, LAUNCH_CONFIGURATION, LAUNCH_TEMPLATE
from guard.values import UNKNOWN, as_list, fix, get, number

# What auto-scaling groups launch from: judged like an instance, since every instance they start inherits them.
LAUNCHES = (INSTANCE, LAUNCH_TEMPLATE, LAUNCH_CONFIGURATION)


def _subject(args: ResourceValidationArgs) -> str:
    return "the instance" if args.resource_type == INSTANCE else "every instance launched from it"


def ec2_no_public_ip(args: ResourceValidationArgs) -> Iterator[str]:
    if args.resource_type == LAUNCH_TEMPLATE:
        # A string in a launch template's network interfaces ("true"/"false"); unset follows the subnet.
        for i, nic in enumerate(as_list(get(args.props, "networkInterfaces", []))):
            if str(get(nic, "associatePublicIpAddress", "")).lower() == "true":
                yield fix(f"network interface {i} gives every instance launched from it a public IP", where(args),
                          f'set network_interfaces[{i}].associate_public_ip_address="false"')
    elif get(args.props, "associatePublicIpAddress") is True:
        yield fix(f"{_subject(args)} gets a public IP", where(args), "set associate_public_ip_address=False")


def _has_profile(args: ResourceValidationArgs) -> bool:
    return bool(get(args.props, "iamInstanceProfile"))


def ec2_imdsv2(args: ResourceValidationArgs) -> Iterator[str]:
    if get(args.props, "metadataOptions.httpEndpoint") == "disabled":
        return  # the metadata service is off: neither IMDSv1 nor IMDSv2 answers
    tokens = get(args.props, "metadataOptions.httpTokens")
    if tokens == "required":
        return
    if tokens is UNKNOWN:
        args.not_applicable("metadata_options.http_tokens is unknown until its inputs exist; checked during update")
    exposed = ("its instance profile's role credentials" if _has_profile(args) else
               "its instance metadata (and the role credentials of any instance profile attached later)")
    if tokens is None:
        yield fix(f"metadata_options.http_tokens is unset, so {_subject(args)} accepts IMDSv1 unless its AMI "
                  "(imds_support \"v2.0\") or the account's instance-metadata defaults require IMDSv2; through "
                  f"IMDSv1 an SSRF on the host can read {exposed}", where(args),
                  'set metadata_options.http_tokens="required"')
    else:
        yield fix(f"IMDSv1 is allowed (http_tokens \"{tokens}\"), so an SSRF on the host can read {exposed}",
                  where(args), 'set metadata_options.http_tokens="required"')


def ec2_imds_hop_limit(args: ResourceValidationArgs) -> Iterator[str]:
    limit = get(args.props, "metadataOptions.httpPutResponseHopLimit")
    if isinstance(limit, (int, float)) and limit > 1 and get(args.props, "metadataOptions.httpEndpoint") != "disabled":
        reach = "the instance's metadata and role credentials" if _has_profile(args) else "the instance's metadata"
        yield fix(f"the metadata response hop limit is {number(limit)}, so containers on {_subject(args)} (one hop "
                  f"further) can read {reach}", where(args),
                  "set metadata_options.http_put_response_hop_limit=1, unless its containers must reach IMDS (AWS "
                  "recommends 2 for container hosts that need it)")


def ec2_no_key_pair(args: ResourceValidationArgs) -> Iterator[str]:
    if get(args.props, "keyName"):
        yield fix(f"{_subject(args)} has an SSH key pair, and the stack is meant to be private-only", where(args),
                  "remove key_name: Session Manager needs no key and no inbound port")


# What leaks from user data: anyone, and any software, on the instance can read it through IMDS (Amazon EC2 User
# Guide, "Run commands when you launch an EC2 instance with user data input": do not put passwords or keys in it).
SECRETS = {
    "an AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "an AWS secret access key": re.compile(r"aws_secret_access_key\s*[=:]\s*['\"]?[A-Za-z0-9/+]{40}", re.IGNORECASE),
    "a private key": re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----"),
    "a password or token": re.compile(r"[A-Za-z_]*(?:password|passwd|secret|token)[A-Za-z_]*\s*[=:]\s*['\"]?"
                                      r"(?![$`])[^\s'\"]{6,}", re.IGNORECASE),
}


def _user_data(args: ResourceValidationArgs) -> object:
    text = get(args.props, "userData")
    encoded = args.resource_type == LAUNCH_TEMPLATE
    if text is None:
        text, encoded = get(args.props, "userDataBase64"), True
    if isinstance(text, str) and encoded:
        try:
            return base64.b64decode(text, validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            return text
    return text


def ec2_no_secrets_in_user_data(args: ResourceValidationArgs) -> Iterator[str]:
    text = _user_data(args)
    if text is UNKNOWN:
        args.not_applicable("the user data is unknown until its inputs exist; checked during update")
    if not isinstance(text, str):
        return
    found = [name for name, pattern in SECRETS.items() if pattern.search(text)]
    if found:
        yield fix(f"its user data holds what looks like {', '.join(found)}, readable by anyone and any software on "
                  f"{_subject(args)} through the instance metadata service", where(args),
                  "keep the secret in Secrets Manager or SSM Parameter Store (SecureString) and read it at boot "
                  "with the instance profile's role")


POLICIES = [
    resource_policy("ec2-no-public-ip", "EC2 instances, launch templates and launch configurations give no public IP.",
                    LAUNCHES, ec2_no_public_ip, controls=("EC2.9", "EC2.25", "AutoScaling.5"),
                    reads="Instance/LaunchConfiguration associate_public_ip_address, LaunchTemplate network_interfaces",
                    severity=Severity.CRITICAL),
    resource_policy("ec2-imdsv2", "EC2 instances, launch templates and launch configurations require IMDSv2.",
                    LAUNCHES, ec2_imdsv2, controls=("EC2.8", "EC2.170", "AutoScaling.3"),
                    reads="metadata_options http_endpoint, http_tokens; iam_instance_profile"),
    resource_policy("ec2-imds-hop-limit", "Instance metadata answers only the instance itself: hop limit 1 "
                    "(advisory).", LAUNCHES, ec2_imds_hop_limit, level=ADVISORY, severity=Severity.MEDIUM,
                    reads="metadata_options http_put_response_hop_limit, http_endpoint; iam_instance_profile"),
    resource_policy("ec2-no-key-pair", "EC2 instances, launch templates and launch configurations carry no SSH key "
                    "pair in a private-only stack.", LAUNCHES, ec2_no_key_pair, reads="key_name",
                    applies=PRIVATE_ONLY, severity=Severity.MEDIUM),
    resource_policy("ec2-no-secrets-in-user-data", "User data holds no access keys, private keys or passwords "
                    "(advisory).", LAUNCHES, ec2_no_secrets_in_user_data, level=ADVISORY,
                    reads="Instance/LaunchConfiguration user_data, user_data_base64; LaunchTemplate user_data"),
]
