"""Downlink: every message is checked, committed, and only then acknowledged (delivery rule 2).

Runs on the link's thread with its own database connection. What the core must see is handed
to it afterwards through ``notify`` (which crosses to the event loop); a message that fails to
commit is not acknowledged, so the broker delivers it again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kiosk.contract.codec import Rejected, parse_downlink
from kiosk.contract.times import utc_text  # one fixed width: the store orders times as text
from kiosk.contract.topics import RETAINED_DOWNLINK, Topics
from kiosk.store.messages import MessagesRepository
from kiosk.store.processed import ProcessedRepository
from kiosk.store.residents import ResidentsRepository
from kiosk.store.roster import RosterRepository
from kiosk.store.schedule import ScheduleRepository
from kiosk.store.slots import SlotsRepository
from kiosk.store.snapshots import SnapshotRepository
from kiosk.store.transaction import transaction
from kiosk.sync.incoming import Incoming

if TYPE_CHECKING:
    from kiosk.sync.link import MqttLink

log = logging.getLogger(__name__)

Notify = Callable[[str, Any], None]


def visit_row(visit: Any) -> dict[str, Any]:
    """A contract visit as the store keeps it."""
    return {
        "visit_id": visit.visit_id,
        "starts_at": utc_text(visit.starts_at),
        "ends_at": utc_text(visit.ends_at),
        "kind": visit.kind,
        "status": visit.status,
        "inmate_id": visit.inmate.inmate_id,
        "inmate_name": visit.inmate.display_name,
        "visitor_name": visit.visitor.display_name,
        "confirmation_code_verifier": visit.visitor.confirmation_code_verifier,
        "peer_kiosk_id": visit.peer.kiosk_id if visit.peer is not None else None,
        "visitor_first_visit": int(visit.visitor.first_visit),
        "visitor_captures": ",".join(dict.fromkeys(visit.visitor.captures)) or None,
        "station_kiosk_id": visit.station.kiosk_id if visit.station is not None else None,
        "station_name": visit.station.display_name if visit.station is not None else None,
    }


def slot_row(slot: Any) -> dict[str, Any]:
    """A contract slot as the store keeps it."""
    return {
        "slot_id": slot.slot_id,
        "starts_at": utc_text(slot.starts_at),
        "minutes": slot.minutes,
        "station_kiosk_id": slot.station.kiosk_id,
        "station_name": slot.station.display_name,
    }


def resident_row(resident: Any) -> dict[str, Any]:
    return {
        "inmate_id": resident.inmate_id,
        "booking_number": resident.booking_number,
        "display_name": resident.display_name,
        "language": resident.language,
        "pin_verifier": resident.pin_verifier,
        "message_credits": resident.message_credits,
        "badge_lookups": list(resident.badge_lookups),
    }


class Inbox:
    def __init__(
        self,
        topics: Topics,
        database: Any,
        *,
        notify: Notify,
        rejected: Callable[[str, str], None],
        command_seen_again: Callable[[str, str | None], None],
    ) -> None:
        self.topics = topics
        self.database = database
        self.notify = notify
        self.rejected = rejected
        self.command_seen_again = command_seen_again
        self.schedule = ScheduleRepository(database)
        self.residents = ResidentsRepository(database)
        self.snapshots = SnapshotRepository(database)
        self.messages = MessagesRepository(database)
        self.processed = ProcessedRepository(database)
        self.roster = RosterRepository(database)
        self.slots = SlotsRepository(database)

    def handle(self, link: MqttLink, incoming: Incoming) -> None:
        kind = self.topics.downlink_kind(incoming.topic)
        if kind is None or (kind in RETAINED_DOWNLINK and not incoming.payload):
            # Not in the contract, or a retained snapshot being cleared at the broker: nothing
            # to apply. The broker forwards the clearing empty message to a subscriber that is
            # connected, or queues it in the session of one that is not, without the retain
            # flag, so the topic decides, not the flag.
            link.ack(incoming)
            return
        try:
            payload = parse_downlink(kind, incoming.payload)
        except Rejected as rejection:
            self.rejected(incoming.topic, rejection.reason)
            link.ack(incoming)  # acknowledged: a bad payload must not come back forever
            return
        try:
            self._apply(kind, payload, incoming)
        except Exception:
            # Not acknowledged: the broker delivers it again on the next connection.
            log.exception("could not apply %s", kind)
            return
        link.ack(incoming)

    def _apply(self, kind: str, payload: Any, incoming: Incoming) -> None:
        raw = incoming.payload.decode()
        if kind == "config":
            self.snapshots.replace("config", raw, None)
            # As kept: its secrets sealed, no pepper (the core reads snapshots as plain data).
            self.notify("config", self.snapshots.values("config"))
        elif kind == "notice":
            self.snapshots.replace("notice", raw, None)
            self.notify("notice", json.loads(raw))
        elif kind == "schedule":
            if self.schedule.replace(payload.version, [visit_row(v) for v in payload.visits], raw):
                self.notify("schedule", payload.version)
        elif kind == "residents":
            rows = [resident_row(r) for r in payload.residents]
            if self.residents.replace(payload.version, rows, raw):
                self.notify("residents", payload.version)
        elif kind == "roster":
            # Kept for the front desk's search (the core reads it when a visitor searches).
            rows = [r.model_dump() for r in payload.residents]
            self.roster.replace(payload.version, rows, raw)
        elif kind == "slots":
            self.slots.replace(payload.version, [slot_row(s) for s in payload.slots], raw)
        elif kind == "answer":
            self.notify("answer", payload)  # nothing kept: whoever asked is waiting for it
        elif kind == "inbox":
            self._message(payload)
        elif kind == "message-status":
            self._status(payload)
        elif kind == "cmd":
            self._command(payload)
        elif kind == "signal":
            self.notify("signal", payload)

    def _message(self, message: Any) -> None:
        with transaction(self.database):
            if not self.processed.record("message", message.message_id):
                return  # seen before: a no-op (the contract)
            self.messages.add_incoming(
                message.message_id,
                message.inmate_id,
                message.from_.contact_id,
                message.from_.display_name,
                utc_text(message.sent_at),
                message.body,
                [(photo.photo_id, photo.mime, photo.data) for photo in message.photos],
            )
        self.notify("message", message.inmate_id)

    def _status(self, status: Any) -> None:
        key = f"{status.message_id}:{status.status}"
        with transaction(self.database):
            if not self.processed.record("message_status", key):
                return
            self.messages.set_status(
                status.message_id, status.status, status.reason, status.credits_refunded
            )
            if status.message_credits is not None:
                row = self.messages.get(status.message_id)
                if row is not None:
                    self.residents.set_credits(row.inmate_id, status.message_credits)
        self.notify("message_status", status)

    def _command(self, command: Any) -> None:
        first = self.processed.first_result("command", command.command_id)
        if first is not None:
            # Seen before: answered again with the first result, not run. While the first copy
            # still runs (no result yet), this one is answered when the result is there.
            self.command_seen_again(command.command_id, first.result)
            return
        # Committed as pending before the ack; a kiosk that dies before answering answers
        # "interrupted" when it starts again (SyncService.start) rather than running it late.
        self.processed.record("command", command.command_id)
        self.notify("command", command)
