"""The kiosk's side of the contract, wired together: link, inbox, outbox, commands, telemetry.

Two worlds meet here. The link's thread owns the MQTT socket and its own database connection;
the event loop owns the kiosk core. Work crosses from the link to the loop only through
``loop.call_soon_threadsafe`` and from the loop to the link only through ``MqttLink.call``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import threading
import time
import uuid
from collections import Counter
from collections.abc import Awaitable
from typing import Any

from kiosk import __version__
from kiosk.contract import builders
from kiosk.contract.codec import encode
from kiosk.contract.endpoints import parse_endpoint
from kiosk.contract.topics import Topics
from kiosk.core.kiosk import Kiosk
from kiosk.core.ports import CloudLinkChanged, StaffCommand
from kiosk.store import open_database
from kiosk.store.database_key import DatabaseKey
from kiosk.store.outbox import OutboxFull, OutboxRepository
from kiosk.store.processed import ProcessedRepository
from kiosk.store.transaction import transaction
from kiosk.sync.cloud_outbox import CloudOutbox
from kiosk.sync.inbound import inbound_event
from kiosk.sync.inbox import Inbox
from kiosk.sync.incoming import Incoming
from kiosk.sync.link import LinkHandler, MqttLink, TlsFiles
from kiosk.sync.outbox import OutboxSender
from kiosk.sync.requests import CloudRequests

log = logging.getLogger(__name__)

TELEMETRY_INTERVAL_S = 60.0


class SyncService(LinkHandler):
    """One kiosk's connection to the facility cloud."""

    def __init__(
        self,
        kiosk: Kiosk,
        cloud_outbox: CloudOutbox,
        *,
        telemetry_interval_s: float = TELEMETRY_INTERVAL_S,
        turns: threading.Lock | None = None,
        database_key: DatabaseKey | None = None,
    ) -> None:
        """``cloud_outbox``: the kiosk's own outbox port, which this link sends from;
        ``turns``: shared by the kiosks of one process (a fleet), see ``MqttLink``;
        ``database_key``: the one the kiosk's database was opened with, if not the usual."""
        config = kiosk.config
        outbox_budget_bytes = cloud_outbox.repository.budget_bytes
        self.kiosk = kiosk
        self.cloud_outbox = cloud_outbox
        self.topics = Topics(config.facility_id, config.kiosk_id)
        self.telemetry_interval_s = telemetry_interval_s
        self.started_at = kiosk.clock.now()
        self._started_monotonic = time.monotonic()
        self.rejected_payloads = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._telemetry_task: asyncio.Task[None] | None = None
        self._telemetry_due = asyncio.Event()
        self._commands_running: set[asyncio.Future[None]] = set()  # a self-test under way
        # Copies of a command that came again while it was still running: each is owed the
        # first result once there is one (on the loop, like the result itself).
        self._asked_again: Counter[str] = Counter()
        # The loop's side appends through the core's connection; the link's side has its own.
        self.outbox = cloud_outbox.repository
        self.processed = ProcessedRepository(kiosk.database)
        self._link_database = open_database(config.database_path, key=database_key)
        link_outbox = OutboxRepository(self._link_database, budget_bytes=outbox_budget_bytes)
        self.sender = OutboxSender(
            link_outbox, on_messages_sent=lambda ids: self._from_link("messages_sent", ids)
        )
        self.inbox = Inbox(
            self.topics,
            self._link_database,
            notify=self._from_link,
            rejected=self._rejected,
            command_seen_again=self._answer_again,
        )
        # The front desk's questions, answered on down/answer (the inbox hands answers here).
        self.requests = CloudRequests(
            self.publish, lambda: self.link.connected, self.kiosk.clock.now
        )
        tls = None
        if config.ca_file and config.cert_file and config.key_file:
            tls = TlsFiles(config.ca_file, config.cert_file, config.key_file)
        self.link = MqttLink(
            client_id=config.kiosk_id,
            endpoints=[parse_endpoint(url) for url in config.brokers],
            handler=self,
            subscriptions=self.topics.subscriptions,
            will=(self.topics.up("status"), builders.WILL_PAYLOAD),
            tls=tls,
            turns=turns,
        )

    # --- life cycle (event loop) ------------------------------------------------------------

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._answer_interrupted_commands()
        self.cloud_outbox.attach(self)
        self.link.start()
        self._telemetry_task = self._loop.create_task(self._telemetry_loop())

    async def stop(self, reason: str = "shutdown") -> None:
        """Say goodbye (retained ``offline``, not the will) and close the connection."""
        # Left pending in the database: the next start answers them "interrupted".
        for task in list(self._commands_running):
            task.cancel()
        if self._telemetry_task is not None:
            self._telemetry_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._telemetry_task
        farewell = (self.topics.up("status"), encode(self._status("offline", reason)))
        self.cloud_outbox.attach(None)
        await asyncio.get_running_loop().run_in_executor(None, self.link.stop, farewell)
        self._link_database.close()

    # --- what the kiosk's outbox asks of the link (event loop) ------------------------------

    def wake(self) -> None:
        """Records were committed to the outbox: send them."""
        self.link.call(self.sender.wake)

    def publish(self, kind: str, payload: dict[str, Any], *, retain: bool = False) -> None:
        """Fire and forget, for what is worthless when late (telemetry, signalling)."""
        topic, data = self.topics.up(kind), encode(payload)
        self.link.call(lambda: self.link.publish(topic, data, retain=retain))

    def telemetry_changed(self) -> None:
        """Hardware or the outbox changed: telemetry goes out now, not at the next minute."""
        self._telemetry_due.set()

    # --- LinkHandler (link thread) ----------------------------------------------------------

    def connected(self, link: MqttLink, generation: int) -> None:
        log.info("connected to %s", link.endpoint)
        self.sender.connected()
        link.publish(
            self.topics.up("status"),
            encode(self._status("online", "connected")),
            retain=True,
        )
        self._from_link("connected", str(link.endpoint))

    def disconnected(self, link: MqttLink, generation: int, reason: str) -> None:
        log.warning("disconnected from %s: %s", link.endpoint, reason)
        self.sender.disconnected()
        self._from_link("disconnected", reason)

    def message(self, link: MqttLink, incoming: Incoming) -> None:
        self.inbox.handle(link, incoming)

    def published(self, link: MqttLink, generation: int, mid: int) -> None:
        if generation == link.generation:
            self.sender.published(mid)

    def refused(self, link: MqttLink, generation: int, mid: int, reason: str) -> None:
        if generation == link.generation:
            self.sender.refused(mid)
            log.error("the broker refused an outbox record (%s); it stays queued", reason)
            self._from_link("telemetry", None)

    def idle(self, link: MqttLink) -> None:
        self.sender.pump(link.publish)

    def _rejected(self, topic: str, reason: str) -> None:
        self.rejected_payloads += 1
        log.warning("payload rejected on %s: %s", topic, reason)
        event_id = str(uuid.uuid4())
        detail = {"topic": topic, "reason": reason}
        payload = builders.event(event_id, self.kiosk.clock.now(), "payload_rejected", detail)
        try:
            self.sender.repository.append(self.topics.up("events"), event_id, encode(payload))
            self.sender.wake()
        except OutboxFull:
            log.error("outbox full: payload_rejected event not kept")
        self._from_link("telemetry", None)  # rejected_payloads changed

    def _answer_again(self, command_id: str, result: str | None) -> None:
        """A command seen before gets its first answer again, not a second run; if it has no
        answer yet (still running), the loop sends one more copy when it has."""
        if result is None:
            self._from_link("command_again", command_id)
            return
        self.sender.repository.append(self.topics.up("cmd-result"), command_id, result.encode())
        self.sender.wake()

    def _from_link(self, kind: str, data: Any) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._on_loop, kind, data)

    # --- back on the event loop -------------------------------------------------------------

    def _on_loop(self, kind: str, data: Any) -> None:
        try:
            if kind == "command":
                self._run_command(data)
            elif kind == "command_again":
                self._answer_when_done(data)
            elif kind == "telemetry":
                self.telemetry_changed()
            elif kind == "answer":
                self.requests.answered(data)
            elif kind in ("connected", "disconnected"):
                self.kiosk.receive(CloudLinkChanged(kind == "connected", str(data)))
                self.telemetry_changed()
            else:
                self.kiosk.receive(inbound_event(kind, data))
        except Exception:
            log.exception("applying %s from the cloud failed", kind)

    def _run_command(self, command: Any) -> None:
        now = self.kiosk.clock.now()
        if command.expires_at <= now:
            self._command_done(command, False, "expired")
            return
        outcome = self.kiosk.run_command(StaffCommand(command.name, dict(command.args or {})))
        if isinstance(outcome, tuple):
            self._command_done(command, *outcome)
            return
        # Still pending in the processed table: a restart meanwhile answers it "interrupted".
        task = asyncio.ensure_future(self._finish_command(command, outcome))
        self._commands_running.add(task)
        task.add_done_callback(self._commands_running.discard)

    async def _finish_command(
        self, command: Any, outcome: Awaitable[tuple[bool, str | None]]
    ) -> None:
        try:
            ok, error = await outcome
        except Exception as exc:
            log.exception("command %s failed", command.name)
            ok, error = False, f"failed: {exc}"
        self._command_done(command, ok, error)

    def _answer_when_done(self, command_id: str) -> None:
        """A copy of a command that was pending when the link looked: answered now if its
        result came meanwhile, else by ``_command_done``."""
        first = self.processed.first_result("command", command_id)
        if first is None or first.result is None:
            self._asked_again[command_id] += 1
            return
        self.outbox.append(self.topics.up("cmd-result"), command_id, first.result.encode())
        self.link.call(self.sender.wake)

    def _command_done(self, command: Any, ok: bool, error: str | None) -> None:
        now = self.kiosk.clock.now()
        result = encode(builders.command_result(command.command_id, ok, error, now))
        answers = 1 + self._asked_again.pop(command.command_id, 0)
        topic = self.topics.up("cmd-result")
        with transaction(self.kiosk.database):
            self.processed.set_result("command", command.command_id, result.decode())
            self.outbox.append_many([(topic, command.command_id, result)] * answers)
        self.link.call(self.sender.wake)
        if command.name == "resync" and ok:
            # Reconnecting subscribes again, and the broker sends every retained snapshot anew.
            self.link.call(self.link.drop_connection)

    def _answer_interrupted_commands(self) -> None:
        for command_id in self.processed.pending("command"):
            result = encode(
                builders.command_result(command_id, False, "interrupted", self.kiosk.clock.now())
            )
            with transaction(self.kiosk.database):
                self.processed.set_result("command", command_id, result.decode())
                self.outbox.append(self.topics.up("cmd-result"), command_id, result)

    async def _telemetry_loop(self) -> None:
        while True:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancel that
            # comes in the same turn as the event (a connect, an enqueue), and stop() then
            # waits for this task for ever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.telemetry_interval_s):
                    await self._telemetry_due.wait()
            self._telemetry_due.clear()
            if self.link.connected:
                self.publish("telemetry", self.telemetry())
            await asyncio.sleep(1.0)  # a burst of changes makes one report, not hundreds

    def telemetry(self) -> dict[str, Any]:
        kiosk = self.kiosk
        disk = shutil.disk_usage(kiosk.config.data_dir)
        return builders.telemetry(
            at=kiosk.clock.now(),
            uptime_s=int(time.monotonic() - self._started_monotonic),
            hardware=kiosk.hardware_report(),
            outbox_depth=self.outbox.depth(),
            disk_free_mb=disk.free // (1024 * 1024),
            session_active=kiosk.session_active,
            schedule_version=kiosk.schedule_version,
            residents_version=kiosk.residents_version,
            rejected_payloads=self.rejected_payloads,
            outbox_bytes=self.outbox.size_bytes(),
            outbox_fill=round(self.outbox.fill_ratio(), 4),
            events_dropped=self.cloud_outbox.events_dropped,
            outbox_refused=self.sender.refusals,
            broker=str(self.link.endpoint) if self.link.connected else None,
        )

    def _status(self, state: str, reason: str) -> dict[str, Any]:
        config = self.kiosk.config
        return builders.status(
            state=state,
            reason=reason,
            version=__version__,
            role=config.role,
            started_at=self.started_at,
            kiosk_name=self.kiosk.view.kiosk_name,
        )
