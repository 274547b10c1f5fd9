"""The private Pulumi APIs this project relies on sit in program/pulumi_internals.py, checked against pinned
versions: a new SDK version fails here first, naming what to re-check."""

from __future__ import annotations

from importlib import metadata

import pytest

from program import pulumi_internals


@pytest.mark.parametrize("package", sorted(pulumi_internals.CHECKED_WITH))
def test_the_installed_sdks_are_the_versions_the_internals_were_checked_against(package: str) -> None:
    assert metadata.version(package) == pulumi_internals.CHECKED_WITH[package], (
        f"{package} changed: re-check every function in program/pulumi_internals.py (and the pack's "
        "UnknownValueError), then update CHECKED_WITH")


def test_every_internal_entry_point_still_exists() -> None:
    import pulumi.runtime.config as runtime_config
    from pulumi.runtime import rpc, settings, stack, sync_await
    from pulumi.runtime.settings import SETTINGS
    from pulumi_policy import policy, proxy

    for module, name in ((runtime_config, "get_config_env"), (runtime_config, "CONFIG"),
                         (runtime_config, "set_all_config"), (sync_await, "_sync_await"), (settings, "ROOT"),
                         (settings, "get_root_resource"), (rpc, "serialize_properties"), (stack, "run_pulumi_func"),
                         (policy, "_PolicyAnalyzerServicer"), (proxy, "UnknownValueError")):
        assert hasattr(module, name), f"{module.__name__}.{name} is gone"
    assert hasattr(SETTINGS.rpc_manager, "clear") and hasattr(SETTINGS.outputs, "clear")


def test_no_module_outside_the_adapter_reaches_into_pulumi_internals() -> None:
    from conftest import ROOT

    private = ("pulumi.runtime.config", "pulumi.runtime.sync_await", "_sync_await", "pulumi.runtime.settings",
               "pulumi.runtime.rpc", "_PolicyAnalyzerServicer", "run_pulumi_func")
    offenders = []
    for path in [*ROOT.glob("*.py"), *ROOT.glob("components/airgap/*.py"), *ROOT.glob("program/*.py"),
                 *ROOT.glob("offline/*.py"), *ROOT.glob("ops/*.py")]:
        if path.name == "pulumi_internals.py":
            continue
        text = path.read_text()
        offenders += [f"{path.relative_to(ROOT)}: {p}" for p in private if p in text]
    assert offenders == []
