"""The SSM host's first-boot script, run for real by bash with fake system commands at the process boundary.

A "boot" is one run of the script, as cloud-init runs it at every boot (the user data's cloud-config says so).

The script is the one the program puts in user data; only its five path assignments are pointed into a temporary
directory. dnf, rpm, mount, mountpoint, swapon, mkswap, dd and sleep are small fakes that keep their state in files,
so the tests can make dnf be OOM-killed (exit 137, as on a 512 MiB instance without swap) or a mount fail.
"""

from __future__ import annotations

import email
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from airgap.naming import BOOT_STATUS, SHARE_MOUNT_POINT
from airgap.session_preferences import SESSION_USER
from airgap.ssm_host import boot_script
from offline.harness import Capture

FAKES = {
    # dnf: fails (killed) while $state/dnf-failures says so, else installs.
    "dnf": 'n=$(cat "$STATE_DIR/dnf-failures" 2>/dev/null || echo 0)\n'
           'echo "dnf $*" >> "$STATE_DIR/calls"\n'
           '[ -f "$STATE_DIR/dnf-hangs" ] && rm "$STATE_DIR/dnf-hangs" && exec /bin/sleep 60\n'
           'if [ "$n" -gt 0 ]; then echo $((n - 1)) > "$STATE_DIR/dnf-failures"; echo Killed >&2; exit 137; fi\n'
           'touch "$STATE_DIR/efs-utils-installed"',
    "rpm": '[ -f "$STATE_DIR/efs-utils-installed" ]',
    "mount": 'echo "mount $*" >> "$STATE_DIR/calls"\n'
             '[ -f "$STATE_DIR/mount-fails" ] && exit 32\ntouch "$STATE_DIR/mounted"',
    "mountpoint": '[ -f "$STATE_DIR/mounted" ]',
    "swapon": 'if [ "$1" = "--show=NAME" ]; then [ -f "$STATE_DIR/swap-on" ] && cat "$STATE_DIR/swap-on"; exit 0; fi\n'
              'echo "$1" > "$STATE_DIR/swap-on"',
    "mkswap": 'echo "mkswap $*" >> "$STATE_DIR/calls"',
    # dd: writes its output file; fails half-way (leaving a partial file) while $state/dd-fails exists.
    "dd": 'for a in "$@"; do case $a in of=*) : > "${a#of=}";; esac; done\necho "dd $*" >> "$STATE_DIR/calls"\n'
          '[ -f "$STATE_DIR/dd-fails" ] && rm "$STATE_DIR/dd-fails" && exit 1; exit 0',
    "sleep": "exit 0",
}


class Boot:
    def __init__(self, root: Path, memory_gib: float, share: bool = True) -> None:
        self.root = root
        self.state = root / "state"
        self.state.mkdir(parents=True)
        bin_dir = root / "bin"
        bin_dir.mkdir()
        for name, body in FAKES.items():
            path = bin_dir / name
            path.write_text(f"#!/bin/bash\n{body}\n")
            path.chmod(0o755)
        self.paths = {"STATUS": root / "var/lib/airgap/first-boot", "FSTAB": root / "etc/fstab",
                      "SHARE": root / "mnt/share", "SWAPFILE": root / "swapfile", "CONSOLE": root / "console"}
        self.paths["FSTAB"].parent.mkdir(parents=True)
        self.paths["FSTAB"].write_text("UUID=root / xfs defaults 0 0\n")
        script = boot_script("fs-0123", "fsap-0456", memory_gib) if share else boot_script(None, None, memory_gib)
        for var, real in (("STATUS", BOOT_STATUS), ("FSTAB", "/etc/fstab"), ("SHARE", SHARE_MOUNT_POINT),
                          ("SWAPFILE", "/swapfile"), ("CONSOLE", "/dev/console")):
            assert f"\n{var}={real}\n" in script, var
            script = script.replace(f"\n{var}={real}\n", f"\n{var}={self.paths[var]}\n")
        self.script = root / "user-data.sh"
        self.script.write_text(script)
        self.env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "STATE_DIR": str(self.state)}

    def run(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", str(self.script)], env=self.env, capture_output=True, text=True, timeout=60)

    def stopped_during(self, marker: str) -> None:
        """A boot the instance is stopped in the middle of: killed outright once `marker` appears in the calls."""
        process = subprocess.Popen(["bash", str(self.script)], env=self.env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 30
        while not any(marker in c for c in self.calls()):
            assert time.monotonic() < deadline and process.poll() is None, "the boot never got there"
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def status(self) -> str:
        return self.paths["STATUS"].read_text().strip()

    def fstab(self) -> list[str]:
        return self.paths["FSTAB"].read_text().splitlines()

    def calls(self) -> list[str]:
        path = self.state / "calls"
        return path.read_text().splitlines() if path.exists() else []


def test_a_512_mib_host_gets_swap_before_dnf_and_mounts_the_share(tmp_path: Path) -> None:
    boot = Boot(tmp_path, memory_gib=0.5)
    done = boot.run()
    assert done.returncode == 0, done.stderr
    assert boot.status() == "ok"
    calls = boot.calls()
    dd = next(i for i, c in enumerate(calls) if c.startswith("dd "))
    dnf = next(i for i, c in enumerate(calls) if c.startswith("dnf "))
    assert dd < dnf, "swap must exist before dnf runs"
    assert (boot.state / "swap-on").read_text().strip() == str(boot.paths["SWAPFILE"])
    share = f" {boot.paths['SHARE']} efs _netdev,noresvport,tls,iam,accesspoint=fsap-0456 0 0"
    assert boot.fstab()[1:] == [f"{boot.paths['SWAPFILE']} swap swap defaults 0 0", f"fs-0123:/{share}"]
    assert "airgap-first-boot: done" in boot.paths["CONSOLE"].read_text()


def test_dnf_killed_for_memory_is_retried(tmp_path: Path) -> None:
    boot = Boot(tmp_path, memory_gib=0.5)
    (boot.state / "dnf-failures").write_text("2")
    done = boot.run()
    assert done.returncode == 0, done.stderr
    assert [c for c in boot.calls() if c.startswith("dnf ")] == ["dnf install -y amazon-efs-utils"] * 3
    assert "failed (attempt 2 of 5)" in boot.paths["CONSOLE"].read_text()


def test_running_it_again_changes_nothing(tmp_path: Path) -> None:
    boot = Boot(tmp_path, memory_gib=0.5)
    assert boot.run().returncode == 0
    fstab, calls = boot.fstab(), len(boot.calls())
    assert boot.run().returncode == 0
    assert boot.fstab() == fstab  # no second swap or share line
    assert len(boot.calls()) == calls  # no second dd, dnf or mount: each step saw it was done


@pytest.mark.parametrize(("setup", "step"), [
    ("dnf-failures", "installing amazon-efs-utils with dnf"),
    ("mount-fails", "mounting the file share"),
])
def test_a_failed_step_is_visible_where_an_operator_looks(tmp_path: Path, setup: str, step: str) -> None:
    boot = Boot(tmp_path, memory_gib=0.5)
    (boot.state / setup).write_text("99")
    done = boot.run()
    assert done.returncode != 0  # cloud-init reports the script, and so the instance's first boot, as an error
    assert boot.status().startswith(f"failed: {step}")
    assert f"airgap-first-boot: FAILED: {step}" in boot.paths["CONSOLE"].read_text()


def test_a_swap_file_left_half_made_is_removed_so_the_next_run_makes_it(tmp_path: Path) -> None:
    boot = Boot(tmp_path, memory_gib=0.5)
    (boot.state / "dd-fails").write_text("")
    assert boot.run().returncode != 0
    assert boot.status().startswith("failed: creating the swap file")
    assert not boot.paths["SWAPFILE"].exists()
    assert boot.run().returncode == 0 and boot.status() == "ok"


def test_a_host_with_two_gib_or_more_gets_no_swap(tmp_path: Path) -> None:
    boot = Boot(tmp_path, memory_gib=2)
    assert boot.run().returncode == 0
    assert not [c for c in boot.calls() if c.startswith("dd ")]
    assert not any("swap" in line for line in boot.fstab())


def test_without_a_share_first_boot_still_reports(tmp_path: Path) -> None:
    boot = Boot(tmp_path, memory_gib=1, share=False)
    assert boot.run().returncode == 0
    assert boot.status() == "ok" and not [c for c in boot.calls() if c.startswith(("dnf", "mount"))]


def test_a_first_boot_stopped_halfway_is_finished_by_the_next_boot(tmp_path: Path) -> None:
    """`dev.py sleep` right after the first `pulumi up` stops the host while dnf still runs. cloud-init has already
    marked user data done by then; the every-boot cloud-config runs the script again at the next start."""
    boot = Boot(tmp_path, memory_gib=0.5)
    (boot.state / "dnf-hangs").write_text("")
    boot.stopped_during("dnf install")
    assert boot.status() == "running" and not (boot.state / "mounted").exists()
    done = boot.run()  # the next boot
    assert done.returncode == 0, done.stderr
    assert boot.status() == "ok" and (boot.state / "mounted").exists()
    share_lines = [line for line in boot.fstab() if " efs " in line]
    assert len(share_lines) == 1


def test_after_one_success_later_boots_end_at_once_and_say_so(tmp_path: Path) -> None:
    boot = Boot(tmp_path, memory_gib=0.5)
    assert boot.run().returncode == 0
    calls = len(boot.calls())
    assert boot.run().returncode == 0
    assert len(boot.calls()) == calls
    assert boot.paths["CONSOLE"].read_text().splitlines()[-1] == "airgap-first-boot: done (on an earlier boot)"


def test_the_program_puts_this_script_in_the_hosts_user_data_to_run_at_every_boot(cap) -> None:
    run = cap("dev", "update")
    host = run.named("aws:ec2/instance:Instance", "ssm-host")
    message = email.message_from_string(host.inputs["userData"])
    assert message.is_multipart() and message.get_content_type() == "multipart/mixed"
    config, script = [part.get_payload() for part in message.get_payload()]
    assert [part.get_content_type() for part in message.get_payload()] == ["text/cloud-config", "text/x-shellscript"]
    assert config.startswith("#cloud-config\n") and "- [scripts-user, always]" in config
    assert script.startswith("#!/bin/bash\n") and f"STATUS={BOOT_STATUS}" in script
    assert "dnf install -y amazon-efs-utils" in script and "swapon" in script
    assert script.strip() == boot_script(*_ids(run), 1, SESSION_USER).strip()
    assert f"useradd --create-home --shell /bin/bash \"{SESSION_USER}\"" in script  # shells run as this user


def _ids(run: Capture) -> tuple[str, str]:
    """The file system's and access point's ids, as the update run gave them."""
    (fs,) = run.of_type("aws:efs/fileSystem:FileSystem")
    (ap,) = run.of_type("aws:efs/accessPoint:AccessPoint")
    return fs.id, ap.id
