"""Config: every key declared once with its default, and every bad value stopped before anything registers."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
import yaml
from conftest import ROOT

from offline.harness import Registration, capture
from offline.stack_files import stack_config
from program import config
from program.config import KEYS, ConfigError, parse
from program.lookups import EndpointOffer

ZONES = ("ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d")


class FakeAws:
    """AwsLookups as a test sets them: the account's zones, and where each interface service is offered."""

    def __init__(self, zones: Sequence[str] = ZONES, not_offered: dict[str, set[str]] | None = None,
                 missing: set[str] = frozenset(), policy: bool = True) -> None:
        self._zones, self.not_offered, self.missing, self.policy = list(zones), not_offered or {}, missing, policy
        self.asked: list[str] = []

    def zones(self) -> Sequence[str]:
        self.asked.append("zones")
        return self._zones

    def account_id(self) -> str:
        self.asked.append("account")
        return "123456789012"

    def own_outputs(self) -> dict[str, object]:
        return {}  # a stack never deployed

    def role_exists(self, name: str) -> bool:
        return True

    def endpoint_service(self, service_name: str) -> EndpointOffer | None:
        self.asked.append(service_name)
        short = service_name.split(".", 3)[-1]
        if short in self.missing:
            return None
        return EndpointOffer(tuple(z for z in self._zones if z not in self.not_offered.get(short, set())),
                             self.policy)


def parsed(region: str | None = "ap-northeast-1", zones: Sequence[str] = ZONES, aws: FakeAws | None = None,
           stack: str = "test", project: str = "airgap", **raw: str) -> config.Settings:
    return parse(raw, stack=stack, project=project, region=region, aws=aws or FakeAws(zones))


def problems(**kwargs: object) -> list[str]:
    with pytest.raises(ConfigError) as err:
        parsed(**kwargs)  # type: ignore[arg-type]
    return err.value.problems


def test_pulumi_yaml_declares_exactly_the_keys_the_sections_declare() -> None:
    """One declaration per key (its section); Pulumi.yaml's config block is written from them, never by hand."""
    from program import schema

    assert (ROOT / "Pulumi.yaml").read_text() == schema.written((ROOT / "Pulumi.yaml").read_text()), \
        "run `python3 dev.py config-schema`"
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    assert set(declared) == set(KEYS)
    for key, spec in KEYS.items():
        assert declared[key]["default"] == spec.default, key
        assert declared[key]["description"].strip(), key


def test_the_readmes_configuration_table_lists_every_key_with_its_default() -> None:
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("| key | default | meaning |"):].split("\n\n", 1)[0]
    rows = {}
    for line in table.splitlines()[2:]:
        keys, defaults = line.split(" | ")[:2]
        for key, default in zip(keys.strip("| ").split(" / "), defaults.split(" / "), strict=True):
            rows[key.strip("`")] = default.split(" (")[0].strip("`")
    assert set(rows) - {"aws:region"} == set(KEYS), "a key missing from (or stale in) README's Configuration table"
    for key, spec in KEYS.items():
        shown = yaml.safe_load(rows[key])
        assert spec.default in (shown, str(shown)), f"README's default for {key}: {rows[key]}, not {spec.default!r}"


def test_defaults_alone_make_a_valid_two_az_environment() -> None:
    settings = parsed()
    assert settings.availability_zones == ("ap-northeast-1a", "ap-northeast-1c")
    assert set(settings.endpoint_zones.values()) == {settings.availability_zones}
    # The host's shells are encrypted with the stack's key and streamed to its log group: kms and logs.
    assert settings.endpoints == ("ssm", "ssmmessages", "ecr.api", "ecr.dkr", "logs", "kms", "s3")


# Every bad value, with its key, value and expected message, is in the corpus: tests/bad_inputs.py.


@pytest.mark.parametrize(("region", "expected"), [
    (None, "aws:region is not set"),
    ("tokyo", 'aws:region = "tokyo": expected an AWS region'),
    ("ap-northest-1", 'did you mean "ap-northeast-1"?'),
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


def test_aws_is_not_asked_while_static_values_are_wrong() -> None:
    aws = FakeAws()
    with pytest.raises(ConfigError):
        parse({"vpcCidr": "bad"}, stack="t", region="ap-northeast-1", aws=aws)
    assert aws.asked == []


# --- interface endpoints only where AWS offers them ------------------------------------------------------------

def test_each_interface_endpoint_is_placed_only_in_zones_that_offer_it() -> None:
    aws = FakeAws(not_offered={"ecr.dkr": {"ap-northeast-1a"}})
    settings = parsed(aws=aws, endpointPlacement="every-az")
    assert settings.endpoint_zones["ecr.dkr"] == ("ap-northeast-1c",)
    assert settings.endpoint_zones["ssm"] == ("ap-northeast-1a", "ap-northeast-1c")
    assert "s3" not in settings.endpoint_zones  # a gateway has no zones
    assert "com.amazonaws.ap-northeast-1.ecr.dkr" in aws.asked


def test_single_az_takes_the_first_stack_zone_that_offers_the_service() -> None:
    settings = parsed(aws=FakeAws(not_offered={"ssm": {"ap-northeast-1a"}}), endpointPlacement="single-az")
    assert settings.endpoint_zones["ssm"] == ("ap-northeast-1c",)
    assert settings.endpoint_zones["ssmmessages"] == ("ap-northeast-1a",)


def test_a_needed_service_offered_in_none_of_the_zones_is_a_config_error() -> None:
    found = problems(aws=FakeAws(not_offered={"ssmmessages": {"ap-northeast-1a", "ap-northeast-1c"}}))
    assert found == ['airgap:availabilityZones = ["ap-northeast-1a", "ap-northeast-1c"]: expected at least one '
                     "zone where AWS offers the ssmmessages endpoint (ap-northeast-1d); list the zones explicitly "
                     "to include one"]


def test_a_service_the_region_does_not_offer_is_a_config_error() -> None:
    found = problems(aws=FakeAws(missing={"ecr.api"}))
    assert found == ['airgap:endpoints = "ecr.api": expected a service with an interface endpoint in '
                     "ap-northeast-1; AWS offers no com.amazonaws.ap-northeast-1.ecr.api there"]


# --- physical names --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("stack", ["Dev", "dev.1", "dev-", "-dev", "a__b", "feature/x"])
def test_a_stack_name_aws_names_cannot_carry_is_a_config_error(stack: str) -> None:
    (found,) = problems(stack=stack)
    assert found.startswith(f'stack name "{stack}": expected lowercase letters and digits'), found
    assert "pulumi stack rename" in found


@pytest.mark.parametrize("stack", ["dev", "prod-eu", "team_a", "pr123"])
def test_usual_stack_names_are_accepted(stack: str) -> None:
    assert parsed(stack=stack).names.prefix == f"airgap-{stack}"


def test_a_project_name_aws_names_cannot_carry_is_a_config_error() -> None:
    (found,) = problems(project="AirGap")
    assert found.startswith('project name "AirGap"')


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
    ({}, ("ssm", "ssmmessages", "ecr.api", "ecr.dkr", "logs", "kms", "s3")),
    ({"bastion": "off"}, ("ssm", "ssmmessages", "logs", "kms", "s3")),
    ({"bastion": "off", "includeEc2Messages": "true"}, ("ssm", "ssmmessages", "ec2messages", "logs", "kms", "s3")),
    ({"ssmHost": "false", "fileShare": "false", "execKms": "true"},
     ("ssmmessages", "ecr.api", "ecr.dkr", "logs", "kms", "s3")),
    ({"endpoints": '["s3", "ssm", "ssmmessages", "logs", "kms"]', "bastion": "off"},
     ("ssm", "ssmmessages", "logs", "kms", "s3")),
    ({"endpoints": '["s3", "ssm", "ssmmessages", "logs", "kms", "sts"]', "bastion": "off"},
     ("ssm", "ssmmessages", "logs", "kms", "sts", "s3")),
])
def test_endpoints_follow_the_workloads_unless_overridden(raw: dict, endpoints: tuple) -> None:
    assert parsed(**raw).endpoints == endpoints


@pytest.mark.program
def test_a_misspelt_key_is_reported_and_nothing_is_registered() -> None:
    sink: list[Registration] = []
    with pytest.raises(ConfigError) as err:
        capture("dev", "preview", {"vpcCIDR": "10.1.0.0/16"}, sink=sink)
    assert 'airgap:vpcCIDR = "10.1.0.0/16": expected one of the declared keys' in str(err.value)
    assert sink == []


def test_stack_config_merges_project_defaults_under_the_stack_file() -> None:
    merged = stack_config("dev")
    assert merged["aws:region"] == "ap-northeast-1"
    assert merged["airgap:endpointPlacement"] == "single-az"  # from Pulumi.dev.yaml
    assert merged["airgap:vpcCidr"] == "10.40.0.0/16"  # project default
    assert merged["airgap:bastionForwardPorts"] == "[8080]"
