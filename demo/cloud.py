"""The demo facility played by the cloud simulator: published to the demo's kiosks, and for
``kiosk run --demo`` a Mosquitto of its own with the simulator on it.

One difference from the offline seed: the cloud sees both kiosks of a visit, so every family
visit is ``onsite`` between the housing and the lobby kiosk (offline, the housing kiosk holds
its first visit as ``remote``, having no lobby to pair with).
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cloudsim.broker import LocalBroker
from demo import facility, payloads

if TYPE_CHECKING:
    from cloudsim.sim import CloudSim, Record

log = logging.getLogger(__name__)


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
) -> int:
    """(Re)publish the demo schedule to one of the two kiosks, at a higher version; returns it."""
    role = "housing" if kiosk_id == housing_kiosk_id else "lobby"
    peer = lobby_kiosk_id if role == "housing" else housing_kiosk_id
    visits = payloads.visits(now or datetime.now(UTC), role, peer_kiosk_id=peer, paired=True)
    version = next_version(sim.schedule_version(kiosk_id))
    sim.publish_schedule(kiosk_id, version, visits)
    return version


def send_messages(sim: CloudSim, housing_kiosk_id: str) -> list[str]:
    """The demo's arriving messages, a photo each; returns their ids."""
    return [
        sim.send_message(
            housing_kiosk_id,
            message.inmate_id,
            message.body,
            from_contact=(message.contact_id, message.contact_name),
            photos=1,
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
) -> None:
    """Config and schedule to both kiosks, residents to the housing kiosk, the arriving
    messages too unless ``messages`` is false (see ``MessagesWhenOnline``)."""
    kiosks = [("housing", housing_kiosk_id)]
    kiosks += [("lobby", lobby_kiosk_id)] if lobby_kiosk_id else []
    for role, kiosk_id in kiosks:
        sim.publish_config(kiosk_id, **payloads.config(role))
        publish_schedule(
            sim, kiosk_id, housing_kiosk_id=housing_kiosk_id, lobby_kiosk_id=lobby_kiosk_id, now=now
        )
    version = next_version(sim.residents_version(housing_kiosk_id))
    sim.publish_residents(housing_kiosk_id, version, payloads.residents())
    if messages:
        send_messages(sim, housing_kiosk_id)


class MessagesWhenOnline:
    """Sends the arriving messages once the housing kiosk says it is online. Messages are not
    retained: the broker keeps them only for a kiosk whose session it knows (one that connected
    before), so sent earlier they could be lost."""

    def __init__(self, sim: CloudSim, housing_kiosk_id: str, delay_s: float = 0.0) -> None:
        self.sim = sim
        self.housing_kiosk_id = housing_kiosk_id
        self.delay_s = delay_s
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
        send_messages(self.sim, self.housing_kiosk_id)


class DemoCloud:
    """For ``kiosk run --demo``: a Mosquitto of its own on loopback and the cloud simulator,
    so the demo kiosk receives its facility over MQTT as a real one does. Without Mosquitto
    installed the demo stays offline on the seeded data."""

    def __init__(self, workdir: Path, housing_kiosk_id: str, lobby_kiosk_id: str) -> None:
        self.workdir = workdir
        self.housing_kiosk_id = housing_kiosk_id
        self.lobby_kiosk_id = lobby_kiosk_id
        self.broker: LocalBroker | None = None
        self.sim: CloudSim | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> str | None:
        """The broker's URL, or None (and a log line) when the demo must run offline.

        Nothing runs yet: ``start_in_background`` starts the broker and the simulator once the
        window is up, and the kiosk's link connects when they are, as after any outage."""
        if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
            log.info("demo without the cloud simulator (mosquitto is not installed)")
            return None
        self.broker = LocalBroker(self.workdir)
        return self.broker.url

    def start_in_background(self) -> None:
        self._thread = threading.Thread(target=self._run, name="demo-cloud", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from cloudsim.sim import CloudSim  # MQTT's imports wait until the window is up

        try:
            self.broker.start()
            sim = CloudSim(
                self.broker.url, facility.FACILITY_ID, approve_delay=2.0, session_expiry_s=3600
            )
            sim.start()
            self.sim = sim
            publish_facility(sim, self.housing_kiosk_id, self.lobby_kiosk_id, messages=False)
            MessagesWhenOnline(sim, self.housing_kiosk_id, delay_s=1.0).watch()
            log.info("demo cloud simulator on %s", self.broker.url)
        except Exception:
            log.exception("the demo's cloud simulator did not start; the kiosk stays offline")

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.join(timeout=15)
        if self.sim is not None:
            self.sim.stop()
        if self.broker is not None:
            self.broker.stop()
