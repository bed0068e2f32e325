"""``kiosk run --demo``'s own cloud: a Mosquitto on loopback with the cloud simulator on it,
publishing the demo facility (demo/cloud.py) once the kiosk's window is up.

Nothing here loads MQTT or the contract's models before then: both wait for the background
thread, so that the demo's first frame comes as soon as a facility kiosk's (bench/startup.py).
"""

from __future__ import annotations

import logging
import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from cloudsim.broker import LocalBroker
from demo import facility

if TYPE_CHECKING:
    from cloudsim.family.gateway import FamilyGateway
    from cloudsim.sim import CloudSim

log = logging.getLogger(__name__)


class DemoCloud:
    """For ``kiosk run --demo``: a Mosquitto of its own on loopback and the cloud simulator,
    so the demo kiosk receives its facility over MQTT as a real one does. Without Mosquitto
    installed the demo stays offline on the seeded data."""

    def __init__(
        self,
        workdir: Path,
        housing_kiosk_id: str,
        lobby_kiosk_id: str,
        *,
        role: str = "housing",
        visit_in_minutes: int = facility.DEMO_VISIT_IN_MINUTES,
    ) -> None:
        """``role``: the demo kiosk's. A housing kiosk is this cloud's only kiosk: its family
        visit is remote, and the family's page is served for it."""
        self.workdir = workdir
        self.housing_kiosk_id = housing_kiosk_id
        self.lobby_kiosk_id = lobby_kiosk_id
        self.role = role
        self.visit_in_minutes = visit_in_minutes
        self.broker: LocalBroker | None = None
        self.sim: CloudSim | None = None
        self.gateway: FamilyGateway | None = None
        self.family_link: str | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> str | None:
        """The broker's URL, or None (and a log line) when the demo must run offline.

        Nothing runs yet: ``start_in_background`` starts the broker and the simulator once the
        window is up, and the kiosk's link connects when they are, as after any outage."""
        if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
            log.info("demo without the cloud simulator (mosquitto is not installed)")
            return None
        # Inside the kiosk's data folder, the owner's alone like the rest of it (whatever the
        # umask: the kiosk's start checks the folder before the broker has made this one).
        self.workdir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.broker = LocalBroker(self.workdir)
        return self.broker.url

    def start_in_background(self) -> None:
        self._thread = threading.Thread(target=self._run, name="demo-cloud", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from cloudsim.sim import CloudSim
        from demo.cloud import MessagesWhenOnline, publish_facility

        try:
            self.broker.start()
            sim = CloudSim(
                self.broker.url, facility.FACILITY_ID, approve_delay=2.0, session_expiry_s=3600
            )
            sim.start()
            self.sim = sim
            lobby = self.lobby_kiosk_id if self.role == "lobby" else None
            if lobby is None:
                self._serve_the_family(sim)
            publish_facility(
                sim,
                self.housing_kiosk_id,
                lobby,
                messages=False,
                visit_in_minutes=self.visit_in_minutes,
            )
            MessagesWhenOnline(
                sim, self.housing_kiosk_id, delay_s=1.0, photo=self.arriving_photo
            ).watch()
            log.info("demo cloud simulator on %s", self.broker.url)
        except Exception:
            log.exception("the demo's cloud simulator did not start; the kiosk stays offline")

    def _serve_the_family(self, sim: CloudSim) -> None:
        """The family's page for the remote visit, on loopback: the address goes to the log."""
        try:
            from cloudsim.family.gateway import FamilyGateway
        except ImportError:  # aiohttp: installed with the project's development extras
            log.info("demo without the family's page (aiohttp is not installed)")
            return
        for port in (facility.DEMO_FAMILY_PORT, 0):
            try:
                self.gateway = FamilyGateway(sim, port=port).__enter__()
                break
            except RuntimeError as error:
                log.info("the family's page: %s", error)
        if self.gateway is None:
            return
        sim.gateway = self.gateway
        self.family_link = self.gateway.invite(facility.REMOTE_VISIT_ID, facility.DEMO_FAMILY_CODE)
        log.info(
            "remote visit: %s joins from home in %d minutes (its window opens 10 minutes "
            "before). Open the family's page in a browser on this machine: %s",
            facility.REMOTE_VISITOR,
            self.visit_in_minutes,
            self.family_link,
        )

    def arriving_photo(self) -> bytes:
        """The arriving messages' photo: drawn once, then kept beside the broker's data. Drawn
        at every start it would bring OpenCV into the idle kiosk's process (~30 MiB)."""
        kept = self.workdir / "arriving-photo.jpg"
        try:
            return kept.read_bytes()
        except FileNotFoundError:
            from cloudsim.sim import photo_jpeg

            jpeg = photo_jpeg()
            partial = kept.with_suffix(".partial")
            partial.write_bytes(jpeg)
            partial.replace(kept)  # a kiosk stopped half-way never keeps half a picture
            return jpeg

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.join(timeout=15)
        if self.gateway is not None:
            self.gateway.__exit__(None, None, None)
        if self.sim is not None:
            self.sim.stop()
        if self.broker is not None:
            self.broker.stop()
