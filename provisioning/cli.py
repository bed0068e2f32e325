"""``kiosk-provision``: the technician's command. Enrollment and install arrive with the appliance
work; ``selftest`` tests the devices the kiosk's configuration names."""

from __future__ import annotations

import argparse
import json
import sys

from kiosk import __version__
from kiosk.config import ConfigError, add_flags, load


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk-provision",
        description=(
            "Turn a Debian terminal into an enrolled, locked-down kiosk. "
            "Enrollment, install, status and collect are not available in this version."
        ),
    )
    parser.add_argument("--version", action="version", version=f"kiosk-provision {__version__}")
    commands = parser.add_subparsers(dest="command")
    selftest = commands.add_parser(
        "selftest",
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
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "selftest":
        return _selftest(args)
    parser.print_help()
    return 0


def _selftest(args: argparse.Namespace) -> int:
    from hardware.factory import build_devices
    from hardware.selftest import run_selftest

    try:
        config = load(args)
        devices = build_devices(
            {
                "camera": config.camera,
                "handset": config.handset,
                "badge_reader": config.badge_reader,
            },
            config.device_settings,
        )
    except (ConfigError, ValueError) as error:
        print(f"kiosk-provision: {error}", file=sys.stderr)
        return 2
    size = None if config.camera == "simulated" else (config.camera_width, config.camera_height)
    fps = None if config.camera == "simulated" else config.camera_fps
    try:
        report = run_selftest(
            devices,
            expected_size=size,
            expected_fps=fps,
            interactive=args.interactive,
            say=lambda line: print(line, flush=True),
        )
    finally:
        for device in (devices.camera, devices.handset, devices.badge_reader):
            device.stop()
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
