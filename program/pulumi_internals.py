"""Every private Pulumi API this project touches, in one place, checked against the versions below.

Pulumi's public Python API has no way to list the config keys a stack set (to catch a misspelt key), and no public
entry points for running a program under mocks and collecting its exports, or for driving a policy pack's analyzer
in-process. These are the SDK's own internals for that, used here and only here. `tests/test_pulumi_internals.py`
fails when the installed SDKs are not the versions they were checked against, and when an entry point has moved:
re-check each one, then raise the pins.

(The policy pack, `policy/`, is published on its own and cannot import this module: it uses one more internal,
`pulumi_policy.proxy.UnknownValueError`, which that test checks too.)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

T = TypeVar("T")

CHECKED_WITH = {"pulumi": "3.272.0", "pulumi-policy": "1.21.0"}


def config_present() -> dict[str, Any]:
    """Every config key the engine handed the program (namespaced), including ones no `Config.get` asked for."""
    from pulumi.runtime import config as runtime_config

    return {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}


def sync_await(awaitable: Awaitable[T]) -> T:
    """Run an awaitable to completion from synchronous code (what the SDK does for its synchronous invokes)."""
    from pulumi.runtime.sync_await import _sync_await

    return _sync_await(awaitable)


def set_config(values: Mapping[str, str]) -> None:
    from pulumi.runtime.config import set_all_config

    set_all_config(dict(values))


def reset_root() -> None:
    """A fresh root stack resource for the next mocked run (the runtime keeps it in a context variable)."""
    from pulumi.runtime import settings

    settings.ROOT.set(None)


def run_program(func: Callable[[], Any]) -> None:
    """Run a Pulumi program function as the language host does, waiting for every outstanding RPC and output. The
    SDK keeps both, and the first failure among them, in process-wide settings and raises it at the end of a run:
    they are cleared before each run, as the SDK's own `pulumi.runtime.test` decorator does (the language host runs
    one program per process; the tests run many, some of them failing on purpose)."""
    import pulumi
    from pulumi.runtime.settings import SETTINGS

    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()
    sync_await(pulumi.runtime.stack.run_pulumi_func(func))


def root_exports() -> Any:
    """The root stack's exports, serialized as the engine receives them (a protobuf Struct)."""
    from pulumi.runtime import rpc, settings

    root = settings.get_root_resource()
    return sync_await(rpc.serialize_properties(getattr(root, "outputs", {}), {}))


def policy_analyzer(name: str, version: str, policies: list[Any], level: Any) -> Any:
    """pulumi_policy's analyzer servicer: the object `pulumi preview --policy-pack` talks to over gRPC."""
    from pulumi_policy.policy import _PolicyAnalyzerServicer

    return _PolicyAnalyzerServicer(name, version, policies, level)
