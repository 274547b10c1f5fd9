"""`python -m ops` (or `python3 dev.py bastion ...`): reach a host through the stack's Fargate bastion.

    python -m ops forward --stack dev                 # fill the image if needed, unpark, wait, port-forward
    python -m ops forward --stack dev --park-after    # ... and park when the session ends, however it ends
    python -m ops image --stack dev                   # copy the bastion's image into the stack's repository
    python -m ops park --stack dev
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import requests
from botocore.exceptions import BotoCoreError, ClientError

from ops.bastion import ForwardOptions, OpsError, aws_session, forward, image, load_outputs, park, read_stack


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-65535)") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (1-65535)")
    return value


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m ops", description=__doc__.splitlines()[0])
    commands = top.add_subparsers(dest="command", required=True)
    for name, help_text in (("forward", "port-forward through the bastion"), ("park", "set desired count to 0"),
                            ("image", "copy the bastion's image into the stack's own ECR repository")):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--stack", default="dev")
        sub.add_argument("--outputs", type=Path, help="stack outputs saved with `pulumi stack output --json`")
        sub.add_argument("--profile", help="AWS profile, for the AWS API calls and for `aws ssm start-session` "
                                           "(default: the usual credential chain)")
        if name == "forward":
            sub.add_argument("--host", help="address (or name, e.g. ssm-host) the bastion may reach "
                                            "(default: the first in the stack output bastionTargets)")
            sub.add_argument("--port", type=_port, help="remote port, one of airgap:bastionForwardPorts "
                                                        "(default: the first)")
            sub.add_argument("--local-port", type=_port, help="local port (default: the remote port)")
            sub.add_argument("--timeout", type=float, default=300, help="seconds to wait for the task (300)")
            sub.add_argument("--park-after", action="store_true",
                             help="set the desired count to 0 when the session ends, also after an error or Ctrl-C, "
                                  "whatever it was before (this stops a task someone else may be using)")
            sub.add_argument("--no-fill", action="store_true",
                             help="never copy the image: stop with the command to run if it is missing")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        stack = read_stack(args.stack, load_outputs(args.stack, args.outputs))
        session = aws_session(args.profile, stack.region)
        if args.command == "park":
            park(stack, session)
            return 0
        http = requests.Session()
        http.headers["User-Agent"] = "airgap-image-copy"
        if args.command == "image":
            image(stack, session, http)
            return 0
        options = ForwardOptions(host=args.host, port=args.port, local_port=args.local_port, timeout=args.timeout,
                                 park_after=args.park_after, fill_image=not args.no_fill, profile=args.profile)
        return forward(stack, session, options, http=http)
    except OpsError as err:
        print(f"airgap: {err}", file=sys.stderr)
        return 2
    except (ClientError, BotoCoreError) as err:
        print(f"airgap: AWS answered: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("airgap: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
