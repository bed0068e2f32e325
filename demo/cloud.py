"""The demo facility played by the cloud simulator: what it publishes to the demo's kiosks
(``kiosk-cloudsim`` and ``kiosk run --demo``'s own cloud, demo/own_cloud.py, both use it).

One difference from the offline seed: the cloud sees both kiosks of a visit, so every family
visit is ``onsite`` between the housing and the lobby kiosk (offline, the housing kiosk holds
its first visit as ``remote``, having no lobby to pair with).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from demo import facility, payloads

if TYPE_CHECKING:
    from cloudsim.sim import CloudSim, Record


def next_version(last: int | None) -> int:
    """Seconds since the epoch, as the offline seed versions its snapshots, so that a kiosk
    that kept a version from an earlier run does not ignore this one; above ``last`` anyway."""
    return max(int(time.time()), (last or 0) + 1)


def publish_schedule(
    sim: CloudSim,
    kiosk_id: str,
    *,
    housing_kiosk_id: str,
    lobby_kiosk_id: str | None,
    now: datetime | None = None,
    visit_in_minutes: int = facility.DEMO_VISIT_IN_MINUTES,
) -> int:
    """(Re)publish the demo schedule to one of the two kiosks, at a higher version; returns it.
    Without a lobby kiosk, the housing kiosk's family visit is remote."""
    role = "housing" if kiosk_id == housing_kiosk_id else "lobby"
    # On-site visits name the demo's lobby even when it is not there, as the offline seed does.
    peer = (lobby_kiosk_id or facility.LOBBY_KIOSK_ID) if role == "housing" else housing_kiosk_id
    visits = payloads.visits(
        now or datetime.now(UTC),
        role,
        peer_kiosk_id=peer,
        paired=lobby_kiosk_id is not None,
        visit_in_minutes=visit_in_minutes,
    )
    version = next_version(sim.schedule_version(kiosk_id))
    sim.publish_schedule(kiosk_id, version, visits)
    return version


def send_messages(
    sim: CloudSim, housing_kiosk_id: str, photo: Callable[[], bytes] | None = None
) -> list[str]:
    """The demo's arriving messages, a photo each (``photo``'s JPEG, or one the simulator
    draws); returns their ids."""
    jpegs = [photo()] if photo else []  # read once for all the messages
    return [
        sim.send_message(
            housing_kiosk_id,
            message.inmate_id,
            message.body,
            from_contact=(message.contact_id, message.contact_name),
            photos=0 if jpegs else 1,
            photo_jpegs=jpegs,
        )
        for message in facility.ARRIVING
    ]


def publish_facility(
    sim: CloudSim,
    housing_kiosk_id: str,
    lobby_kiosk_id: str | None = None,
    *,
    messages: bool = True,
    now: datetime | None = None,
    visit_in_minutes: int = facility.DEMO_VISIT_IN_MINUTES,
) -> None:
    """Config and schedule to both kiosks, residents to the housing kiosk, the arriving
    messages too unless ``messages`` is false (see ``MessagesWhenOnline``)."""
    kiosks = [("housing", housing_kiosk_id)]
    kiosks += [("lobby", lobby_kiosk_id)] if lobby_kiosk_id else []
    for role, kiosk_id in kiosks:
        sim.publish_config(kiosk_id, **payloads.config(role))
        publish_schedule(
            sim,
            kiosk_id,
            housing_kiosk_id=housing_kiosk_id,
            lobby_kiosk_id=lobby_kiosk_id,
            now=now,
            visit_in_minutes=visit_in_minutes,
        )
    version = next_version(sim.residents_version(housing_kiosk_id))
    sim.publish_residents(housing_kiosk_id, version, payloads.residents())
    if messages:
        send_messages(sim, housing_kiosk_id)


class MessagesWhenOnline:
    """Sends the arriving messages once the housing kiosk says it is online. Messages are not
    retained: the broker keeps them only for a kiosk whose session it knows (one that connected
    before), so sent earlier they could be lost."""

    def __init__(
        self,
        sim: CloudSim,
        housing_kiosk_id: str,
        delay_s: float = 0.0,
        photo: Callable[[], bytes] | None = None,
    ) -> None:
        self.sim = sim
        self.housing_kiosk_id = housing_kiosk_id
        self.delay_s = delay_s
        self.photo = photo
        self._sent = False
        self._lock = threading.Lock()

    def watch(self) -> None:
        """From now on; at once if the kiosk's retained status already says online."""
        self.sim.on_record = self._on_record
        status = self.sim.retained_status(self.housing_kiosk_id)
        if status is not None and status.get("state") == "online":
            self.sim.call_later(self.delay_s, self._send)

    def _on_record(self, record: Record) -> None:
        online = record.kind == "status" and record.get("state") == "online"
        if online and record.kiosk_id == self.housing_kiosk_id:
            self.sim.call_later(self.delay_s, self._send)

    def _send(self) -> None:
        with self._lock:
            if self._sent:
                return
            self._sent = True
        send_messages(self.sim, self.housing_kiosk_id, self.photo)
