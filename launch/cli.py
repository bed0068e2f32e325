"""``kiosk``: start a kiosk (windowed, fullscreen or headless) or print its version."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import sys

from kiosk import __version__
from kiosk.config import ConfigError, add_flags, check_tls_files, load
from launch.process import EarlyStop, start_sync, startup_done


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk", description="The facility's communication kiosk."
    )
    parser.add_argument("--version", action="version", version=f"kiosk {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser("run", help="start the kiosk")
    run.add_argument("--config", metavar="PATH", help="TOML config file [/etc/kiosk/kiosk.toml]")
    run.add_argument(
        "--demo", action="store_true", help="a seeded demo facility, windowed, no root needed"
    )
    run.add_argument(
        "--windowed", action="store_true", help="a window instead of fullscreen (development)"
    )
    run.add_argument("--headless", action="store_true", help="the core without a display")
    run.add_argument(
        "--offline",
        action="store_true",
        help="with --demo: no local broker and cloud simulator, only the seeded data",
    )
    run.add_argument(
        "--visit-in",
        type=_minutes,
        metavar="MINUTES",
        help="with --demo: the family's visit begins this many minutes from now [25]; "
        "10 or less opens its join window at once",
    )
    run.add_argument("-v", "--verbose", action="store_true", help="log more")
    add_flags(run)
    out_of_order = commands.add_parser(
        "out-of-order",
        help="the plain 'Out of order' screen systemd shows when the kiosk keeps failing",
    )
    out_of_order.add_argument("--windowed", action="store_true", help="a window (development)")
    return parser


def _minutes(text: str) -> int:
    """A count of minutes for --visit-in: 0 to a day."""
    try:
        minutes = int(text)
    except ValueError:
        minutes = -1
    if not 0 <= minutes <= 24 * 60:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of minutes from 0 to 1440")
    return minutes


def main(argv: list[str] | None = None) -> int:
    # Start-up allocates mostly long-lived objects (Kivy, the kv rules, the catalogs); the
    # collector's passes over them cost 60-90 ms of start-up (bench/startup.py). Collection
    # resumes, with those objects frozen out of it, once the kiosk is up (startup_done).
    gc.disable()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "out-of-order":
        gc.enable()  # a screen that stays up for hours: no start-up to speed up
        from kiosk.ui.out_of_order import main as out_of_order

        return out_of_order(["--windowed"] if args.windowed else [])
    if args.command != "run":
        parser.print_help()
        return 2
    if args.visit_in is not None and not args.demo:
        parser.error("--visit-in is for the demo: add --demo")
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from kiosk.store import StoreError  # after parsing: --help stays fast

    # A stop asked for while starting up (opening the database, seeding the demo, loading
    # Kivy) is kept and honoured once the loop runs, instead of killing the process half-way.
    early_stop = EarlyStop()
    demo_cloud = None
    # What the kiosk makes from now on (Kivy's folder, its status file, the demo's broker)
    # is its owner's alone, however it was started: systemd's unit says UMask=0077, a
    # technician's shell usually 022. The start still checks what older runs left.
    os.umask(0o077)
    try:
        config = load(args)
        _name_the_kiosk_in_logs(config.kiosk_id)
        check_tls_files(config)
        if config.demo and not config.brokers and not args.offline:
            demo_cloud, config = _start_demo_cloud(config, args.visit_in)
        from kiosk.assembly import ProcessStop, build_kiosk
        from kiosk.core.ports import Actions

        # Restart ends the window (systemd starts the kiosk again); Reboot under systemd only,
        # on the kiosk's own seat, where logind allows it.
        restart = None if args.headless else ProcessStop()
        reboot = _reboot if os.environ.get("INVOCATION_ID") else None
        kiosk = build_kiosk(config, actions=Actions(restart=restart, reboot=reboot))
    except (ConfigError, StoreError) as error:
        print(f"kiosk: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"kiosk: cannot use the data folder: {error}", file=sys.stderr)
        return 2
    reseed = None
    if config.demo and (demo_cloud is not None or not config.brokers):
        reseed = _seed_demo(kiosk, args.visit_in)
    try:
        if args.headless:
            if reseed is not None:
                reseed()
            if demo_cloud is not None:
                demo_cloud.start_in_background()
            return asyncio.run(run_headless(kiosk, early_stop))
        from launch.window import run_ui

        keys = None
        if config.demo:
            from demo.keys import DemoKeys

            keys = DemoKeys.for_devices(kiosk.devices)
        elif "simulated" in config.device_kinds.values():
            # A development kiosk on simulated devices: F3 lifts its handset, F5/F6 an ID card.
            from hardware.simulated.keys import SimulatedDeviceKeys

            keys = SimulatedDeviceKeys.for_devices(kiosk.devices)
        background = demo_cloud.start_in_background if demo_cloud else None
        return run_ui(kiosk, early_stop, restart, background, keys, first_drawn=reseed)
    finally:
        kiosk.close()
        if demo_cloud is not None:
            demo_cloud.stop()


def _seed_demo(kiosk, visit_in: int | None):
    """The demo facility, delivered to the kiosk as the cloud would deliver it: at once on a
    first start, which has nothing else to show. A restart shows what it kept, as any kiosk
    does, and is handed the returned delivery to make once its first frame is drawn (the
    contract's models it validates with would delay that frame). The demo's cloud, when it
    runs, then replaces it with newer snapshots, as a real cloud would."""
    from kiosk.store.snapshots import SnapshotRepository

    when = {} if visit_in is None else {"visit_in_minutes": visit_in}
    if SnapshotRepository(kiosk.database).get("config") is None:
        from demo.seed import seed

        seed(kiosk, **when)
        return None

    def reseed() -> None:
        from demo.seed import seed

        seed(kiosk, **when)

    return reseed


def _reboot() -> None:
    """The maintenance screen's Reboot: the machine, through systemd-logind."""
    import subprocess

    logging.getLogger("kiosk").warning("rebooting at the technician's request")
    subprocess.Popen(["systemctl", "reboot"], start_new_session=True)


def _name_the_kiosk_in_logs(kiosk_id: str) -> None:
    """Every log line carries the kiosk's id: a facility's journals are read side by side. Under
    systemd the journal stamps the time itself (JOURNAL_STREAM says stderr goes there)."""
    when = "" if os.environ.get("JOURNAL_STREAM") else "%(asctime)s "
    formatter = logging.Formatter(f"{when}kiosk[{kiosk_id}] %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)


def _start_demo_cloud(config, visit_in: int | None):
    """The demo's own Mosquitto and cloud simulator, when Mosquitto is installed."""
    import dataclasses

    from demo import facility
    from demo.own_cloud import DemoCloud

    cloud = DemoCloud(
        config.data_dir / "demo-broker",
        facility.HOUSING_KIOSK_ID,
        facility.LOBBY_KIOSK_ID,
        role=config.role,
        visit_in_minutes=facility.DEMO_VISIT_IN_MINUTES if visit_in is None else visit_in,
    )
    url = cloud.start()
    if url is None:
        return None, config
    return cloud, dataclasses.replace(config, brokers=(url,), facility_id=facility.FACILITY_ID)


async def run_headless(kiosk, early_stop: EarlyStop) -> int:
    """Run the core with no display until SIGTERM or SIGINT, then stop cleanly and return 0."""
    task = asyncio.create_task(kiosk.run())
    reason = ["shutdown"]

    def restart() -> None:  # a `reboot` command: exit, and systemd starts the kiosk again
        reason[0] = "restart"
        asyncio.get_running_loop().call_later(1.0, task.cancel)

    kiosk.restart = restart
    sync = start_sync(kiosk)
    startup_done()
    early_stop.hand_to(asyncio.get_running_loop(), task.cancel)
    logging.getLogger("kiosk").info(
        "kiosk %s (%s) running headless", kiosk.config.kiosk_id, kiosk.config.role
    )
    with contextlib.suppress(asyncio.CancelledError):
        await task
    if sync is not None:
        await sync.stop(reason[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
