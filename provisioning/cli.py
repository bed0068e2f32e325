"""``kiosk-provision``: the field technician's command.

``enroll`` enrolls the kiosk with the facility cloud and writes its configuration; ``install``
sets up the user, units and rules; ``status`` and ``collect`` tell what the kiosk is doing;
``selftest`` tests the devices the configuration names. Every subcommand takes ``--root DIR``
(a kiosk's file system seen from outside: a scratch folder, an image being built) and
``--dry-run`` (say what would be done, change nothing).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from kiosk import __version__
from kiosk.config import ConfigError, add_flags, load
from provisioning import collect, enroll, install, layout, status
from provisioning.errors import ProvisionError
from provisioning.layout import Root
from provisioning.output import Out, make_console


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--root",
        default="/",
        metavar="DIR",
        help="work on the kiosk file system under DIR instead of / (owners are left as they "
        "are and no service is touched there)",
    )
    common.add_argument(
        "--dry-run", action="store_true", help="say what would be done; change nothing"
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk-provision",
        description="Turn a Debian terminal into an enrolled, locked-down kiosk.",
    )
    parser.add_argument("--version", action="version", version=f"kiosk-provision {__version__}")
    commands = parser.add_subparsers(dest="command")
    common = _common()
    selftest = commands.add_parser(
        "selftest",
        parents=[common],
        help="test the camera, handset and badge reader the configuration names",
        description=(
            "Test each device: the camera delivers frames of the size and rate asked; the "
            "handset and badge reader are present. With --interactive, a technician at the "
            "kiosk also lifts the handset and presents a test card. Exit 0 when all pass."
        ),
    )
    selftest.add_argument("--config", help="the kiosk's configuration file")
    selftest.add_argument("--demo", action="store_true", help="the demo's simulated devices")
    selftest.add_argument(
        "--interactive", action="store_true", help="a technician lifts the handset, shows a card"
    )
    selftest.add_argument("--json", action="store_true", help="the report as JSON on stdout")
    add_flags(selftest)
    # Each module describes its own subcommand; the shared --root and --dry-run come first.
    commands_with_common = _WithParents(commands, common)
    enroll.add_parser(commands_with_common)
    install.add_parser(commands_with_common)
    status.add_parser(commands_with_common)
    collect.add_parser(commands_with_common)
    return parser


class _WithParents:
    """``add_parser`` that also gives the subcommand the shared options."""

    def __init__(self, commands: Any, common: argparse.ArgumentParser) -> None:
        self.commands = commands
        self.common = common

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        return self.commands.add_parser(name, parents=[self.common], **kwargs)


Handler = Callable[[argparse.Namespace, Out], int]


def main(argv: list[str] | None = None, stream: TextIO | None = None) -> int:
    """Run one subcommand; ``stream`` answers enroll's questions instead of the terminal."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "selftest":
        return _selftest(args)
    # With --json, stdout carries the JSON only; progress goes to stderr.
    out = Out(console=make_console(stderr=bool(getattr(args, "json", False))))
    handlers: dict[str, Handler] = {
        "enroll": lambda a, o: enroll.run(a, o, stream),
        "install": install.run,
        "status": status.run,
        "collect": collect.run,
    }
    restore = _terminate_as_interrupt()
    try:
        return handlers[args.command](args, out)
    except ProvisionError as error:
        out.error(str(error))
        if args.command == "enroll":
            out.error("nothing was written: the previous configuration and key are unchanged")
        return error.exit_code
    except KeyboardInterrupt:
        out.error(f"{args.command} interrupted")
        if args.command == "enroll":
            out.error("nothing was written: the previous configuration and key are unchanged")
        return 130
    finally:
        restore()


def _terminate_as_interrupt() -> Callable[[], None]:
    """SIGTERM (systemd, a timeout in a script) unwinds like Ctrl-C: temporary files removed,
    the broker connection closed."""

    def interrupt(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals to whoever owns them
        return lambda: None
    return lambda: signal.signal(signal.SIGTERM, previous)


def _selftest(args: argparse.Namespace) -> int:
    from provisioning.devices import run_device_selftest

    root = Root(Path(args.root))
    if args.config is None and not root.live and root(layout.CONFIG).exists():
        args.config = str(root(layout.CONFIG))
    try:
        config = load(args)
    except ConfigError as error:
        print(f"kiosk-provision: {error}", file=sys.stderr)
        return 2
    if args.dry_run:
        print(
            f"would test: camera {config.camera}, handset {config.handset}, "
            f"badge reader {config.badge_reader}"
        )
        return 0
    try:
        report = run_device_selftest(
            config, interactive=args.interactive, say=lambda line: print(line, flush=True)
        )
    except ProvisionError as error:
        print(f"kiosk-provision: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        for name, check in report.checks.items():
            mark = "ok  " if check.ok else "FAIL"
            print(f"{mark} {name:<13} {check.state:<8} {check.detail}")
        print("all devices pass" if report.ok else "some devices failed")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
