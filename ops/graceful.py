"""The `pulumi` process the Automation API drives, in a session of its own, with Ctrl-C passed on exactly once.

The terminal's Ctrl-C reaches only this process, which passes one interrupt on: Pulumi then cancels gracefully —
operations in flight finish and are recorded, none is abandoned half-done. A second Ctrl-C is not passed on: Pulumi
would then terminate at once and could leave pending operations for `pulumi refresh` to sort out (its own message
says so: pulumi/pulumi, the CLI's interrupt handler).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping
from typing import Any


def _default_interrupt() -> None:
    # A job started with SIGINT ignored (nohup, some CI runners) passes that on to its children; the interrupt this
    # process forwards must reach pulumi all the same.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def graceful_command() -> Any:
    """A `PulumiCommand` whose `pulumi` runs in its own session, with Ctrl-C passed on once (see the module doc)."""
    from pulumi.automation import CommandResult, PulumiCommand
    from pulumi.automation.errors import create_command_error

    class GracefulCommand(PulumiCommand):
        def run(self, args: list[str], cwd: str, additional_env: Mapping[str, str],
                on_output: Callable[[str], Any] | None = None,
                on_error: Callable[[str], Any] | None = None) -> CommandResult:
            if "--non-interactive" not in args:
                args = ["--non-interactive", *args]
            env = {**os.environ, **additional_env, "PULUMI_AUTOMATION_API": "true"}
            process = subprocess.Popen([self.command, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       cwd=cwd, env=env, encoding="utf-8", start_new_session=True,
                                       preexec_fn=_default_interrupt)
            chunks: dict[str, list[str]] = {"out": [], "err": []}

            def pump(stream: Any, key: str, callback: Callable[[str], Any] | None) -> None:
                for line in iter(stream.readline, ""):
                    chunks[key].append(line.rstrip())
                    if callback:
                        callback(line.rstrip())
                stream.close()

            readers = [threading.Thread(target=pump, args=(process.stdout, "out", on_output), daemon=True),
                       threading.Thread(target=pump, args=(process.stderr, "err", on_error), daemon=True)]
            for reader in readers:
                reader.start()
            interrupted = False
            while True:
                try:
                    process.wait()
                    break
                except KeyboardInterrupt:
                    if not interrupted:
                        interrupted = True
                        process.send_signal(signal.SIGINT)
                        print("airgap: Ctrl-C: pulumi is cancelling — operations in flight finish and are recorded",
                              flush=True)
                    else:
                        print("airgap: still waiting for pulumi to finish cancelling (a second interrupt is not "
                              "passed on: it could leave operations half-done)", flush=True)
            for reader in readers:
                reader.join()
            result = CommandResult(stdout="\n".join(chunks["out"]), stderr="\n".join(chunks["err"]),
                                   code=process.returncode)
            if interrupted:
                raise KeyboardInterrupt
            if process.returncode != 0:
                raise create_command_error(result)
            return result

    return GracefulCommand()


