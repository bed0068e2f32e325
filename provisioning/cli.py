"""``kiosk-provision``: the technician's command. Its subcommands arrive with the appliance work."""

from __future__ import annotations

import argparse
import sys

from kiosk import __version__


def build_parser() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(
        prog="kiosk-provision",
        description=(
            "Turn a Debian terminal into an enrolled, locked-down kiosk. "
            "Enrollment, install, self-test, status and collect are not available in this version."
        ),
    )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    parser.add_argument("--version", action="version", version=f"kiosk-provision {__version__}")
    parser.parse_args(argv)
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
