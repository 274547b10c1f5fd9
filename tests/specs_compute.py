"""Specs for EC2 instances, launch templates and configurations, EBS volumes and Auto Scaling groups."""

from __future__ import annotations

import base64

from guard_spec import UNKNOWN, Spec, res, set_path

from guard.types import (  # isort: skip
    AUTOSCALING_GROUP,
    EBS_VOLUME,
    INSTANCE,
    LAUNCH_CONFIGURATION,
    LAUNCH_TEMPLATE,
)

IMDS = ("Amazon EC2 User Guide, 'Configure the Instance Metadata Service options': http_tokens required refuses "
        "IMDSv1; unset follows the AMI's ImdsSupport and the account defaults; http_endpoint disabled turns IMDS off")
HOP = ("Amazon EC2 User Guide, 'Instance metadata access considerations': the hop limit counts network hops; "
       "containers on the host are one more hop; AWS recommends 2 only where containers need IMDS")
EBS = ("Amazon EBS User Guide, 'Amazon EBS encryption': volumes are unencrypted unless encrypted is set, encryption "
       "by default is on for the account and Region, or the snapshot is encrypted (FSBP EC2.3)")
USER_DATA = ("Amazon EC2 User Guide, 'Run commands when you launch an EC2 instance with user data input': user data "
             "is not protected; don't store passwords or long-lived keys in it")
ASG = ("Amazon EC2 Auto Scaling User Guide, 'Launch configurations' (AWS adds no new instance types or features to "
       "them; FSBP AutoScaling.9) and 'Instance refresh'")

GOOD_INSTANCE = {"ami": "ami-0123456789abcdef0", "instanceType": "t4g.micro", "iamInstanceProfile": "host",
                 "metadataOptions": {"httpEndpoint": "enabled", "httpTokens": "required",
                                     "httpPutResponseHopLimit": 1},
                 "rootBlockDevice": {"encrypted": True, "volumeSize": 8},
                 "ebsBlockDevices": [{"deviceName": "/dev/sdf", "encrypted": True, "volumeSize": 20}],
                 "userData": "#!/bin/bash\nexport DB_PASSWORD=$(aws ssm get-parameter --name db --with-decryption)\n"}
GOOD_TEMPLATE = {"imageId": "ami-0123456789abcdef0", "instanceType": "t4g.micro",
                 "metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1},
                 "networkInterfaces": [{"associatePublicIpAddress": "false"}],
                 "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "volumeSize": 8}}],
                 "userData": base64.b64encode(b"#!/bin/bash\necho ready\n").decode()}
GOOD_CONFIGURATION = {"imageId": "ami-0123456789abcdef0", "instanceType": "t3.micro",
                      "metadataOptions": {"httpTokens": "required"}, "rootBlockDevice": {"encrypted": True}}


def instance(path: str = "", value: object = None, name: str = "host") -> list:
    return [res(INSTANCE, name, set_path(GOOD_INSTANCE, path, value) if path else GOOD_INSTANCE)]


def template(path: str = "", value: object = None) -> list:
    return [res(LAUNCH_TEMPLATE, "web", set_path(GOOD_TEMPLATE, path, value) if path else GOOD_TEMPLATE)]


def configuration(path: str = "", value: object = None) -> list:
    props = set_path(GOOD_CONFIGURATION, path, value) if path else GOOD_CONFIGURATION
    return [res(LAUNCH_CONFIGURATION, "legacy", props)]


def group_on(source: list, prop: str) -> list:
    return [*source, res(AUTOSCALING_GROUP, "fleet", {"minSize": 1, "maxSize": 2, prop: {"id": "lt-1"}
                                                      if prop == "launchTemplate" else "legacy"}, **{prop: source[0]})]


SPECS = [
    # --- IMDSv2: the disabled endpoint (bug), what the message claims (misleading), unset vs optional --------------
    Spec("ec2-imdsv2", lambda: instance(), None, IMDS, id="required"),
    Spec("ec2-imdsv2", lambda: instance("metadataOptions", {"httpEndpoint": "disabled"}), None, IMDS,
         id="endpoint-disabled-is-not-imdsv1"),
    Spec("ec2-imdsv2", lambda: instance("metadataOptions.httpTokens", "optional"),
         "IMDSv1 is allowed (http_tokens \"optional\"), so an SSRF on the host can read its instance profile's role "
         "credentials", IMDS, id="optional-with-profile"),
    Spec("ec2-imdsv2", lambda: [res(INSTANCE, "bare", set_path(set_path(GOOD_INSTANCE, "iamInstanceProfile", None),
                                                                "metadataOptions.httpTokens", "optional"))],
         "can read its instance metadata (and the role credentials of any instance profile attached later)", IMDS,
         id="no-profile-no-credentials-claim"),
    Spec("ec2-imdsv2", lambda: template("metadataOptions", None),
         "unless its AMI (imds_support \"v2.0\") or the account's instance-metadata defaults require IMDSv2", IMDS,
         id="template-unset-says-unless"),
    Spec("ec2-imdsv2", lambda: configuration("metadataOptions.httpTokens", "optional"), "IMDSv1 is allowed", IMDS,
         id="launch-configuration"),
    # --- hop limit (gap) ---------------------------------------------------------------------------------------------
    Spec("ec2-imds-hop-limit", lambda: template(), None, HOP, id="one-hop"),
    Spec("ec2-imds-hop-limit", lambda: template("metadataOptions.httpPutResponseHopLimit", 2),
         "hop limit is 2, so containers on every instance launched from it (one hop further) can read the "
         "instance's metadata", HOP, id="two-hops-template"),
    Spec("ec2-imds-hop-limit", lambda: instance("metadataOptions.httpPutResponseHopLimit", 3),
         "can read the instance's metadata and role credentials", HOP, id="three-hops-instance-with-profile"),
    # --- public IPs ---------------------------------------------------------------------------------------------
    Spec("ec2-no-public-ip", lambda: template(), None, "FSBP EC2.25", id="template-private"),
    Spec("ec2-no-public-ip", lambda: template("networkInterfaces.0.associatePublicIpAddress", "true"),
         "network interface 0 gives every instance launched from it a public IP", "FSBP EC2.25", id="template-public"),
    # --- secrets in user data (gap) -----------------------------------------------------------------------------
    Spec("ec2-no-secrets-in-user-data", lambda: instance(), None, USER_DATA, id="fetched-at-boot"),
    Spec("ec2-no-secrets-in-user-data", lambda: instance("userData", "#!/bin/bash\nexport AWS_ACCESS_KEY_ID="
                                                         "AKIAIOSFODNN7EXAMPLE\n"),
         "looks like an AWS access key id", USER_DATA, id="access-key"),
    Spec("ec2-no-secrets-in-user-data", lambda: template("userData", base64.b64encode(
        b"#!/bin/bash\necho 'db_password=hunter2hunter2' > /etc/app.conf\n").decode()),
        "a password or token", USER_DATA, id="template-base64-password"),
    Spec("ec2-no-secrets-in-user-data", lambda: instance("userData", UNKNOWN), None, USER_DATA,
         id="unknown-is-not-applicable"),
    # --- EBS encryption: non-root devices, launch configurations, standalone volumes (gaps) -------------------------
    Spec("ebs-encrypted-volumes", lambda: instance(), None, EBS, id="instance-encrypted"),
    Spec("ebs-encrypted-volumes", lambda: instance("ebsBlockDevices.0.encrypted", False),
         "ebs_block_devices[0] (/dev/sdf).encrypted is false", EBS, id="instance-extra-volume"),
    Spec("ebs-encrypted-volumes", lambda: template("blockDeviceMappings.0.ebs.encrypted", "false"),
         "block_device_mappings[0] (/dev/xvda).ebs.encrypted is false", EBS, id="template-mapping"),
    Spec("ebs-encrypted-volumes", lambda: [res(EBS_VOLUME, "data", {"availabilityZone": "ap-northeast-1a",
                                                                    "size": 10, "encrypted": True})], None, EBS,
         id="volume-encrypted"),
    Spec("ebs-encrypted-volumes", lambda: [res(EBS_VOLUME, "data", {"availabilityZone": "ap-northeast-1a",
                                                                    "size": 10, "snapshotId": "snap-1"})],
         "encrypted is unset, so it is unencrypted unless the account encrypts new EBS volumes by default in this "
         "region or its snapshot is encrypted", EBS, id="volume-unset-from-snapshot"),
    Spec("ebs-encrypted-volumes", lambda: configuration("ebsBlockDevices", [{"deviceName": "/dev/sdf",
                                                                               "encrypted": True}]), None, EBS,
         id="configuration-extra-volume-encrypted"),
    Spec("ebs-encrypted-volumes", lambda: configuration("ebsBlockDevices", [{"deviceName": "/dev/sdf"}]),
         "ebs_block_devices[0] (/dev/sdf).encrypted is unset", EBS, id="configuration-extra-volume-unset"),
    Spec("ec2-encrypted-root", lambda: configuration(), None, EBS, id="configuration-root-encrypted"),
    Spec("ec2-encrypted-root", lambda: configuration("rootBlockDevice", None),
         "root_block_device.encrypted is unset, so it is unencrypted unless", EBS, id="configuration-root-unset"),
    # --- Auto Scaling groups (gap) ------------------------------------------------------------------------------
    Spec("autoscaling-launch-template", lambda: group_on(template(), "launchTemplate"), None, ASG, id="template"),
    Spec("autoscaling-launch-template", lambda: group_on(configuration(), "launchConfiguration"),
         "launches from a launch configuration", ASG, id="configuration"),
    Spec("autoscaling-group-launches", lambda: group_on(template(), "launchTemplate"), None, ASG, id="safe-template"),
    Spec("autoscaling-group-launches", lambda: group_on(template("metadataOptions.httpTokens", "optional"),
                                                        "launchTemplate"),
         "Group 'fleet': every instance it starts inherits from LaunchTemplate 'web': IMDSv1 is allowed", ASG,
         id="unsafe-template-named-on-the-group"),
    Spec("ec2-no-key-pair", lambda: instance(), None, "Systems Manager User Guide, 'Session Manager' (no SSH keys)",
         {"privateOnly": True}, id="no-key"),
    Spec("ec2-no-key-pair", lambda: instance("keyName", "ops"), "has an SSH key pair",
         "Systems Manager User Guide, 'Session Manager' (no SSH keys)", {"privateOnly": True}, id="key"),
]
