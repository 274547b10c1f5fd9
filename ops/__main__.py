"""`python3 dev.py session|sleep|wake|sessions|bastion ...`: sessions, and the stack's state.

    python3 dev.py session --stack dev                 # wake if asleep, shell on the SSM host, back to sleep after
    python3 dev.py bastion forward --stack dev         # wake if needed, fill the image, unpark, port-forward, park
    python3 dev.py sleep --stack dev app net           # put stacks to sleep (workloads first); skips stacks in use
    python3 dev.py wake --stack dev                    # wake a stack (a workload stack wakes its network first)
    python3 dev.py bastion image --stack dev           # copy the bastion's image into the stack's repository
    python3 dev.py bastion park --stack dev
    python3 dev.py sessions --stack dev                # who connected, to what, when, and where the log is
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ops import stack_control
from ops.audit import history, table
from ops.aws import aws_session, check_credentials, check_tools, refused
from ops.bastion import ForwardOptions, choose_route, forward, image, local_port_free, park
from ops.errors import OpsError
from ops.host import host_session, require_host
from ops.image import registry_session
from ops.leases import AwsSessions, SessionLister, Targets
from ops.on_demand import Operator, hold, settle, sleep_stacks
from ops.outputs import load_outputs, read_stack
from program.contract import Out, StackState

PROFILE_HELP = ("AWS profile for every AWS call and every `pulumi up` this command runs (AWS_PROFILE) "
                "(default: the usual credential chain)")


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-65535)") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (1-65535)")
    return value


def _seconds(text: str) -> float:
    """A wait, checked before anything is woken: a positive, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid float value: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text}: expected a number of seconds greater than 0")
    return value


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python3 dev.py", description=__doc__.splitlines()[0])
    commands = top.add_subparsers(dest="command", required=True)
    for name, help_text in (("forward", "port-forward through the bastion"),
                            ("park", "set the bastion's desired count to 0"),
                            ("image", "copy the bastion's image into the stack's own ECR repository"),
                            ("session", "a Session Manager shell on the SSM host, waking the stack if asleep"),
                            ("sleep", "put stacks to sleep: no interface endpoint, host stopped, bastion at 0"),
                            ("wake", "wake a stack: endpoints back, host started, bastion as airgap:bastion says"),
                            ("sessions", "the stack's recent Session Manager sessions: who, target, document, "
                                         "start and end, and where each is logged")):
        # forward, park and image are reached as `python3 dev.py bastion <command>`.
        prog = f"python3 dev.py {'bastion ' if name in ('forward', 'park', 'image') else ''}{name}"
        sub = commands.add_parser(name, help=help_text, prog=prog)
        if name == "sleep":
            sub.add_argument("--stack", nargs="+", default=["dev"], help="the stacks, in any order: workload "
                             "stacks are put to sleep before the network stacks they run on (default dev)")
        else:
            sub.add_argument("--stack", default="dev", help="the stack (default dev)")
        runs_up = name in ("session", "sleep", "wake", "forward")  # these may wake or sleep stacks
        sub.add_argument("--profile", help=PROFILE_HELP if runs_up else "AWS profile for every AWS call this command "
                         "makes (default: the usual credential chain)")
        if name in ("sleep", "park"):
            sub.add_argument("--force", action="store_true", help="even while other operators' sessions are active "
                             "(this ends them)")
        if name in ("session", "forward"):
            sub.add_argument("--stay-awake", action="store_true",
                             help="leave the stack awake (and the bastion unparked) when the session ends")
        if name == "session":
            sub.add_argument("--timeout", type=_seconds, default=600,
                             help="seconds to wait for the host to connect to Session Manager (600)")
            sub.add_argument("--command", dest="one_command", help="run this one command on the host instead of a "
                             "shell (Session document AWS-StartNonInteractiveCommand)")
        if name in ("forward", "park", "image", "sessions"):
            sub.add_argument("--outputs", type=Path, help="stack outputs saved with `pulumi stack output --json` "
                             "(then the stack is used as it is: nothing is woken)")
        if name == "forward":
            sub.add_argument("--to", "--host", dest="host", help="what to forward to: database, ssm-host, or an "
                             "address the bastion may reach (default: the first in the stack output bastionTargets)")
            sub.add_argument("--port", type=_port, help="remote port: the target's (database: 5432), or one of "
                             "airgap:bastionForwardPorts on the SSM host (default: the target's first)")
            sub.add_argument("--local-port", type=_port, help="local port (default: the remote port)")
            sub.add_argument("--timeout", type=_seconds, default=300, help="seconds to wait for the task (300)")
            sub.add_argument("--park-after", action="store_true",
                             help="park the bastion when the session ends even if airgap:bastion is on (never while "
                                  "another operator's session is active)")
            sub.add_argument("--no-fill", action="store_true",
                             help="never copy the image: stop with the command to run if it is missing")
    return top


def _forward(args: argparse.Namespace, outputs: dict[str, Any], sessions: SessionLister | None = None) -> int:
    stack = read_stack(args.stack, outputs)
    session = aws_session(args.profile, stack.region)
    options = ForwardOptions(host=args.host, port=args.port, local_port=args.local_port, timeout=args.timeout,
                             park_after=args.park_after, keep_unparked=args.stay_awake,
                             fill_image=not args.no_fill, profile=args.profile)
    return forward(stack, session, options, http=registry_session(), sessions=sessions)


def operator(profile: str | None, region: str, tools: bool = False) -> Operator:
    """Who runs this, checked before anything is woken: the AWS tools (for sessions) and the credentials."""
    if tools:
        check_tools()
    session = aws_session(profile, region)
    return Operator(check_credentials(session), AwsSessions(session))


def _host_check(args: argparse.Namespace) -> Callable[[dict[str, Any]], None]:
    def check(outputs: dict[str, Any]) -> None:
        require_host(outputs, args.stack)
    return check


def _forward_check(args: argparse.Namespace) -> Callable[[dict[str, Any]], None]:
    """A bastion, and a route it may take (--to, --port, --local-port), before anything is woken."""
    def check(outputs: dict[str, Any]) -> None:
        name = args.stack
        if not outputs.get(Out.BASTION_CLUSTER):
            raise OpsError(f"stack {name} has no bastion (airgap:bastion is off): `pulumi config set airgap:bastion "
                           f"parked --stack {name} && pulumi up --stack {name}` gives it one, at 0 tasks")
        choose_route(read_stack(name, outputs), args.host, args.port, args.local_port, local_port_free)
    return check


def _network(control: stack_control.Stack, settings: dict[str, str],
             open_stack: Callable[[str], stack_control.Stack]) -> stack_control.Stack | None:
    named = settings.get("airgap:networkStack")
    if not named:
        return None
    try:
        return open_stack(named)
    except OpsError as err:
        raise OpsError(f"airgap:networkStack = {named!r} (stack {control.name}): expected a deployed network stack "
                       f"in this backend ({err})") from err


def run(args: argparse.Namespace,
        open_stack: Callable[..., stack_control.Stack] = stack_control.open_stack) -> int:
    def opened(name: str) -> stack_control.Stack:
        return open_stack(name, profile=args.profile)

    if args.command == "sleep":
        first = opened(args.stack[0])
        me = operator(args.profile, stack_control.region(first) or "us-east-1")
        return sleep_stacks(args.stack, lambda n: first if n == first.name else opened(n), me, force=args.force)
    if args.command == "wake":
        control = opened(args.stack)
        settings = stack_control.config(control)  # one read of the stack's config for its region and network
        me = operator(args.profile, settings.get("aws:region") or "us-east-1")
        network = _network(control, settings, opened)
        if network is not None:
            # A workload stack checks its network offers every endpoint before it registers anything: wake that first.
            print(f"{args.stack} runs on {network.name}: waking {network.name} first (sleeping {args.stack} leaves it "
                  "as it is: other workload stacks may share it)")
            if settle(network, StackState.AWAKE, me) == "interrupted":
                return 130
        return 130 if settle(control, StackState.AWAKE, me) == "interrupted" else 0
    if args.command == "forward" and args.outputs is not None:
        return _forward(args, load_outputs(args.stack, args.outputs))
    if args.command in ("session", "forward"):
        control = opened(args.stack)
        settings = stack_control.config(control)
        me = operator(args.profile, settings.get("aws:region") or "us-east-1", tools=True)
        if args.command == "session":
            def body(outputs: dict[str, Any]) -> int:
                return host_session(outputs, aws_session(args.profile, str(outputs.get(Out.REGION))),
                                    stack=args.stack, profile=args.profile, timeout=args.timeout,
                                    command=args.one_command)
            check = _host_check(args)
        else:
            def body(outputs: dict[str, Any]) -> int:
                return _forward(args, outputs, me.sessions)
            check = _forward_check(args)
        network = _network(control, settings, opened)
        if network is not None:  # the network stack awake around the workload stack's session, and put back after
            check(stack_control.plain_outputs(control))  # before the network is woken for nothing
            return hold(network, lambda _: hold(control, body, me, stay_awake=args.stay_awake, check=check), me,
                        stay_awake=args.stay_awake)
        return hold(control, body, me, stay_awake=args.stay_awake, check=check)
    outputs = load_outputs(args.stack, args.outputs)
    if args.command == "sessions":
        region = str(outputs.get(Out.REGION) or "us-east-1")
        session = aws_session(args.profile, region)
        check_credentials(session)
        lister = AwsSessions(session)
        found = history(session.client("ssm"), Targets.of(args.stack, outputs), lister.vpc_of)
        for line in table(found, outputs, region):
            print(line)
        return 0
    stack = read_stack(args.stack, outputs)
    session = aws_session(args.profile, stack.region)
    if args.command == "park":
        park(stack, session, force=args.force)
        return 0
    image(stack, session, registry_session())
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return run(args)
    except OpsError as err:
        print(f"airgap: {err}", file=sys.stderr)
        return 2
    except ClientError as err:
        print(f"airgap: {refused(err) or f'AWS answered: {err}'}", file=sys.stderr)
        return 2
    except BotoCoreError as err:
        print(f"airgap: AWS answered: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("airgap: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
