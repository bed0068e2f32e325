"""``kiosk-cloudsim``: the cloud simulator's command (cloudsim.cli) with the demo facility:
``--seed-demo`` publishes it, ``schedule KIOSK`` republishes its schedule.

The demo mode lives here, not in cloudsim/, so that the demo imports the simulator and never
the other way round: the simulator stays a plain cloud that tests fill with data of their own.
"""

from __future__ import annotations

import argparse

from cloudsim import cli
from demo.cloud import MessagesWhenOnline, publish_facility, publish_schedule


class DemoConsole(cli.Console):
    """The simulator's console, with the demo's schedule to republish."""

    commands = (
        *cli.COMMANDS[:-1],
        "  schedule KIOSK                   republish the demo schedule, version + 1",
        cli.COMMANDS[-1],
    )

    def start(self, args: argparse.Namespace) -> None:
        if args.seed_demo:
            self.seed()

    def seed(self) -> None:
        """The demo facility; its messages go out once the housing kiosk is online."""
        housing, lobby = self.pair
        if housing is None:
            self.say("! --seed-demo needs a housing kiosk (--kiosk ID)")
            return
        publish_facility(self.sim, housing, lobby, messages=False)
        MessagesWhenOnline(self.sim, housing).watch()

    def do_schedule(self, rest: list[str]) -> None:
        housing, lobby = self.pair
        if len(rest) != 1:
            raise ValueError("usage: schedule KIOSK")
        if housing is None or rest[0] not in (housing, lobby):
            raise ValueError(f"the demo schedule is for {housing} and {lobby}, not {rest[0]}")
        publish_schedule(self.sim, rest[0], housing_kiosk_id=housing, lobby_kiosk_id=lobby)


def build_parser() -> argparse.ArgumentParser:
    parser = cli.build_parser()
    parser.add_argument(
        "--seed-demo",
        action="store_true",
        help="publish the demo facility; its messages go out when the housing kiosk is online",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """As cloudsim.cli's ``main``, with the demo facility."""
    return cli.main(argv, parser=build_parser(), console=DemoConsole)


if __name__ == "__main__":
    raise SystemExit(main())
