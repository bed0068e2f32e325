"""The offline demo: the demo facility delivered to the kiosk's inbox as the cloud would send it.

The same contract payloads the demo's cloud publishes go through the same path as payloads
from a broker (kiosk.sync's Inbox: checked against the contract, committed through the
repositories), and the core hears of them as of anything from the cloud. The schedule is
delivered anew at each start, so that a visit always begins 25 minutes from now.
"""

from __future__ import annotations

from typing import Any

from demo import facility, payloads
from kiosk.contract.codec import build_downlink, encode
from kiosk.contract.connection import QOS
from kiosk.contract.topics import RETAINED_DOWNLINK, Topics
from kiosk.core.kiosk import Kiosk
from kiosk.store.messages import MessagesRepository
from kiosk.store.residents import ResidentsRepository
from kiosk.store.snapshots import SnapshotRepository
from kiosk.sync.inbound import inbound_event
from kiosk.sync.inbox import Inbox
from kiosk.sync.incoming import Incoming


def seed(kiosk: Kiosk, visit_in_minutes: int = facility.DEMO_VISIT_IN_MINUTES) -> None:
    """Deliver the demo facility to the kiosk's own database, as if the cloud had sent it."""
    config = kiosk.config
    now = kiosk.clock.now()
    # Versions in seconds, as the demo's cloud gives them: a later start is a newer snapshot.
    version = int(now.timestamp())
    housing = config.role == "housing"
    deliveries: list[tuple[str, dict[str, Any]]] = []
    if SnapshotRepository(kiosk.database).get("config") is None:
        # Badges need the facility's key and the technician, as the cloud's config gives
        # them; the kiosk keeps the names it was started with.
        fields = payloads.config(
            config.role,
            facility_name=config.facility_name,
            kiosk_name=config.kiosk_name,
            housing_unit=config.housing_unit,
            timezone=config.timezone,
            languages=config.languages,
        )
        deliveries.append(("config", fields))
    peer = facility.LOBBY_KIOSK_ID if housing else facility.HOUSING_KIOSK_ID
    visits = payloads.visits(
        now, config.role, peer_kiosk_id=peer, paired=False, visit_in_minutes=visit_in_minutes
    )
    deliveries.append(("schedule", {"version": version, "visits": visits}))
    if housing:
        if ResidentsRepository(kiosk.database).version() is None:
            # Held residents stay: their balances are what the demo left them.
            residents = payloads.residents()
            deliveries.append(("residents", {"version": version, "residents": residents}))
        # A message already delivered would be a no-op, as from the cloud; a restart does not
        # even draw the family photo again (OpenCV and a JPEG, before the first frame).
        messages = MessagesRepository(kiosk.database)
        if any(messages.get(message_id) is None for message_id, _ in facility.MAILBOX):
            deliveries += [("inbox", message) for message in payloads.mailbox(now)]
    inbox = Inbox(
        Topics(config.facility_id, config.kiosk_id),
        kiosk.database,
        notify=lambda kind, data: kiosk.receive(inbound_event(kind, data)),
        rejected=_rejected,
        command_seen_again=lambda _command_id, _result: None,  # the seed sends no command
    )
    for kind, fields in deliveries:
        _deliver(inbox, kind, encode(build_downlink(kind, **fields)))


class _NoBroker:
    """Stands in for the link: offline there is nothing to acknowledge, only whether the inbox
    would have (it does once the payload is committed)."""

    def __init__(self) -> None:
        self.acknowledged: list[Incoming] = []

    def ack(self, incoming: Incoming) -> None:
        self.acknowledged.append(incoming)


def _deliver(inbox: Inbox, kind: str, payload: bytes) -> None:
    incoming = Incoming(
        topic=inbox.topics.down(kind),
        payload=payload,
        retain=kind in RETAINED_DOWNLINK,
        mid=0,
        qos=QOS,
        generation=0,
    )
    link = _NoBroker()
    inbox.handle(link, incoming)  # the link's ack is all the inbox asks of it
    if incoming not in link.acknowledged:
        raise RuntimeError(f"the demo's {kind} could not be stored (see the log)")


def _rejected(topic: str, reason: str) -> None:
    raise ValueError(f"the demo's payload on {topic} breaks the contract: {reason}")
