"""Offline tooling: the mock-runtime harness, the plan, the pack runner, cost, diagram and bench.

The policy pack lives in policy/ (its own virtualenv under the CLI); its modules are importable here as `guard`.
"""

import sys
from pathlib import Path

_POLICY = str(Path(__file__).resolve().parent.parent / "policy")
if _POLICY not in sys.path:
    sys.path.insert(0, _POLICY)
