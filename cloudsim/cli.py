"""``python -m cloudsim``: the facility cloud, simulated, for demos. Runs until SIGTERM or
SIGINT, printing what it sees and sends; takes commands on stdin (``help``). The end of stdin
does not stop it (CI runs it without one). ``kiosk-cloudsim`` is this command with the demo
facility (demo.cloud_cli), through ``main``'s ``parser`` and ``console``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cloudsim.broker import BrokerUnavailable, LocalBroker
from cloudsim.sim import CloudSim

# The commands a console answers, one line each for `help`.
COMMANDS = (
    "  message KIOSK INMATE text...     a message for a resident",
    "  photo KIOSK INMATE text...       the same, with a photo",
    '  command KIOSK NAME [json-args]   e.g. command demo-hu-01 lock {"reason": "count time"}',
    "  notice SEVERITY text...          info | warning | lockdown, facility-wide",
    "  notice clear                     clear the notice",
    "  help                             this text",
)


def build_parser() -> argparse.ArgumentParser:
    """The simulator's flags; a scenario played on it (the demo's) adds its own."""
    parser = argparse.ArgumentParser(
        prog="kiosk-cloudsim",
        description="The facility cloud, simulated on an MQTT broker, for demos and tests.",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--broker", default="mqtt://127.0.0.1:1883", help="broker URL (mqtt://host:port)"
    )
    where.add_argument(
        "--start-broker",
        action="store_true",
        help="run a Mosquitto of our own on a free loopback port and print its URL",
    )
    parser.add_argument("--port", type=int, help="with --start-broker: listen on this port")
    parser.add_argument("--facility", default="demo", help="facility id (default: demo)")
    parser.add_argument(
        "--kiosk",
        action="append",
        default=[],
        metavar="ID",
        help="a kiosk of the facility; an id containing 'lobby' is a lobby kiosk (repeatable)",
    )
    parser.add_argument(
        "--lobby", action="append", default=[], metavar="ID", help="a lobby kiosk (repeatable)"
    )
    parser.add_argument(
        "--approve-delay",
        type=float,
        default=0.5,
        metavar="S",
        help="seconds between a message's 'received' and its review (default 0.5)",
    )
    return parser


class _Printer:
    """Whole lines, flushed at once: several threads print, and a pipe reader waits for them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __call__(self, line: str) -> None:
        with self._lock:
            print(line, flush=True)


class Console:
    """The facility's kiosks and what the stdin commands do with them. A scenario played on
    the simulator subclasses it: ``start`` publishes it, ``do_<verb>`` adds commands."""

    commands = COMMANDS

    def __init__(self, sim: CloudSim, housing: list[str], lobby: list[str], say: Callable) -> None:
        self.sim = sim
        self.housing = housing
        self.lobby = lobby
        self.say = say

    @property
    def pair(self) -> tuple[str | None, str | None]:
        return (self.housing[0] if self.housing else None, self.lobby[0] if self.lobby else None)

    def start(self, args: argparse.Namespace) -> None:
        """Once the simulator is up, before it says it is ready: nothing to publish here."""

    def run(self, line: str) -> None:
        words = line.split()
        if not words:
            return
        verb, rest = words[0].lower(), words[1:]
        try:
            action = getattr(self, f"do_{verb}", None)
            if action is None:
                self.say(f"! unknown command {verb!r}; try 'help'")
            else:
                action(rest)
        except (ValueError, RuntimeError, TimeoutError) as error:
            self.say(f"! {verb}: {error}")

    def do_help(self, rest: list[str]) -> None:
        self.say("\n".join(("commands:", *self.commands, "stop with Ctrl-C or SIGTERM")))

    def do_message(self, rest: list[str], photos: int = 0) -> None:
        if len(rest) < 3:
            raise ValueError("usage: message KIOSK INMATE text...")
        kiosk, inmate, text = rest[0], rest[1], " ".join(rest[2:])
        self.sim.send_message(kiosk, inmate, text, photos=photos)

    def do_photo(self, rest: list[str]) -> None:
        self.do_message(rest, photos=1)

    def do_command(self, rest: list[str]) -> None:
        if len(rest) < 2:
            raise ValueError("usage: command KIOSK NAME [json-args]")
        args: Any = json.loads(" ".join(rest[2:])) if rest[2:] else {}
        if not isinstance(args, dict):
            raise ValueError("args must be a JSON object")
        self.sim.send_command(rest[0], rest[1], args)

    def do_notice(self, rest: list[str]) -> None:
        if rest == ["clear"]:
            self.sim.publish_notice("")
            return
        if len(rest) < 2 or rest[0] not in ("info", "warning", "lockdown"):
            raise ValueError("usage: notice info|warning|lockdown text...  or  notice clear")
        self.sim.publish_notice(" ".join(rest[1:]), severity=rest[0])


def _read_stdin(console: Console) -> None:
    """Lines from stdin until it ends; os.read, because a thread blocked in sys.stdin's buffered
    reader can abort the interpreter's shutdown."""
    try:
        fd = sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):
        return
    pending = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            return
        if not chunk:
            return  # EOF: the simulator keeps running
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            console.run(line.decode(errors="replace").strip())


def main(
    argv: list[str] | None = None,
    *,
    parser: argparse.ArgumentParser | None = None,
    console: type[Console] = Console,
) -> int:
    """Run the simulator until SIGTERM or SIGINT: 0 then, 1 when there is no broker, 2 for a
    bad broker URL. ``parser`` and ``console``: a scenario's flags and commands."""
    args = (parser or build_parser()).parse_args(argv)
    say = _Printer()
    stop = threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, lambda *_: stop.set())
    broker: LocalBroker | None = None
    workdir: Path | None = None
    try:
        url = args.broker
        if args.start_broker:
            workdir = Path(tempfile.mkdtemp(prefix="kiosk-cloudsim-"))
            try:
                broker = LocalBroker(workdir, port=args.port).start()
            except BrokerUnavailable as error:
                say(f"! {error}")
                return 1
            url = broker.url
            say(f"broker {url} (Mosquitto of our own, data in {workdir})")
        lobby = [k for k in args.kiosk if "lobby" in k] + args.lobby
        housing = [k for k in args.kiosk if k not in lobby]
        if not args.kiosk and not args.lobby:
            housing, lobby = ["demo-hu-01"], ["demo-lobby-01"]
        try:
            sim = CloudSim(
                url, args.facility, log=say, approve_delay=args.approve_delay, keep_records=1000
            )
        except ValueError as error:
            say(f"! {error}")
            return 2
        try:
            sim.start()
        except (ConnectionError, TimeoutError) as error:
            say(f"! {error}")
            return 1
        with sim:
            shell = console(sim, housing, lobby, say)
            shell.start(args)
            say(
                f"cloud for facility {args.facility} ready (housing: {', '.join(housing) or '-'};"
                f" lobby: {', '.join(lobby) or '-'}); type 'help' for commands"
            )
            threading.Thread(
                target=_read_stdin, args=(shell,), name="cloudsim-stdin", daemon=True
            ).start()
            while not stop.wait(0.5):
                pass
        say("stopped")
        return 0
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if broker is not None:
            broker.stop()
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
