"""Kiosks for tests: built as the product builds them, with an outbox port that also records
what the core said, for the test to read."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from kiosk.assembly import build_kiosk
from kiosk.config import KioskConfig
from kiosk.contract.topics import Topics
from kiosk.core.clock import Clock
from kiosk.core.kiosk import Kiosk
from kiosk.core.ports import OutgoingApplication, OutgoingCapture, OutgoingMessage
from kiosk.store import open_database
from kiosk.store.snapshots import SnapshotRepository
from kiosk.sync.cloud_outbox import CloudOutbox
from kiosk.sync.inbound import inbound_event


def apply_config(kiosk: Kiosk, values: Mapping[str, Any]) -> None:
    """The cloud's ``config`` as the kiosk's inbox applies it: kept first (its badge key and
    verifiers sealed under the pepper), then told to the core as kept."""
    snapshots = SnapshotRepository(kiosk.database)
    snapshots.replace("config", json.dumps(values), None)
    kiosk.receive(inbound_event("config", snapshots.values("config")))


class RecordingOutbox:
    """The core's outbox port, recording what the core hands it; messages, captures and events
    still go to the kiosk's real outbox table (through ``CloudOutbox``) when it has one."""

    def __init__(self, inner: CloudOutbox | None = None) -> None:
        self.inner = inner
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.published: list[tuple[str, dict[str, Any]]] = []
        self.messages: list[OutgoingMessage] = []
        self.captures: list[OutgoingCapture] = []
        self.applications: list[OutgoingApplication] = []
        self.telemetry = 0  # health_changed calls
        self.wakes = 0  # committed calls: the sync layer woken to send
        self.on_health: Callable[[], None] | None = None

    def event(self, kind: str, detail: Mapping[str, Any]) -> None:
        self.events.append((kind, dict(detail)))
        if self.inner is not None:
            self.inner.event(kind, detail)

    def put_message(self, message: OutgoingMessage) -> None:
        if self.inner is not None:
            self.inner.put_message(message)
        self.messages.append(message)

    def put_capture(self, capture: OutgoingCapture) -> None:
        if self.inner is not None:
            self.inner.put_capture(capture)
        self.captures.append(capture)

    def put_application(self, application: OutgoingApplication) -> None:
        if self.inner is not None:
            self.inner.put_application(application)
        self.applications.append(application)

    def committed(self) -> None:
        self.wakes += 1

    def signal(self, visit_id: str, kind: str, reason: str | None = None) -> None:
        self.published.append(("signal", {"visit_id": visit_id, "kind": kind, "reason": reason}))

    def publish_signal(self, payload: dict[str, Any]) -> None:
        self.published.append(("signal", payload))

    def health_changed(self) -> None:
        self.telemetry += 1
        if self.on_health is not None:
            self.on_health()

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [detail for seen, detail in self.events if seen == kind]

    def kinds(self) -> list[str]:
        return [kind for kind, _detail in self.events]

    def signals(self) -> list[str]:
        """The kinds of the signals sent, in order."""
        return [payload["kind"] for kind, payload in self.published if kind == "signal"]


def make_kiosk(config: KioskConfig, clock: Clock | None = None, **collaborators: Any) -> Kiosk:
    """A kiosk built by ``kiosk.assembly``, its outbox a ``RecordingOutbox`` over the real one
    (read it as ``kiosk.outbox``); ``collaborators`` replace the built ones."""
    database = open_database(config.database_path)
    if "outbox" not in collaborators:
        real = CloudOutbox(
            database,
            Topics(config.facility_id, config.kiosk_id),
            clock or _system_clock(),
            budget_bytes=config.outbox_budget_mb * 1024 * 1024,
            keep_events=bool(config.brokers),  # as kiosk.assembly builds it
        )
        collaborators["outbox"] = RecordingOutbox(real)
    return build_kiosk(config, clock, database=database, **collaborators)


def _system_clock() -> Clock:
    from kiosk.core.clock import SystemClock

    return SystemClock()
