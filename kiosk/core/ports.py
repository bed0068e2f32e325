"""What the core needs from outside it, and what it hears from outside: ports, not wires.

The core writes what leaves the kiosk through an ``Outbox`` (the sync layer turns it into the
contract's payloads and topics) and receives typed events (``Inbound``); it knows no topic and no
JSON. Whoever builds a kiosk hands it these in its constructor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class OutgoingMessage:
    """A message a resident wrote at the kiosk; it costs one credit."""

    message_id: str
    inmate_id: str
    to_contact_id: str
    body: str
    created_at: datetime


@dataclass(frozen=True)
class OutgoingCapture:
    """A photo taken at the kiosk; ``subject`` names its visit or its resident."""

    capture_id: str
    purpose: str
    subject: Mapping[str, str]
    taken_at: datetime
    jpeg: bytes


@dataclass(frozen=True)
class OutgoingApplication:
    """A visitor's application to visit a resident, made at a lobby kiosk; its photos go as
    ``OutgoingCapture``s naming ``application_id``, in the same transaction."""

    application_id: str
    application_number: str
    submitted_at: datetime
    booking_number: str
    visitor: Mapping[str, str]  # the contract's visitor fields, the PIN's verifier among them
    capture_ids: tuple[str, ...]


class Outbox(Protocol):
    """What leaves the kiosk. Durable records are committed to the kiosk's database before they
    are sent; ``put_*`` run inside the caller's transaction, ``committed`` once it is."""

    def event(self, kind: str, detail: Mapping[str, Any]) -> None:
        """An audit event, durable; a full outbox drops it loudly rather than stop the kiosk."""
        ...

    def put_message(self, message: OutgoingMessage) -> None:
        """Raises ``kiosk.store.outbox.OutboxFull`` when the outbox has no room."""
        ...

    def put_capture(self, capture: OutgoingCapture) -> None:
        """Raises ``kiosk.store.outbox.OutboxFull`` when the outbox has no room."""
        ...

    def put_application(self, application: OutgoingApplication) -> None:
        """Raises ``kiosk.store.outbox.OutboxFull`` when the outbox has no room, ValueError
        for details the contract refuses."""
        ...

    def committed(self) -> None:
        """The transaction that held ``put_*`` is committed: send what it queued."""
        ...

    def signal(self, visit_id: str, kind: str, reason: str | None = None) -> None:
        """Signalling for a visit's peer, fire and forget: worthless when late."""
        ...

    def health_changed(self) -> None:
        """What telemetry reports changed (a device, a session): report it now."""
        ...


@dataclass
class Actions:
    """What the kiosk can ask of whatever runs it; None where nothing carries it out. Read at
    each use: whoever runs the kiosk may learn only later what carries them out."""

    restart: Callable[[], None] | None = None  # exit; the service manager starts it again
    reboot: Callable[[], None] | None = None  # the machine itself


# --- what the core hears (the sync layer sends these, on the event loop) ------------------------


@dataclass(frozen=True)
class CloudLinkChanged:
    connected: bool
    detail: str = ""


@dataclass(frozen=True)
class ConfigApplied:
    """The facility's settings for this kiosk, as committed."""

    values: Mapping[str, Any]


@dataclass(frozen=True)
class NoticeApplied:
    """The facility-wide notice as committed; empty values: no notice."""

    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ScheduleApplied:
    version: int | None = None


@dataclass(frozen=True)
class MailChanged:
    """Messages, their statuses or the residents' balances changed in the store."""

    why: str = "message"


@dataclass(frozen=True)
class PeerSignal:
    """Signalling from the visit's other side, relayed by the cloud."""

    visit_id: str
    values: Mapping[str, Any]


@dataclass(frozen=True)
class StaffCommand:
    name: str
    args: Mapping[str, Any] = field(default_factory=dict)


Inbound = (
    CloudLinkChanged | ConfigApplied | NoticeApplied | ScheduleApplied | MailChanged | PeerSignal
)
