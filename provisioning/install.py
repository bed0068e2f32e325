"""``kiosk-provision install``: the kiosk user and its groups, the systemd units, the udev rules,
the data folder, and the service enabled.

The user and the data folder are declared as systemd-sysusers and systemd-tmpfiles entries, so a
tree installed under ``--root`` (an image) gets them at its first boot, and the running system
gets them at once. Running it again is safe: every file is replaced whole, every command is
idempotent.
"""

from __future__ import annotations

import argparse
import os
import pwd
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from provisioning import layout
from provisioning.errors import ProvisionError
from provisioning.files import PlannedFile, can_write, write_all
from provisioning.layout import Root
from provisioning.output import Out
from provisioning.sealed_key import CREDENTIAL, SealError, seal_database_key

SYSUSERS_TEXT = f"""\
# The kiosk's service user (kiosk-provision install). systemd-sysusers creates it at boot, or
# at once with `systemd-sysusers {layout.SYSUSERS}`. A system user with no login shell; its
# group "kiosk" is the one hardware/udev/99-kiosk.rules gives the camera, badge reader and hook.
u {layout.USER} - "Facility kiosk" {layout.DATA_DIR} /usr/sbin/nologin
""" + "".join(f"m {layout.USER} {group}\n" for group in layout.EXTRA_GROUPS)

TMPFILES_TEXT = f"""\
# The kiosk's data folder (kiosk-provision install): its SQLite database and outbox. Readable by
# the kiosk user only: it holds residents' messages and PIN verifiers.
d {layout.DATA_DIR} 0750 {layout.USER} {layout.USER} -
"""

# A comment in a file's first lines that says where it goes: "# ... Install as /etc/pam.d/x."
_INSTALL_AS = re.compile(r"^(?:#|//).*\binstall(?:ed)?\s+(?:as|to|in)\s+(/\S+)", re.IGNORECASE)
_UNIT_SUFFIXES = (".service", ".target", ".socket", ".timer", ".path")
# Folders of systemd/ whose files go to one place when their first lines do not say.
_FOLDERS = {"pam.d": PurePosixPath("/etc/pam.d"), "polkit": PurePosixPath("/etc/polkit-1/rules.d")}
# The facility broker's configuration lives in systemd/ too, but it is not the kiosk's.
_NOT_THE_KIOSKS = ("mosquitto",)


def add_parser(commands: Any) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "install",
        help="create the kiosk user, install the units and udev rules, enable the service",
        description=(
            "Create the kiosk system user (groups kiosk, audio, video), install the "
            "systemd units from systemd/ (*.service, *.target, *.conf), the udev rules, a "
            "tmpfiles.d entry for /var/lib/kiosk, and enable kiosk.service. Under --root the "
            "files are written and nothing is run: the user and folder come at first boot."
        ),
    )
    parser.add_argument(
        "--source",
        type=Path,
        default=layout.REPOSITORY,
        metavar="DIR",
        help="the kiosk's sources, holding systemd/ and hardware/udev/ (default: %(default)s)",
    )
    return parser


@dataclass(frozen=True)
class Command:
    """A command for the running system; ``why`` is said when it runs or is skipped."""

    argv: tuple[str, ...]
    why: str


def plan_files(source: Path, root: Root) -> tuple[list[PlannedFile], list[str]]:
    """Every file install writes, read from ``source`` now (a missing one fails here), and the
    files of systemd/ it leaves out, with why."""
    units = source / "systemd"
    rules = source / "hardware" / "udev" / "99-kiosk.rules"
    if not units.is_dir() or not rules.is_file():
        raise ProvisionError(
            f"no systemd/ or hardware/udev/99-kiosk.rules under {source}: give --source DIR, "
            "a copy of the kiosk's sources"
        )
    planned, skipped = [], []
    for path in sorted(units.rglob("*")):
        relative = path.relative_to(units)
        if not path.is_file() or relative.parts[0] in _NOT_THE_KIOSKS:
            continue
        data = path.read_bytes()
        target = _target(path, relative, data)
        if target is None:
            if not path.name.endswith(".example"):
                skipped.append(f"{relative}: its first lines name no place to install it")
            continue
        planned.append(PlannedFile(root(target), data, 0o644, label=str(relative)))
    if not any(item.label == layout.SERVICE for item in planned):
        raise ProvisionError(f"no {layout.SERVICE} in {units}: give --source DIR")
    planned.append(
        PlannedFile(root(layout.UDEV_RULES), rules.read_bytes(), 0o644, label="udev rules")
    )
    planned.append(
        PlannedFile(root(layout.SYSUSERS), SYSUSERS_TEXT.encode(), 0o644, label="the kiosk user")
    )
    planned.append(
        PlannedFile(root(layout.TMPFILES), TMPFILES_TEXT.encode(), 0o644, label="the data folder")
    )
    return planned, skipped


def _target(path: Path, relative: PurePosixPath | Path, data: bytes) -> PurePosixPath | None:
    """Where a file of systemd/ goes: where its first lines say; else units to
    /etc/systemd/system, a .conf as a drop-in of kiosk.service, a file of pam.d/ or polkit/ to
    its folder; else nowhere."""
    for line in data.decode("utf-8", errors="replace").splitlines()[:10]:
        found = _INSTALL_AS.match(line.strip())
        if found:
            named = found.group(1).rstrip(".,;:)")
            if named.startswith(("/etc/", "/usr/lib/")):
                return (
                    PurePosixPath(named) / path.name
                    if named.endswith("/")
                    else (PurePosixPath(named))
                )
    parts = relative.parts
    if len(parts) == 1 and path.suffix in _UNIT_SUFFIXES:
        return layout.UNIT_DIR / path.name
    if len(parts) == 1 and path.suffix == ".conf":
        return layout.UNIT_DIR / f"{layout.SERVICE}.d" / path.name
    if len(parts) == 2 and parts[0] in _FOLDERS:
        return _FOLDERS[parts[0]] / path.name
    if len(parts) == 2 and parts[0].endswith(".d") and path.suffix == ".conf":
        return layout.UNIT_DIR / parts[0] / path.name  # a drop-in folder, e.g. kiosk.service.d
    return None


def plan_commands() -> list[Command]:
    """What the running system needs after the files are in place."""
    commands = [
        Command(("systemd-sysusers", str(layout.SYSUSERS)), "the kiosk user and its groups"),
        Command(("systemd-tmpfiles", "--create", str(layout.TMPFILES)), f"{layout.DATA_DIR}"),
        Command(("udevadm", "control", "--reload-rules"), "udev reads the new rules"),
        Command(
            (
                "udevadm",
                "trigger",
                "--action=change",
                "--subsystem-match=video4linux",
                "--subsystem-match=input",
                "--subsystem-match=tty",
            ),
            "devices already plugged in get their names and group",
        ),
        Command(("systemctl", "daemon-reload"), "systemd reads the new units"),
        Command(("systemctl", "enable", layout.SERVICE), "the kiosk starts at boot"),
    ]
    return commands


def run(args: argparse.Namespace, out: Out) -> int:
    root = Root(Path(args.root))
    planned, skipped = plan_files(args.source, root)
    commands = plan_commands()
    for reason in skipped:
        out.warn(f"not installed: {reason}")
    if args.dry_run:
        out.info("Dry run: nothing is written or run.")
        for item in planned:
            out.info(f"Would write {item.path} ({item.label}, mode {item.mode:04o})")
        for command in commands:
            out.info(f"Would run: {' '.join(command.argv)} ({command.why})")
        return 0
    for folder in {item.path.parent for item in planned}:
        if not can_write(folder):
            raise ProvisionError(
                f"cannot write {folder}: run it as root (sudo kiosk-provision install)"
                + ("" if root.live else ", or check the folder's owner")
            )
    with out.step("Installing units, udev rules, user and folder entries") as step:
        write_all(planned)
        step.detail = f"{len(planned)} files"
    for item in planned:
        out.info(f"  {item.path} (mode {item.mode:04o})")
    if not root.live:
        for command in commands:
            out.skip(f"not run under --root: {' '.join(command.argv)} ({command.why})")
        out.skip(
            "the database key is not sealed under --root (it is sealed to the kiosk's own "
            "TPM or host key): run install or enroll on the kiosk itself"
        )
        out.info(
            "The kiosk user and /var/lib/kiosk are created at the tree's first boot "
            "(systemd-sysusers, systemd-tmpfiles); enable the service there with "
            f"`systemctl enable {layout.SERVICE}`."
        )
        return 0
    for command in commands:
        _run_command(out, command)
    _give_key_to_kiosk_user(out, root)
    seal_key(out, root)
    out.ok(f"installed; {layout.SERVICE} starts at the next boot (or: systemctl start kiosk)")
    return 0


def _run_command(out: Out, command: Command) -> None:
    if shutil.which(command.argv[0]) is None:
        raise ProvisionError(
            f"{command.argv[0]} is not installed, needed for {command.why}: install systemd "
            "and udev (Debian 12 has both)"
        )
    with out.step(" ".join(command.argv)):
        result = subprocess.run(command.argv, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise ProvisionError(
                f"`{' '.join(command.argv)}` failed ({detail[-1] if detail else result.returncode}"
                f"): {command.why} is not done; fix it and run install again"
            )


def seal_key(out: Out, root: Root) -> None:
    """The database key sealed for ``kiosk.service`` (kept if there is one): the service does
    not start without it."""
    with out.step("Sealing the database key (systemd-creds)") as step:
        try:
            step.detail = seal_database_key(root(CREDENTIAL), root(layout.DATA_DIR))
        except SealError as error:
            raise ProvisionError(f"{error}: the kiosk's service cannot start without it") from error


def _give_key_to_kiosk_user(out: Out, root: Root) -> None:
    """A kiosk enrolled before install has a root-owned key: the kiosk user must read it."""
    key = root(layout.KEY)
    if not key.exists():
        return
    user = pwd.getpwnam(layout.USER)
    stat = key.stat()
    if (stat.st_uid, stat.st_gid) != (user.pw_uid, user.pw_gid):
        os.chown(key, user.pw_uid, user.pw_gid)
        os.chmod(key, 0o600)
        out.ok(f"{key} now belongs to the kiosk user")
