"""Outbox drain after a reconnect against a bare paho QoS 1 publish loop, in one run.

    python bench/outbox_drain.py [--records 10000] [--runs 3]

One Mosquitto (``cloudsim.broker.LocalBroker``, in a temporary folder) and one receiving paho
client (its own process, subscribed to the uplink events like the cloud, QoS 1) serve both:

* bare: a paho MQTT 5 client in a process of its own publishes ``--records`` QoS 1 messages,
  the kiosk's own event payloads on a kiosk's topic, as fast as it can: a window of 100 in
  flight (the kiosk link's ``max_inflight``) refilled from ``on_publish``; timed from the
  first publish to the last PUBACK.
* kiosk, and the same kiosk on an unencrypted store (``NO_KEY``: what SQLCipher costs):
  ``--records`` events are queued in a fresh kiosk's outbox while it is offline
  (``OutboxRepository.append_many``); then a process of its own opens the core
  (``build_kiosk``) and starts ``SyncService`` on an asyncio loop, as ``kiosk run --headless``
  does; timed from CONNACK to the last acknowledged record deleted (outbox empty).

Both are also timed to the receiver having every message. Runs alternate (bare, kiosk, plain),
``--runs`` of each; medians and their ratio. Each publisher's RSS is sampled every 10 ms
(start, middle, max, end of its drain). The kiosk's database keeps the store's settings:
WAL with ``synchronous=FULL``, so that an appended record survives a power cut (NORMAL would
skip the fsync at commit); the sender deletes acknowledged records in batches, so the fsyncs
of the drain are few. Figures go to bench/results/outbox_drain.json. Every process started
here is ended, the broker last.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
if str(REPO_DIR) not in sys.path:
    sys.path.insert(0, str(REPO_DIR))

import paho.mqtt.client as mqtt  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402

from cloudsim.broker import LocalBroker  # noqa: E402
from kiosk.contract import builders as uplink  # noqa: E402

RESULTS_FILE = BENCH_DIR / "results" / "outbox_drain.json"
FACILITY = "f1"
MAX_INFLIGHT = 100  # MqttLink's default, which SyncService uses
GOAL_RATIO = 0.5
TIMEOUT_S = 120.0
CTX = multiprocessing.get_context("spawn")


# --- shared helpers ---------------------------------------------------------------------------


def events_topic(kiosk_id: str) -> str:
    return f"kiosk/v1/{FACILITY}/{kiosk_id}/up/events"


def make_payloads(kiosk_id: str, count: int) -> list[tuple[str, str, bytes]]:
    """``count`` contract events of about 200 bytes, as (topic, record_id, payload)."""
    topic = events_topic(kiosk_id)
    records = []
    now = datetime.now(UTC)
    for index in range(count):
        event_id = str(uuid.uuid4())
        detail = {"device": "handset", "state": "ok", "detail": "reconnected on usb 1-1.4",
                  "n": index}  # fmt: skip
        payload = uplink.encode(uplink.event(event_id, now, "hardware_changed", detail))
        records.append((topic, event_id, payload))
    return records


def kiosk_config(data_dir: Path, url: str, kiosk_id: str) -> Any:
    """The configuration ``kiosk run --headless`` builds from these flags."""
    from kiosk.config import load
    from launch.cli import build_parser

    args = build_parser().parse_args(
        ["run", "--headless", "--data-dir", str(data_dir), "--broker", url,
         "--facility", FACILITY, "--kiosk-id", kiosk_id, "--timezone", "America/Chicago"]
    )  # fmt: skip
    return load(args, environ={"HOME": str(data_dir), "XDG_DATA_HOME": str(data_dir)})


def rss_mib(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_s() -> float:
    times = os.times()
    return times.user + times.system


class RssSampler(threading.Thread):
    """(monotonic, RSS MiB) of one process every ``every_s``, until stopped."""

    def __init__(self, pid: int, every_s: float = 0.01) -> None:
        super().__init__(daemon=True)
        self.pid, self.every_s = pid, every_s
        self.samples: list[tuple[float, float]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            value = rss_mib(self.pid)
            if value is not None:
                self.samples.append((time.monotonic(), value))
            self._halt.wait(self.every_s)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def window(self, start: float, end: float) -> dict[str, float]:
        inside = [v for t, v in self.samples if start <= t <= end]
        before = [v for t, v in self.samples if t <= start]
        if before:
            inside.insert(0, before[-1])
        if not inside:
            return {}
        middle = [v for t, v in self.samples if t <= (start + end) / 2] or inside
        return {
            "start": inside[0],
            "mid": middle[-1],
            "max": max(inside),
            "end": inside[-1],
            "samples": len(inside),
        }


# --- the processes ---------------------------------------------------------------------------


def receiver_main(url: str, conn: Any) -> None:
    """Counts events per kiosk id; answers (count, first, last arrival) on request."""
    port = int(url.rsplit(":", 1)[1])
    stats: dict[str, list[float]] = {}
    lock = threading.Lock()
    subscribed = threading.Event()

    def on_connect(client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        client.subscribe(f"kiosk/v1/{FACILITY}/+/up/events", qos=1)

    def on_subscribe(*_args: Any) -> None:
        subscribed.set()

    def on_message(_c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        now = time.monotonic()
        kiosk_id = message.topic.split("/", 4)[3]
        with lock:
            entry = stats.get(kiosk_id)
            if entry is None:
                stats[kiosk_id] = [1, now, now]
            else:
                entry[0] += 1
                entry[2] = now

    client = mqtt.Client(CallbackAPIVersion.VERSION2, "drain-receiver", protocol=mqtt.MQTTv5)
    client.on_connect, client.on_subscribe, client.on_message = on_connect, on_subscribe, on_message
    client.connect("127.0.0.1", port, clean_start=True)
    client.loop_start()
    conn.send(subscribed.wait(10))
    while True:
        kiosk_id = conn.recv()
        if kiosk_id is None:
            break
        with lock:
            entry = stats.get(kiosk_id)
            conn.send(None if entry is None else tuple(entry))
    client.disconnect()
    client.loop_stop()


def bare_main(url: str, kiosk_id: str, payloads: list[bytes], conn: Any) -> None:
    """A bare paho MQTT 5 client: QoS 1, a window of ``MAX_INFLIGHT`` kept full from
    ``on_publish``, until the last PUBACK (handing paho all of them at once is slower: paho
    walks its whole queue on every PUBACK)."""
    port = int(url.rsplit(":", 1)[1])
    topic = events_topic(kiosk_id)
    count = len(payloads)
    state = {"acked": 0, "sent": 0, "acked_at": 0.0}
    done, connected = threading.Event(), threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, kiosk_id, protocol=mqtt.MQTTv5)

    def on_publish(*_args: Any) -> None:
        state["acked"] += 1
        state["acked_at"] = time.monotonic()
        if state["sent"] < count:
            client.publish(topic, payloads[state["sent"]], qos=1)
            state["sent"] += 1
        elif state["acked"] == count:
            done.set()

    client.max_inflight_messages_set(MAX_INFLIGHT)
    client.max_queued_messages_set(0)
    client.on_publish = on_publish
    client.on_connect = lambda *_args: connected.set()
    client.connect("127.0.0.1", port, clean_start=True)
    client.loop_start()
    connected.wait(10)
    conn.send("ready")
    conn.recv()
    cpu0 = cpu_s()
    start = time.monotonic()
    first = min(MAX_INFLIGHT, count)
    state["sent"] = first  # counted first: a PUBACK may come back before the loop ends
    for payload in payloads[:first]:
        client.publish(topic, payload, qos=1)
    done.wait(TIMEOUT_S)
    conn.send({"start": start, "acked_at": state["acked_at"], "acked": state["acked"],
               "cpu_s": cpu_s() - cpu0})  # fmt: skip
    client.disconnect()
    client.loop_stop()


def kiosk_main(url: str, data_dir: str, kiosk_id: str, count: int, plain: bool, conn: Any) -> None:
    """One headless kiosk core with its sync layer, instrumented, until its outbox is empty;
    ``plain``: on an unencrypted store (the encryption's baseline)."""
    import logging

    from kiosk.assembly import build_kiosk
    from kiosk.store import open_database
    from kiosk.store.database_key import NO_KEY
    from kiosk.sync.service import SyncService

    logging.basicConfig(level=logging.ERROR)  # not the goodbye's "disconnected" warning
    config = kiosk_config(Path(data_dir), url, kiosk_id)
    key = NO_KEY if plain else None
    kiosk = build_kiosk(config, database=open_database(config.database_path, key=key))
    sync = SyncService(kiosk, kiosk.outbox, database_key=key)
    marks: dict[str, float] = {}
    spent = {"pending_s": 0.0, "pending_calls": 0, "delete_s": 0.0, "delete_calls": 0}
    deleted = [0]
    repository = sync.sender.repository
    real_connected = sync.connected
    real_pending, real_delete = repository.pending, repository.delete

    def connected(link: Any, generation: int) -> None:
        marks.setdefault("connected", time.monotonic())
        marks.setdefault("cpu_connected", cpu_s())
        real_connected(link, generation)

    def pending(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return real_pending(*args, **kwargs)
        finally:
            spent["pending_s"] += time.perf_counter() - t0
            spent["pending_calls"] += 1

    def delete(seqs: Any) -> int:
        t0 = time.perf_counter()
        gone = real_delete(seqs)
        spent["delete_s"] += time.perf_counter() - t0
        spent["delete_calls"] += 1
        deleted[0] += gone
        if deleted[0] >= count and "empty" not in marks:
            marks["empty"] = time.monotonic()
            marks["cpu_empty"] = cpu_s()
        return gone

    sync.connected = connected  # type: ignore[method-assign]
    repository.pending = pending  # type: ignore[method-assign]
    repository.delete = delete  # type: ignore[method-assign]

    async def run() -> dict[str, Any]:
        sync.start()
        deadline = time.monotonic() + TIMEOUT_S
        while "empty" not in marks and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        depth = sync.outbox.depth()
        await sync.stop()
        return {"depth_after": depth, "delivered": sync.sender.delivered}

    conn.send("ready")
    conn.recv()
    try:
        result = asyncio.run(run())
    finally:
        kiosk.close()
    conn.send({**marks, **spent, **result, "deleted": deleted[0]})


class Child:
    """A spawned process and its end of a pipe; ``close`` always ends it."""

    def __init__(self, target: Any, *args: Any) -> None:
        self.conn, child_conn = CTX.Pipe()
        self.process = CTX.Process(target=target, args=(*args, child_conn), daemon=True)
        self.process.start()
        child_conn.close()

    def recv(self, timeout: float = TIMEOUT_S) -> Any:
        if not self.conn.poll(timeout):
            raise TimeoutError(f"{self.process.name} did not answer in {timeout} s")
        return self.conn.recv()

    def close(self, timeout: float = 15.0) -> None:
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


# --- the runs --------------------------------------------------------------------------------


def wait_received(receiver: Child, kiosk_id: str, count: int) -> tuple[int, float | None]:
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        receiver.conn.send(kiosk_id)
        entry = receiver.recv()
        if entry is not None and entry[0] >= count:
            return int(entry[0]), entry[2]
        if time.monotonic() > deadline:
            return (0 if entry is None else int(entry[0])), None
        time.sleep(0.02)


def run_bare(url: str, receiver: Child, kiosk_id: str, count: int) -> dict[str, Any]:
    payloads = [payload for _, _, payload in make_payloads(kiosk_id, count)]
    child = Child(bare_main, url, kiosk_id, payloads)
    try:
        child.recv()
        sampler = RssSampler(child.process.pid)
        sampler.start()
        child.conn.send("go")
        result = child.recv()
        received, last = wait_received(receiver, kiosk_id, count)
        sampler.stop()
    finally:
        child.close()
    seconds = result["acked_at"] - result["start"]
    return {
        "kiosk_id": kiosk_id,
        "acked": result["acked"],
        "seconds": seconds,
        "rate": result["acked"] / seconds,
        "received": received,
        "received_s": None if last is None else last - result["start"],
        "cpu_s": result["cpu_s"],
        "rss_mib": sampler.window(result["start"], result["acked_at"]),
    }


def run_kiosk(
    url: str, receiver: Child, root: Path, kiosk_id: str, count: int, *, plain: bool = False
) -> dict[str, Any]:
    from kiosk.store import open_database
    from kiosk.store.database_key import NO_KEY
    from kiosk.store.outbox import OutboxRepository

    data_dir = root / kiosk_id
    config = kiosk_config(data_dir, url, kiosk_id)
    database = open_database(config.database_path, key=NO_KEY if plain else None)
    try:
        OutboxRepository(database, budget_bytes=1 << 30).append_many(make_payloads(kiosk_id, count))
    finally:
        database.close()
    child = Child(kiosk_main, url, str(data_dir), kiosk_id, count, plain)
    try:
        child.recv()
        sampler = RssSampler(child.process.pid)
        sampler.start()
        child.conn.send("go")
        result = child.recv()
        received, last = wait_received(receiver, kiosk_id, count)
        sampler.stop()
    finally:
        child.close()
    if "empty" not in result:
        raise RuntimeError(f"{kiosk_id}: outbox not drained: {result}")
    seconds = result["empty"] - result["connected"]
    return {
        "kiosk_id": kiosk_id,
        "deleted": result["deleted"],
        "delivered": result["delivered"],
        "depth_after": result["depth_after"],
        "seconds": seconds,
        "rate": count / seconds,
        "received": received,
        "received_s": None if last is None else last - result["connected"],
        "cpu_s": result["cpu_empty"] - result["cpu_connected"],
        "pending_s": result["pending_s"],
        "pending_calls": result["pending_calls"],
        "delete_s": result["delete_s"],
        "delete_calls": result["delete_calls"],
        "rss_mib": sampler.window(result["connected"], result["empty"]),
    }


def median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(run[key] for run in runs if run[key] is not None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3, help="runs of each, interleaved")
    args = parser.parse_args(argv)
    count = args.records
    record_bytes = len(make_payloads("kdrain-00", 1)[0][2])
    bare_runs: list[dict[str, Any]] = []
    kiosk_runs: list[dict[str, Any]] = []
    plain_runs: list[dict[str, Any]] = []  # the kiosk on an unencrypted store
    with tempfile.TemporaryDirectory(prefix="outbox-drain-") as tmp:
        root = Path(tmp)
        with LocalBroker(root / "broker") as broker:
            receiver = Child(receiver_main, broker.url)
            try:
                if not receiver.recv(15):
                    raise RuntimeError("the receiver could not subscribe")
                for run in range(args.runs):
                    bare = run_bare(broker.url, receiver, f"bdrain-{run:02d}", count)
                    bare_runs.append(bare)
                    print(f"run {run + 1}: bare  {bare['rate']:8.0f} rec/s", flush=True)
                    kiosk = run_kiosk(broker.url, receiver, root, f"kdrain-{run:02d}", count)
                    kiosk_runs.append(kiosk)
                    print(f"run {run + 1}: kiosk {kiosk['rate']:8.0f} rec/s", flush=True)
                    plain = run_kiosk(
                        broker.url, receiver, root, f"pdrain-{run:02d}", count, plain=True
                    )
                    plain_runs.append(plain)
                    print(f"run {run + 1}: plain {plain['rate']:8.0f} rec/s", flush=True)
            finally:
                with contextlib.suppress(OSError):
                    receiver.conn.send(None)
                receiver.close()
    summary = summarise(bare_runs, kiosk_runs)
    summary["plain_rate"] = median(plain_runs, "rate")
    summary["plain_s"] = median(plain_runs, "seconds")
    summary["encrypted_over_plain_s"] = summary["kiosk_s"] / summary["plain_s"]
    print_table(summary, count, record_bytes, args.runs)
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(
        json.dumps(
            {
                "records": count,
                "record_bytes": record_bytes,
                "max_inflight": MAX_INFLIGHT,
                "sqlite": "WAL, synchronous=FULL (kiosk.store.database)",
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "summary": summary,
                "bare_runs": bare_runs,
                "kiosk_runs": kiosk_runs,
                "plain_runs": plain_runs,
            },
            indent=2,
        )
    )
    print(f"\nfigures in {RESULTS_FILE.relative_to(REPO_DIR)}")
    return 0


def summarise(bare: list[dict[str, Any]], kiosk: list[dict[str, Any]]) -> dict[str, Any]:
    def rss(key: str) -> float:
        return statistics.median(run["rss_mib"][key] for run in kiosk)

    bare_rate, kiosk_rate = median(bare, "rate"), median(kiosk, "rate")
    ratios = [k["rate"] / b["rate"] for b, k in zip(bare, kiosk, strict=True)]
    return {
        "bare_rate": bare_rate,
        "kiosk_rate": kiosk_rate,
        "ratio_of_medians": kiosk_rate / bare_rate,
        "ratio_per_pair_median": statistics.median(ratios),
        "goal_ratio": GOAL_RATIO,
        "bare_s": median(bare, "seconds"),
        "kiosk_s": median(kiosk, "seconds"),
        "bare_received_s": median(bare, "received_s"),
        "kiosk_received_s": median(kiosk, "received_s"),
        "bare_cpu_s": median(bare, "cpu_s"),
        "kiosk_cpu_s": median(kiosk, "cpu_s"),
        "kiosk_pending_s": median(kiosk, "pending_s"),
        "kiosk_delete_s": median(kiosk, "delete_s"),
        "kiosk_delete_calls": median(kiosk, "delete_calls"),
        "kiosk_rss_mib": {key: rss(key) for key in ("start", "mid", "max", "end")},
        "bare_rss_mib": {
            key: statistics.median(run["rss_mib"][key] for run in bare)
            for key in ("start", "mid", "max", "end")
        },
    }


def print_table(summary: dict[str, Any], count: int, record_bytes: int, runs: int) -> None:
    s = summary
    print(
        f"\nOutbox drain: {count} records of {record_bytes} B, QoS 1, max_inflight "
        f"{MAX_INFLIGHT}; medians of {runs} interleaved runs each"
    )
    header = f"{'done s':>8}{'rec/s':>9}{'all recv s':>12}{'CPU s':>8}"
    print(f"{'':28}{header}   RSS MiB start/mid/max/end")
    labels = {"bare": "bare paho (to last PUBACK)", "kiosk": "kiosk (to outbox empty)"}
    for name, label in labels.items():
        rss = s[f"{name}_rss_mib"]
        print(
            f"{label:28}{s[f'{name}_s']:8.3f}{s[f'{name}_rate']:9.0f}"
            f"{s[f'{name}_received_s']:12.3f}{s[f'{name}_cpu_s']:8.3f}"
            f"   {rss['start']:.1f}/{rss['mid']:.1f}/{rss['max']:.1f}/{rss['end']:.1f}"
        )
    print(
        f"{'kiosk, unencrypted store':28}{s['plain_s']:8.3f}{s['plain_rate']:9.0f}"
        f"   encrypted/plain time {s['encrypted_over_plain_s']:.2f} (goal <= 1.3)"
    )
    verdict = "met" if s["ratio_of_medians"] >= GOAL_RATIO else "MISSED"
    print(
        f"ratio kiosk/bare: {s['ratio_of_medians']:.2f} (median of per-run pairs "
        f"{s['ratio_per_pair_median']:.2f}); goal >= {GOAL_RATIO}: {verdict}"
    )
    print(
        f"kiosk: reading the outbox {s['kiosk_pending_s']:.3f} s, deleting acknowledged records "
        f"{s['kiosk_delete_s']:.3f} s in {s['kiosk_delete_calls']:.0f} commits "
        "(WAL, synchronous=FULL)"
    )


if __name__ == "__main__":
    sys.exit(main())
