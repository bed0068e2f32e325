"""A stateful model of the durable outbox (delivery rule 1) against a real Mosquitto.

The system under test is the kiosk's own sync stack, in process: a ``Kiosk`` core and its
``SyncService`` (the ``MqttLink`` thread, the ``OutboxSender``, the ``OutboxRepository`` on the
kiosk's SQLite) with the service's event loop on a thread of its own. Hypothesis drives it with
``publish``, ``ack_wait``, ``disconnect`` (socket dropped, or the broker restarted), ``crash``
(the stack abandoned as at a power cut, then built again on the same data folder) and
``restart`` (a clean stop and start). The cloud side is a ``CloudSim`` with a persistent session,
so what the broker accepted while it was reconnecting still reaches it.

The model is the list of record ids committed so far, per topic, and the ids the broker
acknowledged (a PUBACK seen by the link). What must hold:

- after every step: the subscriber received only committed ids; a record left the outbox only
  after its PUBACK; first arrivals per topic are in commit order;
- after ``ack_wait``: every committed record was acknowledged and the outbox is empty;
- at the end of each example, after a drain: every committed id was received (once at least),
  every acknowledged one too, first arrivals per topic equal the commit order, the outbox is
  empty.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from cloudsim.broker import LocalBroker
from cloudsim.sim import CloudSim
from kiosk.assembly import build_kiosk
from kiosk.contract import builders as uplink
from kiosk.store.database import connect
from kiosk.sync.link import LinkHandler, MqttLink
from kiosk.sync.service import SyncService
from tests.conftest import make_config
from tests.sync.conftest import FACILITY
from tests.waiting import wait_until

T = TypeVar("T")

TOPICS = ("events", "cmd-result")  # two durable uplink topics sharing the outbox's seq order
ACK_TIMEOUT_S = 10.0
DRAIN_TIMEOUT_S = 15.0
MODEL_SETTINGS = settings(
    max_examples=15,
    stateful_step_count=12,
    deadline=None,
    database=None,  # no .hypothesis folder in the work tree
    suppress_health_check=[HealthCheck.too_slow],
)
_kiosk_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def model_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    with LocalBroker(tmp_path_factory.mktemp("model-broker")) as running:
        yield running


@pytest.fixture(scope="module")
def model_cloud(model_broker: LocalBroker) -> Iterator[CloudSim]:
    sim = CloudSim(
        model_broker.url,
        FACILITY,
        client_id=f"cloudsim-model-{uuid.uuid4().hex[:8]}",
        approve_delay=0,
        session_expiry_s=3600,  # uplinks wait at the broker while it reconnects
    )
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()


def record_id_of(payload: bytes) -> str | None:
    """The id a durable uplink payload carries (what the cloud dedupes by), if any."""
    try:
        data = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    return data.get("event_id") or data.get("command_id")


class Stack:
    """One in-process kiosk on a data folder: core, SyncService, its loop on its own thread.

    The link's ``publish`` and the service's ``published`` are watched (not changed) so the
    model learns which record ids the broker acknowledged, independently of the sender.
    """

    def __init__(self, config: Any, on_ack: Callable[[str], None]) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name=f"loop-{config.kiosk_id}", daemon=True
        )
        self.thread.start()
        self.kiosk = build_kiosk(config)
        self.service: SyncService = self.call(lambda: SyncService(self.kiosk, self.kiosk.outbox))
        link = self.service.link
        sent: dict[tuple[int, int], str] = {}  # (connection generation, mid) -> record id
        real_publish = link.publish
        real_published = self.service.published

        def publish(topic: str, payload: bytes, *, retain: bool = False) -> int | None:
            mid = real_publish(topic, payload, retain=retain)
            record_id = record_id_of(payload)
            if mid is not None and record_id is not None:
                sent[(link.generation, mid)] = record_id
            return mid

        def published(link_: MqttLink, generation: int, mid: int) -> None:
            record_id = sent.pop((generation, mid), None)
            if record_id is not None:
                on_ack(record_id)  # seen before the sender may delete anything for it
            real_published(link_, generation, mid)

        link.publish = publish  # type: ignore[method-assign]
        self.service.published = published  # type: ignore[method-assign]
        self.call(self.service.start)

    def call(self, work: Callable[[], T], timeout: float = 10.0) -> T:
        """Run ``work`` on the stack's event loop (where the core lives) and return its result."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(work())
            except BaseException as error:
                future.set_exception(error)

        self.loop.call_soon_threadsafe(run)
        return future.result(timeout)

    @property
    def connected(self) -> bool:
        return self.service.link.connected

    def enqueue(self, kind: str, record_id: str, payload: dict[str, Any]) -> None:
        def commit_then_wake() -> None:  # as the kiosk's outbox does (delivery rule 1)
            service = self.service
            service.outbox.append(service.topics.up(kind), record_id, uplink.encode(payload))
            service.wake()

        self.call(commit_then_wake)

    def append_batch(self, records: list[tuple[str, str, bytes]]) -> None:
        """Several records in one transaction, then a wake-up, as the core does for a message
        and its photos."""

        def work() -> None:
            self.service.outbox.append_many(records)
            self.service.link.call(lambda: None)

        self.call(work)

    def drop_connection(self) -> None:
        link = self.service.link
        link.call(link.drop_connection)

    def crash(self) -> list[Any]:
        """The power goes: the link thread ends where it is, nothing is flushed, no DISCONNECT,
        no goodbye; the loop just stops. Returns what is left open, for closing much later."""
        link = self.service.link
        # From here on the process "is gone": nothing it would still have done happens (no
        # flush of acknowledged records, no disconnected handler).
        link.handler = LinkHandler()
        link._stopping.set()
        link._wake()
        assert link._thread is not None
        link._thread.join(10)
        assert not link._thread.is_alive(), "the link thread did not end"
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        return [self.loop, self.kiosk.database, self.service._link_database]

    def stop(self) -> None:
        """A clean stop: goodbye, DISCONNECT, flush, databases closed."""
        asyncio.run_coroutine_threadsafe(self.service.stop(), self.loop).result(20)
        self.call(self.kiosk.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def close_abandoned(leftovers: list[Any]) -> None:
    for thing in leftovers:
        if isinstance(thing, asyncio.AbstractEventLoop):
            tasks = asyncio.all_tasks(thing)
            for task in tasks:
                task.cancel()
            thing.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            thing.close()
        else:
            thing.close()


def outbox_rows(database_path: Path) -> list[tuple[int, str, str]]:
    """(seq, topic kind, record id) of what the outbox holds, read as an operator would."""
    conn = connect(database_path, timeout=10)
    try:
        rows = conn.execute("SELECT seq, topic, record_id FROM outbox ORDER BY seq").fetchall()
    finally:
        conn.close()
    return [(seq, topic.rsplit("/", 1)[1], record_id) for seq, topic, record_id in rows]


class OutboxModel(RuleBasedStateMachine):
    def __init__(self, broker: LocalBroker, cloud: CloudSim, root: Path) -> None:
        super().__init__()
        self.broker = broker
        self.cloud = cloud
        number = next(_kiosk_numbers)
        self.kiosk_id = f"mdl-{number:03d}-{uuid.uuid4().hex[:6]}"
        self.config = make_config(
            root / self.kiosk_id,
            brokers=(broker.url,),
            kiosk_id=self.kiosk_id,
            facility_id=FACILITY,
        )
        self.committed: dict[str, list[str]] = {topic: [] for topic in TOPICS}
        self.acked: set[str] = set()
        self._acked_lock = threading.Lock()
        self.leftovers: list[Any] = []
        self.stack: Stack | None = None
        self._counter = itertools.count()

    # --- helpers -----------------------------------------------------------------------------

    def _on_ack(self, record_id: str) -> None:
        with self._acked_lock:
            self.acked.add(record_id)

    def _acked_now(self) -> set[str]:
        with self._acked_lock:
            return set(self.acked)

    def _new_stack(self) -> None:
        self.stack = Stack(self.config, self._on_ack)

    @property
    def all_committed(self) -> set[str]:
        return {record_id for ids in self.committed.values() for record_id in ids}

    def _first_arrivals(self) -> dict[str, list[str]]:
        arrivals: dict[str, list[str]] = {}
        for topic in TOPICS:
            seen: set[str] = set()
            order: list[str] = []
            for record in self.cloud.received(topic, self.kiosk_id):
                if topic == "events" and record["kind"] != "model":
                    continue  # the kiosk's own events (none expected here) are not the model's
                record_id = record["event_id" if topic == "events" else "command_id"]
                if record_id not in seen:
                    seen.add(record_id)
                    order.append(record_id)
            arrivals[topic] = order
        return arrivals

    def _received(self) -> set[str]:
        return {rid for order in self._first_arrivals().values() for rid in order}

    def _outbox(self) -> list[tuple[int, str, str]]:
        return outbox_rows(self.config.database_path)

    # --- rules -------------------------------------------------------------------------------

    @initialize()
    def start_kiosk(self) -> None:
        self._new_stack()

    @rule(
        count=st.integers(min_value=1, max_value=150),  # above the sender's window of 100
        topics=st.lists(st.sampled_from(TOPICS), min_size=1, max_size=2, unique=True),
        batch=st.booleans(),
    )
    def publish(self, count: int, topics: list[str], batch: bool) -> None:
        """The core commits ``count`` records (one commit each, or one transaction for all)."""
        assert self.stack is not None
        now = datetime.now(UTC)
        records: list[tuple[str, str, dict[str, Any]]] = []
        for index in range(count):
            topic = topics[index % len(topics)]
            record_id = f"{self.kiosk_id}-{next(self._counter):05d}"
            if topic == "events":
                payload = uplink.event(record_id, now, "model", {"n": index})
            else:
                payload = uplink.command_result(record_id, True, None, now)
            records.append((topic, record_id, payload))
        if batch:
            topic_of = self.stack.service.topics.up
            self.stack.append_batch(
                [(topic_of(t), rid, uplink.encode(payload)) for t, rid, payload in records]
            )
            for topic, record_id, _ in records:  # committed together, all at once
                self.committed[topic].append(record_id)
        else:
            for topic, record_id, payload in records:
                self.stack.enqueue(topic, record_id, payload)
                self.committed[topic].append(record_id)  # enqueue returned: committed

    @rule()
    def ack_wait(self) -> None:
        """Time passes until the broker acknowledged everything and the outbox is empty."""
        wanted = self.all_committed
        wait_until(
            lambda: wanted <= self._acked_now() and not self._outbox(),
            ACK_TIMEOUT_S,
            lambda: (
                f"PUBACKs for {len(wanted - self._acked_now())} of {len(wanted)} records and "
                f"an empty outbox ({len(self._outbox())} rows left, "
                f"link connected: {self.stack is not None and self.stack.connected})"
            ),
        )

    @rule(how=st.sampled_from(["drop", "drop", "drop", "broker"]))
    def disconnect(self, how: str) -> None:
        """The TCP connection is lost: the socket closes under the link, or the broker
        restarts (sessions, queued messages and retained ones kept on its disk)."""
        assert self.stack is not None
        if how == "drop":
            self.stack.drop_connection()
        else:
            self.broker.restart()

    @rule()
    def crash(self) -> None:
        """A power cut: the stack is abandoned as it stands and a new one starts on the same
        data folder."""
        assert self.stack is not None
        self.leftovers += self.stack.crash()
        self.stack = None
        self._new_stack()

    @rule()
    def restart(self) -> None:
        """A clean stop (goodbye, flush) and start, as for an update."""
        assert self.stack is not None
        self.stack.stop()
        self.stack = None
        self._new_stack()

    # --- invariants --------------------------------------------------------------------------

    @invariant()
    def only_committed_ids_arrive(self) -> None:
        stray = self._received() - self.all_committed
        assert not stray, f"the cloud received ids never committed: {sorted(stray)[:5]}"

    @invariant()
    def nothing_leaves_the_outbox_before_its_puback(self) -> None:
        # The outbox first, then the acknowledgements: the model hears of a PUBACK before the
        # sender can delete, so a record gone from the outbox read must be acked by now.
        rows = self._outbox()
        acked = self._acked_now()
        held = {record_id for _, _, record_id in rows}
        assert held <= self.all_committed, f"outbox holds unknown ids: {held - self.all_committed}"
        lost = self.all_committed - held - acked
        assert not lost, (
            f"{len(lost)} records left the outbox without a PUBACK, e.g. {sorted(lost)[:5]}"
        )
        # The outbox keeps commit order: seq order per topic is the order committed.
        for topic in TOPICS:
            queued = [record_id for _, kind, record_id in rows if kind == topic]
            order = {record_id: n for n, record_id in enumerate(self.committed[topic])}
            assert [order[r] for r in queued] == sorted(order[r] for r in queued), topic

    @invariant()
    def first_arrivals_follow_commit_order(self) -> None:
        for topic, arrivals in self._first_arrivals().items():
            order = {record_id: n for n, record_id in enumerate(self.committed[topic])}
            positions = [order[record_id] for record_id in arrivals if record_id in order]
            assert positions == sorted(positions), (
                f"{topic}: first arrivals out of commit order: {arrivals}"
            )

    # --- the end of an example -----------------------------------------------------------------

    def teardown(self) -> None:
        try:
            if self.stack is not None:
                self._drain_and_check()
        finally:
            if self.stack is not None:
                self.stack.stop()
                self.stack = None
            close_abandoned(self.leftovers)
            self.leftovers = []

    def _drain_and_check(self) -> None:
        if self.broker.process is None or self.broker.process.poll() is not None:
            self.broker.start()
        wanted = self.all_committed
        wait_until(
            lambda: wanted <= self._received() and not self._outbox(),
            DRAIN_TIMEOUT_S,
            lambda: (
                f"the drain: {len(wanted - self._received())} of {len(wanted)} committed "
                f"records not received, {len(self._outbox())} still in the outbox"
            ),
        )
        received = self._received()
        assert wanted <= received  # every committed id arrived at least once
        assert self._acked_now() <= received  # whatever the broker acknowledged arrived
        assert received <= wanted
        assert self._first_arrivals() == self.committed  # all of them, each topic in order
        copies = self.cloud.ids_seen("events", self.kiosk_id) + self.cloud.ids_seen(
            "cmd-result", self.kiosk_id
        )
        assert set(copies) == wanted  # duplicates are only ever copies of committed ids


def test_outbox_delivers_every_committed_record_in_order(
    model_broker: LocalBroker, model_cloud: CloudSim, tmp_path: Path
) -> None:
    run_state_machine_as_test(
        lambda: OutboxModel(model_broker, model_cloud, tmp_path), settings=MODEL_SETTINGS
    )
