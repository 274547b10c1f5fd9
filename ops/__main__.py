"""`python -m ops` (or `python3 dev.py bastion ...`): reach a host through the stack's Fargate bastion.

    python -m ops forward --stack dev                 # unpark if needed, wait, port-forward to the SSM host
    python -m ops forward --stack dev --park-after    # ... and park again when the session ends
    python -m ops park --stack dev
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import boto3

from ops.bastion import OpsError, forward, load_outputs, park, read_stack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("forward", "port-forward through the bastion"), ("park", "set desired count to 0")):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--stack", default="dev")
        sub.add_argument("--outputs", type=Path, help="stack outputs saved with `pulumi stack output --json`")
        sub.add_argument("--profile", help="AWS profile (default: the usual credential chain)")
        if name == "forward":
            sub.add_argument("--host", help="address to reach (default: the SSM host's private IP)")
            sub.add_argument("--port", type=int, help="remote port (default: first of bastionForwardPorts)")
            sub.add_argument("--local-port", type=int, help="local port (default: the remote port)")
            sub.add_argument("--timeout", type=float, default=300, help="seconds to wait for the task (300)")
            sub.add_argument("--park-after", action="store_true", help="park again when the session ends")
    args = parser.parse_args(argv)
    try:
        stack = read_stack(args.stack, load_outputs(args.stack, args.outputs))
        session = boto3.Session(profile_name=args.profile, region_name=stack.region)
        if args.command == "park":
            park(stack, session)
            return 0
        return forward(stack, session, host=args.host, port=args.port, local_port=args.local_port,
                       timeout=args.timeout, poll=5, park_after=args.park_after)
    except OpsError as err:
        print(f"airgap: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
