"""Cost: estimated from the resources the stack registers, at the one price table the budget policy also uses."""

from __future__ import annotations

import pytest
from conftest import captured

from offline import cost
from offline.guard_run import analyze

from guard.prices import HOURS_PER_MONTH, PRICES, SOURCES, prices_for  # isort: skip

pytestmark = pytest.mark.program

TOKYO = PRICES["ap-northeast-1"]


def test_every_region_prices_every_offered_instance_type() -> None:
    from airgap.catalog import INSTANCE_TYPES

    for region, table in PRICES.items():
        assert set(table.ec2_hour) == set(INSTANCE_TYPES), region
    assert SOURCES, "every figure needs its provenance"


# The host alone: ssm, ssmmessages, and its shells' kms and logs; the bastion adds ecr.api and ecr.dkr.
@pytest.mark.parametrize(("mode", "interfaces"), [("off", 4), ("parked", 6), ("on", 6)])
def test_endpoint_cost_counts_endpoint_azs_billed_every_hour(mode: str, interfaces: int) -> None:
    estimate = cost.estimate(captured("dev", "preview", bastion=mode, database=False))
    assert estimate.endpoint_azs == interfaces
    expected = interfaces * TOKYO.interface_endpoint_hour * HOURS_PER_MONTH + 5 * TOKYO.interface_endpoint_gb
    assert estimate.by_component["endpoints"] == pytest.approx(expected)


def test_every_az_placement_multiplies_the_endpoint_bill() -> None:
    single = cost.estimate(captured("dev", "preview")).by_component["endpoints"]
    every = cost.estimate(captured("dev", "preview", endpointPlacement="every-az")).by_component["endpoints"]
    assert every - 5 * TOKYO.interface_endpoint_gb == pytest.approx(2 * (single - 5 * TOKYO.interface_endpoint_gb))


def test_bastion_costs_nothing_when_off_little_when_parked_and_all_month_when_on() -> None:
    rate = 0.25 * TOKYO.fargate_vcpu_hour + 0.5 * TOKYO.fargate_gb_hour  # 256 CPU / 512 MiB on Graviton
    by_mode = {m: cost.estimate(captured("dev", "preview", bastion=m, database=False)).by_component.get("bastion", 0)
               for m in ("off", "parked", "on")}
    assert by_mode["off"] == 0
    assert by_mode["parked"] == pytest.approx(rate * 20 + TOKYO.logs_ingest_gb)
    assert by_mode["on"] == pytest.approx(rate * HOURS_PER_MONTH + TOKYO.logs_ingest_gb)


def test_host_and_share_follow_their_resources() -> None:
    estimate = cost.estimate(captured("dev", "preview", ssmHostInstanceType="t3.small"))
    assert estimate.by_component["ssm-host"] == pytest.approx(TOKYO.ec2_hour["t3.small"] * HOURS_PER_MONTH
                                                               + 8 * TOKYO.gp3_gb_month)
    assert estimate.by_component["file-share"] == pytest.approx(5 * TOKYO.efs_standard_gb_month)


def test_the_budget_policy_and_the_plan_agree_on_the_endpoint_bill() -> None:
    cap = captured("dev", "preview", endpointPlacement="every-az", azCount=3)
    estimate = cost.estimate(cap)
    hourly_part = estimate.by_component["endpoints"] - 5 * TOKYO.interface_endpoint_gb
    (finding,) = analyze(cap).by_policy("endpoint-budget")
    assert f"${hourly_part:.0f}/month" in finding.message


def test_unknown_region_is_priced_as_us_east_1_and_says_so() -> None:
    assert prices_for("sa-east-1")[1] == "us-east-1"
    lines = cost.render("parked", {"parked": cost.estimate(captured("dev", "preview", **{"aws:region": "us-west-2"}))})
    assert "no prices for us-west-2: priced as us-east-1" in lines[0]


def test_the_readme_shows_the_cost_table_the_plan_prints(cap) -> None:
    from conftest import ROOT

    from offline.plan import cost_lines

    readme = (ROOT / "README.md").read_text()
    stale = [line for line in cost_lines(cap("dev", "preview"), {}) if line not in readme]
    assert stale == [], "README's cost table is stale: paste the plan's 'Monthly cost estimate' block"
