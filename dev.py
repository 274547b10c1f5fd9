#!/usr/bin/env python3
"""The project's two everyday commands, on a machine that has only python3:

    python3 dev.py plan     # what the dev stack would create, evaluated offline (no AWS account needed)
    python3 dev.py plan examples/minimal         # the same for any program that uses the components (yours too)
    python3 dev.py test     # ruff, mypy, the unit tests, then the program and CLI tests on every core
    python3 dev.py bench    # timings of the offline run and the policy pack, dev and 100x dev
    python3 dev.py session --stack dev           # shell on the SSM host; wakes an asleep stack, then puts it back
    python3 dev.py bastion forward --stack dev   # port-forward through the bastion; wakes what it needs, the same
    python3 dev.py sleep --stack dev             # no interface endpoint, host stopped, bastion at 0 (pulumi up)
    python3 dev.py wake --stack dev              # everything back as it was (pulumi up)
    python3 dev.py bastion image --stack dev     # copy the bastion's image into the stack's repository
    python3 dev.py sessions --stack dev          # who got in, to what, when, and where each session is logged
    python3 dev.py config-schema                 # write Pulumi.yaml's config block from program/sections
    (these need AWS credentials; all but `bastion image` also the pulumi CLI, logged in to the stack's backend)

The first run creates .venv/ (the same virtualenv Pulumi.yaml names) from the pinned requirements; later runs reuse
it until a requirements file changes. Anything after the command is passed on: `python3 dev.py plan --help`.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
REQUIREMENTS = ("requirements.txt", "requirements-dev.txt", "policy/requirements.txt", "requirements.lock",
                "components/pyproject.toml")
STAMP = VENV / ".airgap-requirements"
COMMANDS = {
    "plan": ["-m", "offline.plan"],
    "bench": ["-m", "offline.bench"],
    "bastion": ["-m", "ops"],
    "session": ["-m", "ops", "session"],
    "sleep": ["-m", "ops", "sleep"],
    "wake": ["-m", "ops", "wake"],
    "sessions": ["-m", "ops", "sessions"],
    "config-schema": ["-m", "program.schema"],
    "test": None,  # ruff, then pytest; see run_tests
}


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def requirements_digest() -> str:
    digest = hashlib.sha256()
    for name in REQUIREMENTS:
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def ensure_venv() -> Path:
    wanted = requirements_digest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted and venv_python().exists():
        return venv_python()
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs under whatever python3 the machine has
        sys.exit(f"airgap needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    print(f"dev.py: installing the pinned requirements into {VENV.relative_to(ROOT)}/ (first run only)",
          file=sys.stderr)
    if not venv_python().exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    pip = [str(venv_python()), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    # requirements.lock pins every transitive package too, so every machine gets the same tree.
    subprocess.run([*pip, "-r", str(ROOT / "requirements-dev.txt"), "-c", str(ROOT / "requirements.lock")],
                   check=True)
    STAMP.write_text(wanted)
    return venv_python()


# pyproject.toml's markers: tests that run a whole program or drive a CLI, in parallel (pytest-xdist).
SLOW = "program or cli"


def run_tests(python: Path, extra: list[str]) -> int:
    """ruff, mypy (the package, the program, the tools), the unit tests, then the program and CLI tests on every
    core. Arguments after `test` go to pytest as they are."""
    for tool, fix in (("ruff", "run `ruff check --fix`"), ("mypy", "the types above")):
        found = subprocess.run([str(python), "-m", tool, *(["check", "."] if tool == "ruff" else [])], cwd=ROOT)
        if found.returncode != 0:
            print(f"dev.py test: {tool} found problems (above); fix them ({fix}).", file=sys.stderr)
            return found.returncode
    pytest = [str(python), "-m", "pytest"]
    if extra:  # the caller chose what to run
        return subprocess.run([*pytest, *extra], cwd=ROOT).returncode
    # Unit tests first (seconds): a broken component or policy is told before the programs and CLIs run.
    unit = subprocess.run([*pytest, "-m", f"not ({SLOW})"], cwd=ROOT)
    if unit.returncode != 0:
        return unit.returncode
    return subprocess.run([*pytest, "-m", SLOW, "-n", "auto"], cwd=ROOT).returncode


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    if not argv or argv[0] not in COMMANDS:
        unknown = f"dev.py: unknown command {argv[0]!r}; the commands are {', '.join(COMMANDS)}\n" if argv else ""
        print(unknown + __doc__, file=sys.stderr)
        return 2
    command, extra = argv[0], argv[1:]
    python = ensure_venv()
    if command == "test":
        return run_tests(python, extra)
    return subprocess.run([str(python), *COMMANDS[command], *extra], cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
