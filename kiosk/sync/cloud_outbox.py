"""The core's outbox port, spoken in the contract: what the kiosk says becomes the contract's
payloads on this kiosk's uplink topics, committed to the outbox table before it is sent.

It exists from the kiosk's first moment: what the kiosk says before its link is up (or while
the network is down) waits in the outbox, and the link sends it once attached.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any, Protocol

from kiosk.contract.topics import Topics
from kiosk.core.clock import Clock
from kiosk.core.ports import OutgoingApplication, OutgoingCapture, OutgoingMessage
from kiosk.store.outbox import OutboxFull, OutboxRepository

log = logging.getLogger(__name__)


def _uplink() -> ModuleType:
    """The contract's builders. Their pydantic models load with the first thing the kiosk says,
    not before its first frame: a kiosk that starts with nothing to say shows its screen sooner
    (bench/startup.py)."""
    from kiosk.contract import builders

    return builders


class Link(Protocol):
    """What the outbox needs of the live connection (kiosk.sync.service.SyncService)."""

    def wake(self) -> None:
        """Records were committed: send them."""
        ...

    def telemetry_changed(self) -> None: ...

    def publish(self, kind: str, payload: dict[str, Any]) -> None:
        """Fire and forget."""
        ...


class CloudOutbox:
    """Implements ``kiosk.core.ports.Outbox`` for one kiosk."""

    def __init__(
        self,
        database: Any,
        topics: Topics,
        clock: Clock,
        *,
        budget_bytes: int,
        keep_events: bool = True,
    ) -> None:
        """``keep_events``: False for a kiosk with no cloud at all (an offline demo), whose
        audit events would only fill its outbox."""
        self.topics = topics
        self.repository = OutboxRepository(database, budget_bytes=budget_bytes)
        self._clock = clock
        self._keep_events = keep_events
        self._link: Link | None = None
        self.events_dropped = 0  # audit events a full outbox could not take

    def attach(self, link: Link | None) -> None:
        """The live connection, or None when it is gone."""
        self._link = link
        if link is not None:
            link.wake()

    def event(self, kind: str, detail: Mapping[str, Any]) -> None:
        if not self._keep_events:
            return
        event_id = str(uuid.uuid4())
        uplink = _uplink()
        payload = uplink.event(event_id, self._clock.now(), kind, detail)
        try:
            self.repository.append(self.topics.up("events"), event_id, uplink.encode(payload))
        except OutboxFull:
            self.events_dropped += 1
            log.error("outbox full: %s event not kept", kind)
            self.health_changed()
            return
        self.committed()

    def put_message(self, message: OutgoingMessage) -> None:
        uplink = _uplink()
        payload = uplink.message(
            message.message_id,
            message.inmate_id,
            message.to_contact_id,
            message.body,
            message.created_at,
        )
        self.repository.append(self.topics.up("outbox"), message.message_id, uplink.encode(payload))

    def put_capture(self, capture: OutgoingCapture) -> None:
        uplink = _uplink()
        payload = uplink.capture(
            capture.capture_id, capture.purpose, capture.subject, capture.taken_at, capture.jpeg
        )
        self.repository.append(
            self.topics.up("captures"), capture.capture_id, uplink.encode(payload)
        )

    def put_application(self, application: OutgoingApplication) -> None:
        uplink = _uplink()
        payload = uplink.application(
            application.application_id,
            application.application_number,
            application.submitted_at,
            application.booking_number,
            application.visitor,
            list(application.capture_ids),
        )
        self.repository.append(
            self.topics.up("applications"), application.application_id, uplink.encode(payload)
        )

    def committed(self) -> None:
        self._call(lambda link: link.wake())
        self.health_changed()  # the outbox's depth is in telemetry

    def signal(self, visit_id: str, kind: str, reason: str | None = None) -> None:
        self.publish_signal(_uplink().signal(visit_id, self.topics.kiosk_id, kind, reason=reason))

    def publish_signal(self, payload: dict[str, Any]) -> None:
        """A call's own signalling (offers, answers), built by kiosk.calls."""
        self._call(lambda link: link.publish("signal", payload))

    def health_changed(self) -> None:
        self._call(lambda link: link.telemetry_changed())

    def _call(self, what: Callable[[Link], None]) -> None:
        if self._link is not None:
            what(self._link)
