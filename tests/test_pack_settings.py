"""The pack's settings: every level at once (`all`), per-policy overrides and `disabled`, the posture, the version in
one place — applied as the Pulumi CLI applies a policy pack's config (all first, then each policy)."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT
from guard_spec import judge, res

from offline.guard_run import plain_levels, reconcile

from guard import PACK_VERSION, POLICIES, Settings, pack_initial_config  # isort: skip
from guard.settings import initial_config  # isort: skip
from guard.types import INTERNET_GATEWAY, SG  # isort: skip

OPEN = [res(SG, "web", {"description": "", "ingress": [{"protocol": "tcp", "fromPort": 22, "toPort": 22,
                                                         "cidrBlocks": ["0.0.0.0/0"]}]})]


def levels(policy: str, config: dict | None) -> set[str]:
    return {f.level for f in judge(policy, OPEN, config).by_policy(policy)}


def test_each_policy_keeps_its_own_level_by_default() -> None:
    assert levels("no-ingress-from-anywhere", None) == {"mandatory"}
    assert levels("security-group-description", None) == {"advisory"}


def test_all_sets_every_level_and_a_policys_own_entry_overrides_it() -> None:
    assert levels("no-ingress-from-anywhere", {"all": "advisory"}) == {"advisory"}
    assert levels("security-group-description", {"all": "mandatory"}) == {"mandatory"}
    config = {"all": "advisory", "no-ingress-from-anywhere": {"enforcementLevel": "mandatory"}}
    assert levels("no-ingress-from-anywhere", config) == {"mandatory"}


def test_disabled_turns_a_policy_off() -> None:
    assert levels("no-ingress-from-anywhere", {"no-ingress-from-anywhere": "disabled"}) == set()
    assert levels("no-ingress-from-anywhere", {"all": "disabled"}) == set()


def test_a_policy_name_that_is_not_the_packs_is_refused() -> None:
    with pytest.raises(KeyError, match="no-such-policy"):
        judge("no-ingress-from-anywhere", OPEN, {"no-such-policy": "disabled"})


def test_settings_become_the_initial_config_the_cli_applies_first() -> None:
    knobs = {p.name: bool(p.config_schema and "privateOnly" in p.config_schema.properties) for p in POLICIES}
    settings = Settings(all="advisory", private_only=True, policies={"lb-internal": "disabled",
                                                                     "endpoint-budget": {"monthlyBudgetUsd": 100}})
    initial = initial_config(settings, knobs)
    result = reconcile(POLICIES, plain_levels(initial))
    assert result["lb-internal"][0].value == "disabled"
    assert result["no-ingress-from-anywhere"][0].value == "advisory"
    assert result["endpoint-budget"][1]["monthlyBudgetUsd"] == 100
    assert result["no-internet-gateway"][1]["privateOnly"] is True
    assert "privateOnly" not in result["rds-encrypted"][1]  # posture-neutral policies have no such knob


@pytest.mark.parametrize(("settings", "message"), [
    (Settings(all="strict"), "'strict' is not an enforcement level"),
    (Settings(policies={"lb-internl": "disabled"}), "'lb-internl' is not a policy of airgap-guard"),
    (Settings(private_only="yes"), "privateOnly: 'yes' is not true, false or \"auto\""),
])
def test_bad_settings_are_refused_naming_what_is_wrong(settings: Settings, message: str) -> None:
    knobs = {p.name: True for p in POLICIES}
    with pytest.raises(ValueError, match=re.escape(message)):
        initial_config(settings, knobs)


def test_the_pack_as_published_keeps_each_policys_own_level_and_infers_the_posture() -> None:
    assert pack_initial_config() == {}
    assert judge("no-internet-gateway", [res(INTERNET_GATEWAY, "igw", project="other")]).violations == []


def test_the_version_lives_in_pulumipolicy_yaml_only() -> None:
    declared = re.search(r"^version:\s*(\S+)", (ROOT / "policy" / "PulumiPolicy.yaml").read_text(), re.M)
    assert declared is not None and declared.group(1) == PACK_VERSION
    for path in [ROOT / "offline" / "guard_run.py", *sorted((ROOT / "policy").rglob("*.py")), ROOT / "README.md"]:
        text = path.read_text()
        assert f'"{PACK_VERSION}"' not in text and f"airgap-guard {PACK_VERSION}" not in text, path
