"""A fleet of headless kiosk cores on one Mosquitto: time until every kiosk applied a schedule.

    python bench/fleet.py [--kiosks 200] [--processes 1] [--rounds 3] [--visits 8]

One Mosquitto (``cloudsim.broker.LocalBroker``'s configuration plus ``max_connections -1``)
in a temporary folder; RLIMIT_NOFILE is raised to its hard limit first (the broker and every
worker inherit it), as a deployment would. Two fleets of ``--kiosks`` each, both connected for
the whole run:

* kiosks: ``build_kiosk`` on a data folder of its own and ``SyncService`` per kiosk, all on one
  asyncio loop per worker process (``--processes``; kiosk i goes to worker i % P). Birth is
  the retained ``online`` status seen by an observer here.
* bare: paho MQTT 5 clients (``loop_start``, QoS 1 subscription to their schedule topic,
  storing nothing) in as few processes as paho's ``select()`` allows (3 descriptors each,
  all below 1024: at most 300 clients a process).

A round publishes a retained schedule (version + 1, ``--visits`` visits, the same bytes to
every client) to each client of one fleet, and takes per client the time from its publish to
the kiosk core having APPLIED it (``Kiosk.receive(ScheduleApplied)`` returned: stored, visits
reloaded, view recomposed) or to the bare client's ``on_message``. A warm-up round each, then
``--rounds`` of each, alternating; medians of the rounds' p50 / p95 / max. Where a kiosk's time
goes is timed in the worker on every kiosk: publish to its link thread waking, waiting for its
turn (the links' lock), paho's read, parsing (pydantic), the SQLite transaction (WAL,
``synchronous=FULL``), the hop to the event loop and the core's update; the worker's CPU split
(event loop, link threads; user, system; context switches); and, alone, one parse and one
schedule transaction with FULL and NORMAL, and FULL on a plain store. ``--store plain`` runs the
kiosks on unencrypted SQLite (the encryption's baseline). ``--synchronous``,
``--switch-interval`` and ``--turns`` are experiments (``--turns 0``: the links without their
lock). Figures also go to bench/results/fleet.json. Everything started here (workers, their
threads, the broker) is stopped at the end. Each size keeps its own entry in the results file.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import math
import multiprocessing
import os
import platform
import resource
import signal
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
if str(REPO_DIR) not in sys.path:
    sys.path.insert(0, str(REPO_DIR))

import paho.mqtt.client as mqtt  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402

from cloudsim.broker import LocalBroker, free_port  # noqa: E402
from cloudsim.sim import make_visit  # noqa: E402

RESULTS_FILE = BENCH_DIR / "results" / "fleet.json"
FACILITY = "f1"
GOAL_P95_MS = 500.0
BARE_PER_PROCESS = 300  # 3 descriptors each: paho's select() stops at descriptor 1023
ROUND_TIMEOUT_S = 120.0
CTX = multiprocessing.get_context("spawn")


def schedule_topic(client_id: str) -> str:
    return f"kiosk/v1/{FACILITY}/{client_id}/down/schedule"


def schedule_payload(version: int, visits: int) -> bytes:
    """A contract schedule snapshot: ``visits`` visits today, every 30 minutes from 08:00."""
    day = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0)
    entries = [
        make_visit(
            f"v-{version}-{index:03d}", day + timedelta(minutes=30 * index), 25,
            ("onsite", "remote")[index % 2], f"A{1000 + index}", f"Resident {index}",
            f"Visitor {index}",
        )
        for index in range(visits)
    ]  # fmt: skip
    payload = {"v": 1, "type": "schedule", "version": version, "visits": entries}
    return json.dumps(payload, separators=(",", ":")).encode()


def kiosk_config(data_dir: Path, url: str, kiosk_id: str) -> Any:
    """The configuration ``kiosk run --headless`` builds from these flags."""
    from kiosk.config import load
    from launch.cli import build_parser

    args = build_parser().parse_args(
        ["run", "--headless", "--data-dir", str(data_dir), "--broker", url,
         "--facility", FACILITY, "--kiosk-id", kiosk_id, "--timezone", "America/Chicago"]
    )  # fmt: skip
    return load(args, environ={"HOME": str(data_dir), "XDG_DATA_HOME": str(data_dir)})


def process_info(pid: int | str = "self") -> dict[str, Any]:
    """CPU seconds (all threads), RSS MiB, threads and open descriptors of a process."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    status = {}
    with open(f"/proc/{pid}/status") as lines:
        for line in lines:
            key, _, value = line.partition(":")
            status[key] = value.strip()
    fds = [int(name) for name in os.listdir(f"/proc/{pid}/fd")]
    return {
        "cpu_s": (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"),
        "rss_mib": int(status["VmRSS"].split()[0]) / 1024,
        "threads": int(status["Threads"]),
        "fds": len(fds),
        "max_fd": max(fds, default=0),
    }


def thread_times() -> dict[str, float]:
    """This process's CPU: the main thread (the event loop) against the others (link threads),
    exact from schedstat; user against system time and context switches, from getrusage."""
    totals = {"main_s": 0.0, "others_s": 0.0}
    own = str(os.getpid())
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/schedstat") as schedstat:
                on_cpu = int(schedstat.read().split()[0]) / 1e9
        except OSError:
            continue  # a thread that ended meanwhile
        totals["main_s" if tid == own else "others_s"] += on_cpu
    usage = resource.getrusage(resource.RUSAGE_SELF)
    totals.update(
        user_s=usage.ru_utime, system_s=usage.ru_stime, switches=usage.ru_nvcsw + usage.ru_nivcsw
    )
    return totals


def link_turns() -> int:
    """How many of a process's links work at once by default here: one shared turn lock."""
    return 1


def raise_nofile() -> tuple[int, int]:
    """Soft RLIMIT_NOFILE up to the hard limit; returns the new (soft, hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else 1 << 20
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def fleet_broker(workdir: Path) -> LocalBroker:
    """LocalBroker's Mosquitto, with unlimited connections written in its configuration."""
    port = free_port()
    listener = [f"listener {port} 127.0.0.1", "allow_anonymous true", "max_connections -1"]
    return LocalBroker(workdir, port=port, listener_config=listener)


# --- kiosk worker ----------------------------------------------------------------------------


class NoTurns:
    """Stands in for the links' turn semaphore: every link works whenever it wakes."""

    def acquire(self) -> bool:
        return True

    def release(self) -> None:
        pass

    def __enter__(self) -> bool:
        return True

    def __exit__(self, *exc: object) -> None:
        pass


class TimedTurns:
    """The links' turn lock (or an experiment's stand-in), noting in each link thread when it
    asked for its turn and when it got it."""

    def __init__(self, inner: Any, timing: threading.local) -> None:
        self.inner, self.timing = inner, timing

    def acquire(self) -> bool:
        return self.inner.acquire()

    def release(self) -> None:
        self.inner.release()

    def __enter__(self) -> bool:
        self.timing.asked = time.monotonic()
        got = self.inner.acquire()
        self.timing.got = time.monotonic()
        return got

    def __exit__(self, *exc: object) -> None:
        self.inner.release()


class Probe:
    """One kiosk core and its sync layer, with the schedule's path through it timed."""

    def __init__(self, kiosk: Any, timing: threading.local, turns: Any, key: Any = None) -> None:
        from kiosk.core.ports import ScheduleApplied
        from kiosk.sync.service import SyncService

        self.kiosk = kiosk
        self.kiosk_id = kiosk.config.kiosk_id
        self.sync = SyncService(kiosk, kiosk.outbox, turns=turns, database_key=key)
        self.by_version: dict[int, dict[str, float]] = {}
        self.applied: dict[int, dict[str, float]] = {}
        self.on_applied: Any = None
        current: dict[str, float] = {}
        real_message, real_receive = self.sync.message, kiosk.receive
        real_replace = self.sync.inbox.schedule.replace

        def message(link: Any, incoming: Any) -> None:  # the link's thread
            nonlocal current
            if incoming.topic.endswith("/down/schedule"):
                current = {
                    "asked": getattr(timing, "asked", math.nan),
                    "got": getattr(timing, "got", math.nan),
                    "received": time.monotonic(),
                }
                timing.parse_s = 0.0
            real_message(link, incoming)

        def replace(version: int, visits: Any, payload: str) -> bool:  # the link's thread
            start = time.monotonic()
            done = real_replace(version, visits, payload)
            current.update(
                parse_s=timing.parse_s, store_s=time.monotonic() - start, committed=time.monotonic()
            )
            self.by_version[version] = current
            return done

        def receive(event: Any) -> None:  # the event loop
            if not isinstance(event, ScheduleApplied):
                real_receive(event)
                return
            start = time.monotonic()
            real_receive(event)
            version = event.version
            marks = dict(self.by_version.get(version, {}))
            marks.update(loop=start, applied=time.monotonic())
            self.applied[version] = marks
            if self.on_applied is not None:
                self.on_applied(self, version)

        self.sync.message = message  # type: ignore[method-assign]
        self.sync.inbox.schedule.replace = replace  # type: ignore[method-assign]
        kiosk.receive = receive  # type: ignore[method-assign]


def kiosk_worker(url: str, root: str, ids: list[str], options: dict[str, Any], conn: Any) -> None:
    """Opens its kiosks, then obeys the pipe: start, expect VERSION, idle SECONDS, stop.

    ``options`` are experiments, off by default: ``synchronous`` (another SQLite setting on
    both of each kiosk's connections), ``switch_interval`` (``sys.setswitchinterval``),
    ``turns`` (how many links take their turn at once; 0: no limit, as before the fix)."""
    logging.basicConfig(level=logging.ERROR)
    if options.get("switch_interval"):
        sys.setswitchinterval(options["switch_interval"])
    timing = threading.local()
    turns = options.get("turns")
    if turns is None or turns == 1:
        shared: Any = threading.Lock()  # what a process holding many kiosks passes its links
    else:
        shared = threading.BoundedSemaphore(turns) if turns else NoTurns()
    shared = TimedTurns(shared, timing)
    import kiosk.sync.inbox as inbox_module
    from kiosk.assembly import build_kiosk

    real_parse = inbox_module.parse_downlink

    def timed_parse(kind: str, raw: bytes) -> Any:
        start = time.perf_counter()
        try:
            return real_parse(kind, raw)
        finally:
            timing.parse_s = time.perf_counter() - start

    inbox_module.parse_downlink = timed_parse
    began = time.monotonic()
    from kiosk.store import open_database
    from kiosk.store.database_key import NO_KEY

    key = NO_KEY if options.get("store") == "plain" else None

    def kiosk_on_its_store(kiosk_id: str) -> Any:
        config = kiosk_config(Path(root) / kiosk_id, url, kiosk_id)
        return build_kiosk(config, database=open_database(config.database_path, key=key))

    probes = [Probe(kiosk_on_its_store(k), timing, shared, key) for k in ids]
    opened_s = time.monotonic() - began
    if options.get("synchronous", "FULL") != "FULL":
        for probe in probes:
            for database in (probe.kiosk.database, probe.sync._link_database):
                database.execute(f"PRAGMA synchronous = {options['synchronous']}")
    gc.collect()
    gc.freeze()  # as the CLI's startup_done: what start-up built is not walked again
    conn.send(("opened", opened_s))
    try:
        asyncio.run(serve_kiosks(probes, conn))
    finally:
        for probe in probes:
            probe.kiosk.close()
    conn.send(("stopped", process_info()))


async def serve_kiosks(probes: list[Probe], conn: Any) -> None:
    loop = asyncio.get_running_loop()
    commands: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    loop.add_reader(conn.fileno(), lambda: commands.put_nowait(conn.recv()))
    target: dict[str, Any] = {"version": None, "left": 0}

    def report() -> None:
        version = target["version"]
        if version is None:
            return
        target["version"] = None
        if target["timer"] is not None:
            target["timer"].cancel()
        marks = {p.kiosk_id: p.applied.get(version) for p in probes}
        cpu = process_info()["cpu_s"] - target["cpu"]
        after = thread_times()
        split = {key: after[key] - target["threads"][key] for key in after}
        conn.send(("applied", version, marks, cpu, split))

    def on_applied(probe: Probe, version: int) -> None:
        if version == target["version"]:
            target["left"] -= 1
            if target["left"] <= 0:
                report()

    for probe in probes:
        probe.on_applied = on_applied
    while True:
        command, argument = await commands.get()
        if command == "start":
            for probe in probes:
                probe.sync.start()
            conn.send(("started", None))
        elif command == "expect":
            target.update(
                version=argument, cpu=process_info()["cpu_s"], threads=thread_times(), timer=None
            )
            target["left"] = sum(1 for p in probes if argument not in p.applied)
            conn.send(("armed", None))
            if target["left"] == 0:
                report()
            else:
                target["timer"] = loop.call_later(ROUND_TIMEOUT_S, report)
        elif command == "idle":
            before = process_info()
            await asyncio.sleep(argument)
            conn.send(
                ("idle", {**process_info(), "cpu_s": process_info()["cpu_s"] - before["cpu_s"]})
            )
        elif command == "stop":
            loop.remove_reader(conn.fileno())
            began = time.monotonic()
            await asyncio.gather(*(probe.sync.stop() for probe in probes))
            conn.send(("stop_s", time.monotonic() - began))
            return


# --- bare worker -----------------------------------------------------------------------------


def bare_worker(url: str, ids: list[str], conn: Any) -> None:
    """Bare paho clients, one ``loop_start`` thread each; obeys expect COUNT, idle, stop."""
    port = int(url.rsplit(":", 1)[1])
    arrivals: dict[str, list[float]] = {client_id: [] for client_id in ids}
    lock = threading.Lock()
    subscribed = threading.Semaphore(0)
    state: dict[str, Any] = {"count": 0, "left": 0, "done": threading.Event()}
    clients = []

    def make(client_id: str) -> mqtt.Client:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id, protocol=mqtt.MQTTv5)
        mine = arrivals[client_id]

        def on_connect(client: mqtt.Client, *_args: Any) -> None:
            client.subscribe(schedule_topic(client_id), qos=1)

        def on_message(_client: Any, _userdata: Any, _message: Any) -> None:
            mine.append(time.monotonic())
            if len(mine) == state["count"]:
                with lock:
                    state["left"] -= 1
                    if state["left"] == 0:
                        state["done"].set()

        client.on_connect = on_connect
        client.on_subscribe = lambda *_args: subscribed.release()
        client.on_message = on_message
        client.connect("127.0.0.1", port, keepalive=30, clean_start=True)
        client.loop_start()
        return client

    began = time.monotonic()
    for client_id in ids:
        clients.append(make(client_id))
    for _ in ids:
        subscribed.acquire(timeout=60)
    conn.send(("subscribed", time.monotonic() - began))
    while True:
        command, argument = conn.recv()
        if command == "expect":
            cpu = process_info()["cpu_s"]
            with lock:
                state["count"] = argument
                state["done"].clear()
                state["left"] = sum(1 for mine in arrivals.values() if len(mine) < argument)
                if state["left"] == 0:
                    state["done"].set()
            conn.send(("armed", None))
            state["done"].wait(ROUND_TIMEOUT_S)
            with lock:
                marks = {
                    client_id: ({"applied": mine[argument - 1]} if len(mine) >= argument else None)
                    for client_id, mine in arrivals.items()
                }
            conn.send(("applied", argument, marks, process_info()["cpu_s"] - cpu, {}))
        elif command == "idle":
            before = process_info()
            time.sleep(argument)
            conn.send(
                ("idle", {**process_info(), "cpu_s": process_info()["cpu_s"] - before["cpu_s"]})
            )
        elif command == "stop":
            began = time.monotonic()
            for client in clients:
                client.disconnect()
            for client in clients:
                client.loop_stop()
            conn.send(("stop_s", time.monotonic() - began))
            conn.send(("stopped", process_info()))
            return


# --- the driver's side -----------------------------------------------------------------------


class Worker:
    """A spawned worker and its end of the pipe; ``close`` always ends it."""

    def __init__(self, target: Any, *args: Any) -> None:
        self.conn, child_conn = CTX.Pipe()
        self.process = CTX.Process(target=target, args=(*args, child_conn), daemon=True)
        self.process.start()
        child_conn.close()

    def send(self, command: str, argument: Any = None) -> None:
        self.conn.send((command, argument))

    def expect(self, what: str, timeout: float = ROUND_TIMEOUT_S + 30) -> tuple[Any, ...]:
        if not self.conn.poll(timeout):
            raise TimeoutError(f"worker {self.process.pid}: no {what!r} in {timeout} s")
        message = self.conn.recv()
        if message[0] != what:
            raise RuntimeError(f"worker {self.process.pid}: {message[0]!r}, not {what!r}")
        return message[1:]

    def close(self, timeout: float = 30.0) -> None:
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


class Cloud:
    """The publisher (no window on QoS 1) and the observer of the kiosks' birth statuses."""

    def __init__(self, port: int) -> None:
        self.online: set[str] = set()
        self._cond = threading.Condition()
        self.publisher = self._client("fleet-publisher")
        self.publisher.max_inflight_messages_set(0)
        self.publisher.max_queued_messages_set(0)
        self.observer = self._client("fleet-observer")
        self.observer.on_connect = lambda client, *_args: client.subscribe(
            f"kiosk/v1/{FACILITY}/+/up/status", qos=1
        )
        self.observer.on_message = self._on_status
        for client in (self.publisher, self.observer):
            client.connect("127.0.0.1", port, clean_start=True)
            client.loop_start()

    @staticmethod
    def _client(client_id: str) -> mqtt.Client:
        return mqtt.Client(CallbackAPIVersion.VERSION2, client_id, protocol=mqtt.MQTTv5)

    def _on_status(self, _client: Any, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        kiosk_id = message.topic.split("/")[3]
        with contextlib.suppress(ValueError, AttributeError):
            state = json.loads(message.payload).get("state")
            with self._cond:
                (self.online.add if state == "online" else self.online.discard)(kiosk_id)
                self._cond.notify_all()

    def wait_online(self, ids: list[str], timeout: float) -> int:
        wanted = set(ids)
        with self._cond:
            self._cond.wait_for(lambda: wanted <= self.online, timeout)
            return len(wanted & self.online)

    def publish_all(self, ids: list[str], payload: bytes) -> dict[str, float]:
        sent: dict[str, float] = {}
        infos = []
        for client_id in ids:
            sent[client_id] = time.monotonic()
            infos.append(self.publisher.publish(schedule_topic(client_id), payload, 1, True))
        for info in infos:
            info.wait_for_publish(30)
        return sent

    def stop(self) -> None:
        for client in (self.publisher, self.observer):
            client.disconnect()
            client.loop_stop()


def run_round(
    cloud: Cloud, workers: list[Worker], ids: list[str], payload: bytes, marker: int
) -> dict[str, Any]:
    """Publish ``payload`` to every client of one fleet; per-client marks and times."""
    for worker in workers:
        worker.send("expect", marker)
    for worker in workers:
        worker.expect("armed")
    sent = cloud.publish_all(ids, payload)
    marks: dict[str, Any] = {}
    cpu = 0.0
    split: dict[str, float] = {}
    for worker in workers:
        _, got, worker_cpu, worker_split = worker.expect("applied")
        marks.update(got)
        cpu += worker_cpu
        for key, value in worker_split.items():
            split[key] = split.get(key, 0.0) + value
    missing = sorted(client_id for client_id in ids if marks.get(client_id) is None)
    latency = {
        client_id: (marks[client_id]["applied"] - sent[client_id]) * 1000
        for client_id in ids
        if marks.get(client_id) is not None
    }
    result: dict[str, Any] = {"missing": len(missing), "cpu_s": cpu, "threads": split}
    if latency:
        values = sorted(latency.values())
        result.update(
            p50_ms=percentile(values, 50),
            p95_ms=percentile(values, 95),
            max_ms=values[-1],
            all_ms=(max(m["applied"] for m in marks.values() if m) - min(sent.values())) * 1000,
            publish_ms=(max(sent.values()) - min(sent.values())) * 1000,
        )
    parts = breakdown(marks, sent)
    if parts:
        result["parts"] = parts
    return result


PARTS = (
    ("wake_ms", "publish -> link thread awake (broker, OS)"),
    ("turn_ms", "waiting for its turn (the links' lock)"),
    ("read_ms", "paho reads the message"),
    ("parse_ms", "parsing and checking the payload (pydantic)"),
    ("store_ms", "SQLite transaction and its commit"),
    ("hop_ms", "committed -> the event loop runs the update"),
    ("update_ms", "the core's update (visits reloaded, view)"),
)


def breakdown(marks: dict[str, Any], sent: dict[str, float]) -> dict[str, Any]:
    """Per component: p50 and p95 over the kiosks (ms), and the sum over them (ms)."""
    rows = [(sent[k], m) for k, m in marks.items() if m and "received" in m]
    if not rows:
        return {}
    values = {
        "wake_ms": [(m["asked"] - t) * 1000 for t, m in rows],
        "turn_ms": [(m["got"] - m["asked"]) * 1000 for _, m in rows],
        "read_ms": [(m["received"] - m["got"]) * 1000 for _, m in rows],
        "parse_ms": [m["parse_s"] * 1000 for _, m in rows],
        "store_ms": [m["store_s"] * 1000 for _, m in rows],
        "hop_ms": [(m["loop"] - m["committed"]) * 1000 for _, m in rows],
        "update_ms": [(m["applied"] - m["loop"]) * 1000 for _, m in rows],
    }
    result = {}
    for name, found in values.items():
        known = sorted(v for v in found if not math.isnan(v))  # NaN: no turn lock to time
        if known:
            result[name] = {
                "p50": percentile(known, 50),
                "p95": percentile(known, 95),
                "sum": sum(known),
            }
    return result


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def commit_probe(root: Path, payload: bytes, repeat: int = 30) -> dict[str, float]:
    """One schedule replace (a transaction and its commit) alone, median ms: FULL vs NORMAL,
    and FULL on a plain store (what the encryption costs a transaction)."""
    from kiosk.contract.codec import parse_downlink
    from kiosk.store import open_database
    from kiosk.store.schedule import ScheduleRepository
    from kiosk.sync.inbox import visit_row

    parsed = parse_downlink("schedule", payload)
    rows = [visit_row(v) for v in parsed.visits]
    results = {}
    from kiosk.store.database_key import NO_KEY

    for name, mode, key in (("FULL", "FULL", None), ("NORMAL", "NORMAL", None),
                            ("FULL plain", "FULL", NO_KEY)):  # fmt: skip
        folder = root / f"probe-{name.replace(' ', '-')}"
        database = open_database(folder / "kiosk.sqlite3", key=key)
        database.execute(f"PRAGMA synchronous = {mode}")
        repository = ScheduleRepository(database)
        times = []
        for version in range(1, repeat + 1):
            start = time.perf_counter()
            repository.replace(version, rows, payload.decode())
            times.append((time.perf_counter() - start) * 1000)
        database.close()
        results[name] = statistics.median(times)
    parse = []
    for _ in range(repeat):
        start = time.perf_counter()
        parse_downlink("schedule", payload)
        parse.append((time.perf_counter() - start) * 1000)
    results["parse"] = statistics.median(parse)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kiosks", type=int, default=200)
    parser.add_argument("--processes", type=int, default=1, help="kiosk worker processes")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds of each fleet")
    parser.add_argument("--visits", type=int, default=8, help="visits in each schedule")
    parser.add_argument(
        "--synchronous",
        choices=("FULL", "NORMAL", "OFF"),
        default="FULL",
        help="experiment: the kiosks' SQLite synchronous setting [FULL, as the store sets it]",
    )
    parser.add_argument(
        "--store",
        choices=("encrypted", "plain"),
        default="encrypted",
        help="the kiosks' database: encrypted as always, or plain SQLite (the encryption's "
        "baseline) [encrypted]",
    )
    parser.add_argument(
        "--switch-interval",
        type=float,
        default=None,
        help="experiment: sys.setswitchinterval in the kiosk workers [Python's 0.005 s]",
    )
    parser.add_argument(
        "--turns",
        type=int,
        default=None,
        help="experiment: links of a worker working at once, 0 for no limit "
        "[1: kiosk.sync.link's lock]",
    )
    args = parser.parse_args(argv)
    nofile = raise_nofile()
    count, processes = args.kiosks, max(1, args.processes)
    kiosk_ids = [f"hu-{index:04d}" for index in range(count)]
    bare_ids = [f"bare-{index:04d}" for index in range(count)]
    bare_processes = max(1, math.ceil(count / BARE_PER_PROCESS))
    report: dict[str, Any] = {
        "kiosks": count,
        "processes": processes,
        "bare_processes": bare_processes,
        "rounds": args.rounds,
        "visits": args.visits,
        "synchronous": args.synchronous,
        "store": args.store,
        "switch_interval": args.switch_interval or sys.getswitchinterval(),
        "turns": args.turns if args.turns is not None else link_turns(),
        "nofile": nofile,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    workers: list[Worker] = []
    bare_workers: list[Worker] = []
    cloud: Cloud | None = None
    began = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="fleet-") as tmp,
        fleet_broker(Path(tmp) / "broker") as broker,
    ):
        root = Path(tmp)
        try:
            cloud = Cloud(broker.port)
            step = time.monotonic()
            for index in range(processes):
                mine = kiosk_ids[index::processes]
                options = {
                    "synchronous": args.synchronous,
                    "store": args.store,
                    "switch_interval": args.switch_interval,
                    "turns": args.turns,
                }
                workers.append(
                    Worker(kiosk_worker, broker.url, str(root / "kiosks"), mine, options)
                )
            report["open_s"] = max(w.expect("opened", 600)[0] for w in workers)
            for worker in workers:
                worker.send("start")
            for worker in workers:
                worker.expect("started")
            online = cloud.wait_online(kiosk_ids, 120)
            report["connect_s"] = time.monotonic() - step
            print(
                f"{online}/{count} kiosks online in {processes} process(es), "
                f"{report['connect_s']:.1f} s (open {report['open_s']:.1f} s)",
                flush=True,
            )
            step = time.monotonic()
            for index in range(bare_processes):
                mine = bare_ids[index::bare_processes]
                bare_workers.append(Worker(bare_worker, broker.url, mine))
            for worker in bare_workers:
                worker.expect("subscribed", 120)
            report["bare_connect_s"] = time.monotonic() - step
            if online < count:
                raise RuntimeError(f"only {online} of {count} kiosks came online")
            report["idle"] = idle(workers, bare_workers, broker, seconds=3.0)
            kiosk_rounds, bare_rounds = [], []
            for number in range(args.rounds + 1):
                version = number + 1
                payload = schedule_payload(version, args.visits)
                kiosk_round = run_round(cloud, workers, kiosk_ids, payload, version)
                bare_round = run_round(cloud, bare_workers, bare_ids, payload, version)
                label = "warm-up" if number == 0 else f"round {number}"
                print(
                    f"{label:8}: kiosks p95 {kiosk_round.get('p95_ms', math.nan):7.1f} ms "
                    f"(missing {kiosk_round['missing']}), bare p95 "
                    f"{bare_round.get('p95_ms', math.nan):6.1f} ms",
                    flush=True,
                )
                if number:
                    kiosk_rounds.append(kiosk_round)
                    bare_rounds.append(bare_round)
            report["payload_bytes"] = len(payload)
            report["kiosk_rounds"], report["bare_rounds"] = kiosk_rounds, bare_rounds
            report["commit_probe_ms"] = commit_probe(root, payload)
            report["worker_info"] = [process_info(w.process.pid) for w in workers]
        finally:
            report["stop"] = stop_all(workers, bare_workers, cloud)
    report["total_s"] = time.monotonic() - began
    report["summary"] = summarise(report)
    print_table(report)
    key = save(report)
    print(f"\nfigures in {RESULTS_FILE.relative_to(REPO_DIR)} under {key!r}")
    return 0


def save(report: dict[str, Any]) -> str:
    """Keep the run in the results file beside the runs of other sizes; returns its key."""
    key = f"{report['kiosks']} kiosks, {report['processes']} process(es)"
    if report["synchronous"] != "FULL" or report["turns"] != link_turns():
        key += f", synchronous={report['synchronous']}, turns={report['turns']}"
    if report.get("store", "encrypted") != "encrypted":
        key += f", {report['store']} store"
    if report["switch_interval"] != 0.005:
        key += f", switch interval {report['switch_interval']}"
    runs: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):
        runs = json.loads(RESULTS_FILE.read_text()).get("runs", {})
    runs[key] = report
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps({"runs": runs}, indent=2))
    return key


def idle(workers: list[Worker], bare: list[Worker], broker: LocalBroker, seconds: float) -> dict:
    """CPU of each fleet (and the broker) while nothing is sent: what keeping it up costs."""
    pid = broker.process.pid if broker.process else None
    before = process_info(pid)["cpu_s"] if pid else 0.0
    for worker in workers + bare:
        worker.send("idle", seconds)
    kiosk = [w.expect("idle")[0] for w in workers]
    bare_info = [w.expect("idle")[0] for w in bare]
    broker_cpu = (process_info(pid)["cpu_s"] - before) if pid else math.nan

    def fleet(infos: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "cpu_percent": sum(i["cpu_s"] for i in infos) / seconds * 100,
            "rss_mib": sum(i["rss_mib"] for i in infos),
            "threads": sum(i["threads"] for i in infos),
            "fds": sum(i["fds"] for i in infos),
            "max_fd": max(i["max_fd"] for i in infos),
        }

    return {"kiosk": fleet(kiosk), "bare": fleet(bare_info), "broker_cpu_percent": broker_cpu
            / seconds * 100}  # fmt: skip


def stop_all(workers: list[Worker], bare: list[Worker], cloud: Cloud | None) -> dict[str, Any]:
    """Stop every worker cleanly (kiosks say goodbye), then the cloud's clients."""
    result: dict[str, Any] = {}
    for name, group in (("kiosk_stop_s", workers), ("bare_stop_s", bare)):
        for worker in group:
            with contextlib.suppress(OSError, BrokenPipeError):
                worker.send("stop")
        seconds = []
        for worker in group:
            with contextlib.suppress(TimeoutError, RuntimeError, EOFError, OSError):
                seconds.append(worker.expect("stop_s", 120)[0])
                worker.expect("stopped", 60)
            worker.close()
        result[name] = max(seconds, default=None)
    if cloud is not None:
        cloud.stop()
    return result


def summarise(report: dict[str, Any]) -> dict[str, Any]:
    def med(rounds: list[dict[str, Any]], key: str) -> float:
        values = [r[key] for r in rounds if key in r]
        return statistics.median(values) if values else math.nan

    kiosk, bare = report.get("kiosk_rounds", []), report.get("bare_rounds", [])
    summary: dict[str, Any] = {}
    for name, rounds in (("kiosk", kiosk), ("bare", bare)):
        summary[name] = {
            key: med(rounds, key) for key in ("p50_ms", "p95_ms", "max_ms", "all_ms", "cpu_s")
        }
        summary[name]["missing"] = max((r["missing"] for r in rounds), default=None)
    summary["kiosk_threads"] = {
        key: statistics.median(r["threads"][key] for r in kiosk if r.get("threads"))
        for key in ("main_s", "others_s", "user_s", "system_s", "switches")
        if any(r.get("threads") for r in kiosk)
    }
    summary["ratio_p95"] = summary["kiosk"]["p95_ms"] / summary["bare"]["p95_ms"]
    summary["goal_p95_ms"] = GOAL_P95_MS
    summary["parts"] = {
        name: {
            stat: statistics.median(r["parts"][name][stat] for r in kiosk if name in r["parts"])
            for stat in ("p50", "p95", "sum")
        }
        for name, _ in PARTS
        if any(name in r.get("parts", {}) for r in kiosk)
    }
    return summary


def print_table(report: dict[str, Any]) -> None:
    s = report.get("summary", {})
    count = report["kiosks"]
    print(
        f"\nFleet: {count} kiosk cores in {report['processes']} process(es) vs {count} bare paho "
        f"clients in {report['bare_processes']}; one Mosquitto; schedule of "
        f"{report.get('payload_bytes', 0)} B ({report['visits']} visits), retained, QoS 1; "
        f"medians of {report['rounds']} rounds"
    )
    if (
        report["synchronous"] != "FULL"
        or report["switch_interval"] != 0.005
        or report["turns"] != link_turns()
    ):
        print(
            f"EXPERIMENT: synchronous={report['synchronous']}, "
            f"switch interval {report['switch_interval'] * 1000:g} ms, "
            f"links working at once {report['turns'] or 'unlimited'}"
        )
    print(f"{'':26}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'all ms':>9}{'CPU s':>8}{'missing':>9}")
    for name, label in (("bare", "bare paho (received)"), ("kiosk", "kiosk cores (applied)")):
        row = s[name]
        print(
            f"{label:26}{row['p50_ms']:9.1f}{row['p95_ms']:9.1f}{row['max_ms']:9.1f}"
            f"{row['all_ms']:9.1f}{row['cpu_s']:8.2f}{row['missing']:9}"
        )
    verdict = (
        "met" if s["kiosk"]["p95_ms"] <= GOAL_P95_MS and not s["kiosk"]["missing"] else "MISSED"
    )
    print(
        f"ratio kiosk/bare p95: {s['ratio_p95']:.1f}; goal p95 <= {GOAL_P95_MS:.0f} ms: {verdict}"
    )
    if s.get("parts"):
        print(f"\nwhere a kiosk's time goes{'':20}{'p50 ms':>9}{'p95 ms':>9}{'sum ms':>10}")
        for name, label in PARTS:
            if name not in s["parts"]:
                continue
            part = s["parts"][name]
            print(f"  {label:43}{part['p50']:9.2f}{part['p95']:9.2f}{part['sum']:10.0f}")
    split = s.get("kiosk_threads")
    if split:
        print(
            f"  kiosk CPU in a round: event loop {split['main_s']:.2f} s, link threads "
            f"{split['others_s']:.2f} s (user {split['user_s']:.2f} s, system "
            f"{split['system_s']:.2f} s), {split['switches']:.0f} context switches"
        )
    probe = report.get("commit_probe_ms")
    if probe:
        print(
            f"  alone, one kiosk: parse {probe['parse']:.2f} ms; schedule transaction "
            f"{probe['FULL']:.2f} ms with synchronous=FULL, {probe['NORMAL']:.2f} ms with NORMAL, "
            f"{probe['FULL plain']:.2f} ms FULL on a plain store"
        )
    idle_info = report.get("idle")
    if idle_info:
        k, b = idle_info["kiosk"], idle_info["bare"]
        print(
            f"\nidle: kiosks {k['cpu_percent']:.1f}% CPU, {k['rss_mib']:.0f} MiB, "
            f"{k['threads']} threads, {k['fds']} fds (highest {k['max_fd']}); bare "
            f"{b['cpu_percent']:.1f}% CPU, {b['rss_mib']:.0f} MiB, {b['threads']} threads; "
            f"broker {idle_info['broker_cpu_percent']:.1f}%"
        )
    stop = report.get("stop", {})
    kiosk_stop, bare_stop = (
        stop.get("kiosk_stop_s") or math.nan,
        stop.get("bare_stop_s") or math.nan,
    )
    print(
        f"setup: open {report.get('open_s', math.nan):.1f} s, kiosks online "
        f"{report.get('connect_s', math.nan):.1f} s, bare subscribed "
        f"{report.get('bare_connect_s', math.nan):.1f} s; stop kiosks {kiosk_stop:.1f} s, "
        f"bare {bare_stop:.1f} s; whole run {report['total_s']:.0f} s; "
        f"RLIMIT_NOFILE {report['nofile'][0]}"
    )


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # finally-blocks stop everything
    sys.exit(main())
