"""`python -m ops` (or `python3 dev.py bastion|session|sleep|wake ...`): sessions, and the stack's state.

    python -m ops session --stack dev                 # wake if asleep, shell on the SSM host, back to sleep after
    python -m ops forward --stack dev                 # wake if needed, fill the image, unpark, port-forward
    python -m ops forward --stack dev --park-after    # ... and park when the session ends, however it ends
    python -m ops sleep --stack dev                   # airgap:asleep=true and pulumi up
    python -m ops wake --stack dev                    # airgap:asleep=false and pulumi up
    python -m ops image --stack dev                   # copy the bastion's image into the stack's repository
    python -m ops park --stack dev
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import requests
from botocore.exceptions import BotoCoreError, ClientError

from ops import stack_control
from ops.bastion import (
    ForwardOptions,
    OpsError,
    aws_session,
    check_credentials,
    check_tools,
    forward,
    image,
    load_outputs,
    park,
    read_stack,
)
from ops.host import host_session


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
                            ("image", "copy the bastion's image into the stack's own ECR repository"),
                            ("session", "a Session Manager shell on the SSM host, waking the stack if asleep"),
                            ("sleep", "put the stack to sleep: no interface endpoint, host stopped, bastion at 0"),
                            ("wake", "wake the stack: endpoints back, host started, bastion as airgap:bastion says")):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--stack", default="dev")
        if name in ("sleep", "wake"):
            continue
        sub.add_argument("--profile", help="AWS profile, for the AWS API calls and for `aws ssm start-session` "
                                           "(default: the usual credential chain)")
        if name in ("session", "forward"):
            sub.add_argument("--stay-awake", action="store_true",
                             help="leave the stack as the session needed it (awake) instead of returning it to the "
                                  "state it was found in")
        if name == "session":
            sub.add_argument("--timeout", type=float, default=600,
                             help="seconds to wait for the host to connect to Session Manager (600)")
            continue
        sub.add_argument("--outputs", type=Path, help="stack outputs saved with `pulumi stack output --json` (then "
                                                      "the stack is used as it is: nothing is woken)")
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


def _http() -> requests.Session:
    """The session the image copy pulls through (forward fills a missing image; `image` copies it)."""
    http = requests.Session()
    http.headers["User-Agent"] = "airgap-image-copy"
    return http


def _forward(args: argparse.Namespace, outputs: dict, park_after: bool) -> int:
    stack = read_stack(args.stack, outputs)
    session = aws_session(args.profile, stack.region)
    http = _http()
    options = ForwardOptions(host=args.host, port=args.port, local_port=args.local_port, timeout=args.timeout,
                             park_after=park_after, fill_image=not args.no_fill, profile=args.profile)
    return forward(stack, session, options, http=http)


def run(args: argparse.Namespace,
        open_stack: Callable[[str], stack_control.Stack] = stack_control.open_stack) -> int:
    if args.command in ("sleep", "wake"):
        control = open_stack(args.stack)
        network = stack_control.network_stack(control)
        if args.command == "wake" and network:
            # A workload stack checks its network offers every endpoint before it registers anything: wake that first.
            print(f"{args.stack} runs on {network}: waking {network} first (sleeping {args.stack} leaves it as it is: "
                  "other workload stacks may share it)")
            net = open_stack(network)
            code = stack_control.settle(net, stack_control.State(False, stack_control.current_state(net).bastion),
                                        print)
            if code != 0:
                return code
        found = stack_control.current_state(control)
        return stack_control.settle(control, stack_control.State(args.command == "sleep", found.bastion), print)
    if args.command == "forward" and args.outputs is not None:
        return _forward(args, load_outputs(args.stack, args.outputs), args.park_after)
    if args.command in ("session", "forward"):
        control = open_stack(args.stack)
        if args.command == "session":
            need = stack_control.for_host_session

            def body(outputs: dict) -> int:
                return host_session(outputs, aws_session(args.profile, str(outputs.get("region"))),
                                    stack=args.stack, profile=args.profile, timeout=args.timeout)
        else:
            need = stack_control.for_forward
            found = stack_control.current_state(control)
            # What forward woke it goes back to sleep or off: park the task first (a plain `pulumi up` would not
            # stop a task started outside Pulumi — it compares the program with its record, not with AWS).
            restores = need(found) != found and not args.stay_awake

            def body(outputs: dict) -> int:
                return _forward(args, outputs, args.park_after or restores)

        def before() -> None:  # nothing is woken (and billed) before the tools and credentials are known good
            check_tools()
            check_credentials(aws_session(args.profile, stack_control.region(control) or "us-east-1"))

        network = stack_control.network_stack(control)
        if network:  # the network stack awake around the workload stack's session, and put back after it
            return stack_control.hold(
                open_stack(network), stack_control.for_host_session,
                lambda _: stack_control.hold(control, need, body, stay_awake=args.stay_awake),
                stay_awake=args.stay_awake, before=before)
        return stack_control.hold(control, need, body, stay_awake=args.stay_awake, before=before)
    outputs = load_outputs(args.stack, args.outputs)
    stack = read_stack(args.stack, outputs)
    session = aws_session(args.profile, stack.region)
    if args.command == "park":
        park(stack, session)
        return 0
    http = _http()
    image(stack, session, http)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return run(args)
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
