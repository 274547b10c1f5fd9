"""Config: every key declared once with its default, and every bad value stopped before anything registers."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
import yaml
from conftest import ROOT

from components import config
from components.config import KEYS, ConfigError, parse
from offline.harness import Registration, capture, stack_config

ZONES = ("ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d")


def parsed(region: str | None = "ap-northeast-1", zones: Sequence[str] = ZONES, **raw: str) -> config.Settings:
    return parse(raw, stack="test", region=region, zone_lookup=lambda: zones)


def problems(**kwargs: object) -> list[str]:
    with pytest.raises(ConfigError) as err:
        parsed(**kwargs)  # type: ignore[arg-type]
    return err.value.problems


def test_pulumi_yaml_declares_every_key_with_the_same_type_and_default() -> None:
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    assert set(declared) == set(KEYS)
    yaml_type = {"string": "string", "integer": "integer", "boolean": "boolean",
                 "string-list": "array", "integer-list": "array"}
    for key, spec in KEYS.items():
        assert declared[key]["type"] == yaml_type[spec.kind], key
        assert declared[key]["default"] == spec.default, key
        assert declared[key]["description"].strip(), key


def test_defaults_alone_make_a_valid_two_az_environment() -> None:
    settings = parsed()
    assert settings.availability_zones == ("ap-northeast-1a", "ap-northeast-1c")
    assert settings.endpoint_zones == settings.availability_zones
    assert settings.endpoints == ("ssm", "ssmmessages", "ecr.api", "ecr.dkr", "logs", "s3")


BAD_VALUES = [
    ({"vpcCidr": "10.0.0.0/33"}, "airgap:vpcCidr", "10.0.0.0/33", "IPv4 CIDR"),
    ({"vpcCidr": "10.40.0.1/16"}, "airgap:vpcCidr", "10.40.0.1/16", "no host bits"),
    ({"vpcCidr": "8.8.0.0/16"}, "airgap:vpcCidr", "8.8.0.0/16", "RFC 1918"),
    ({"vpcCidr": "10.0.0.0/8"}, "airgap:vpcCidr", "10.0.0.0/8", "/16 to /24"),
    ({"subnetPrefixLength": "16"}, "airgap:subnetPrefixLength", "16", "from 17 to 28"),
    ({"subnetPrefixLength": "twenty"}, "airgap:subnetPrefixLength", "twenty", "a whole number"),
    ({"azCount": "1"}, "airgap:azCount", "1", "2 or more"),
    ({"availabilityZones": '["ap-northeast-1a"]'}, "airgap:availabilityZones", "ap-northeast-1a", "at least two"),
    ({"availabilityZones": '["us-east-1a", "us-east-1b"]'}, "airgap:availabilityZones", "us-east-1a",
     "zone names of ap-northeast-1"),
    ({"availabilityZones": "ap-northeast-1a"}, "airgap:availabilityZones", "ap-northeast-1a", "YAML list"),
    ({"endpointPlacement": "two-az"}, "airgap:endpointPlacement", "two-az", "single-az"),
    ({"endpoints": '["ssm", "sqs"]'}, "airgap:endpoints", "sqs", "service names from"),
    ({"includeEc2Messages": "yes"}, "airgap:includeEc2Messages", "yes", "true or false"),
    ({"ssmHostInstanceType": "m5.24xlarge"}, "airgap:ssmHostInstanceType", "m5.24xlarge", "t4g.nano"),
    ({"bastion": "sometimes"}, "airgap:bastion", "sometimes", '"parked"'),
    ({"bastionCpu": "300"}, "airgap:bastionCpu", "300", "Fargate CPU size"),
    ({"bastionMemory": "4096"}, "airgap:bastionMemory", "4096", "with 256 CPU units"),
    ({"bastionImage": "nginx latest"}, "airgap:bastionImage", "nginx latest", "private ECR"),
    ({"bastionForwardPorts": "[22]"}, "airgap:bastionForwardPorts", "22", "other than 22 and 3389"),
    ({"bastionForwardPorts": "[70000]"}, "airgap:bastionForwardPorts", "70000", "1 to 65535"),
    ({"logRetentionDays": "10"}, "airgap:logRetentionDays", "10", "CloudWatch Logs accepts"),
    ({"production": "maybe"}, "airgap:production", "maybe", "true or false"),
    ({"vpcCidr": "10.40.0.0/24", "subnetPrefixLength": "26", "availabilityZones":
      '["ap-northeast-1a", "ap-northeast-1f"]'}, "airgap:vpcCidr", "10.40.0.0/24", "ap-northeast-1f"),
]


@pytest.mark.parametrize(("raw", "key", "value", "expected"), BAD_VALUES, ids=[b[1] + "=" + b[2] for b in BAD_VALUES])
def test_bad_value_names_key_value_and_expected_form(raw: dict, key: str, value: str, expected: str) -> None:
    found = problems(**raw)
    assert len(found) == 1, found
    assert found[0].startswith(f"{key} = "), found[0]
    assert value in found[0] and expected in found[0], found[0]
    assert ": expected " in found[0]


@pytest.mark.parametrize(("region", "expected"), [
    (None, "aws:region is not set"),
    ("tokyo", 'aws:region = "tokyo": expected a region name'),
    ("cn-north-1", "standard aws partition"),
])
def test_region_is_required_and_checked(region: str | None, expected: str) -> None:
    assert expected in problems(region=region)[0]


def test_every_bad_value_is_reported_in_one_error() -> None:
    with pytest.raises(ConfigError) as err:
        parsed(vpcCidr="nope", bastion="maybe", logRetentionDays="10")
    assert len(err.value.problems) == 3
    text = str(err.value)
    assert "3 problems; nothing was created" in text
    assert all(k in text for k in ("airgap:vpcCidr", "airgap:bastion", "airgap:logRetentionDays"))


def test_zone_lookup_is_not_called_while_static_values_are_wrong() -> None:
    def lookup() -> list[str]:
        raise AssertionError("AWS was asked for zones although the config was already known to be bad")

    with pytest.raises(ConfigError):
        parse({"vpcCidr": "bad"}, stack="t", region="ap-northeast-1", zone_lookup=lookup)


def test_more_azs_than_the_region_has_is_an_error_naming_the_zones() -> None:
    found = problems(azCount="4")
    assert found == ['airgap:azCount = 4: expected at most 3, the AZs this account has in the region '
                     '(ap-northeast-1a, ap-northeast-1c, ap-northeast-1d)']


def test_subnet_cidrs_follow_the_zone_letter_so_adding_an_az_moves_nothing() -> None:
    two = parsed(azCount="2")
    three = parsed(azCount="3")
    for zone in two.availability_zones:
        assert two.subnet_cidr(zone) == three.subnet_cidr(zone)
    assert str(three.subnet_cidr("ap-northeast-1d")) == "10.40.3.0/24"
    cidrs = [three.subnet_cidr(z) for z in three.availability_zones]
    assert all(a != b and not a.overlaps(b) for i, a in enumerate(cidrs) for b in cidrs[i + 1:])


@pytest.mark.parametrize(("raw", "endpoints"), [
    ({}, ("ssm", "ssmmessages", "ecr.api", "ecr.dkr", "logs", "s3")),
    ({"bastion": "off"}, ("ssm", "ssmmessages", "s3")),
    ({"bastion": "off", "includeEc2Messages": "true"}, ("ssm", "ssmmessages", "ec2messages", "s3")),
    ({"ssmHost": "false", "fileShare": "false", "execKms": "true"},
     ("ssmmessages", "ecr.api", "ecr.dkr", "logs", "kms", "s3")),
    ({"ssmHost": "false", "fileShare": "false", "bastion": "off"}, ()),
    ({"endpoints": '["s3", "ssm"]'}, ("ssm", "s3")),
])
def test_endpoints_follow_the_workloads_unless_overridden(raw: dict, endpoints: tuple) -> None:
    assert parsed(**raw).endpoints == endpoints


def test_a_misspelt_key_is_reported_and_nothing_is_registered() -> None:
    sink: list[Registration] = []
    with pytest.raises(ConfigError) as err:
        capture("dev", "preview", {"vpcCIDR": "10.1.0.0/16"}, sink=sink)
    assert 'airgap:vpcCIDR = "10.1.0.0/16": expected one of the declared keys' in str(err.value)
    assert sink == []


@pytest.mark.parametrize("raw", [b[0] for b in BAD_VALUES[:12]])
def test_the_program_registers_nothing_when_config_is_bad(raw: dict) -> None:
    sink: list[Registration] = []
    with pytest.raises(ConfigError):
        capture("dev", "preview", raw, sink=sink)
    assert sink == [], [r.name for r in sink]


def test_stack_config_merges_project_defaults_under_the_stack_file() -> None:
    merged = stack_config("dev")
    assert merged["aws:region"] == "ap-northeast-1"
    assert merged["airgap:endpointPlacement"] == "single-az"  # from Pulumi.dev.yaml
    assert merged["airgap:vpcCidr"] == "10.40.0.0/16"  # project default
    assert merged["airgap:bastionForwardPorts"] == "[8080]"
