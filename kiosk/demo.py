"""The demo facility: a schedule, residents and messages seeded so every screen has something real.

The schedule is seeded anew at each start so that a visit always begins 25 minutes from now.
"""

from __future__ import annotations

import base64
import json
import logging
import shutil
import threading
from datetime import datetime, timedelta
from pathlib import Path

from kiosk.contract.fields import utc_text  # the format the inbox stores cloud visits in
from kiosk.core.credentials import badge_lookup, make_verifier
from kiosk.core.kiosk import Kiosk
from kiosk.core.ports import ConfigApplied, MailChanged
from kiosk.store.snapshots import SnapshotRepository

log = logging.getLogger(__name__)

DEMO_BADGE_KEY = b"demo-facility-badge-key"
DEMO_PIN = "1234"
# Badge ids the simulated reader presents in the demo (F2 cycles through them).
DEMO_BADGES = ("04A1B2C3D4", "04E5F60718")

# Far enough for a resident to sign in (a session must end 10 minutes before a visit's start),
# near enough that the notice and the session's cut-off show.
DEMO_VISIT_IN_MINUTES = 25
# The lobby's attorney visit begins this soon, so its check-in is open at once: the code and
# the last name below check in, and the credential photos follow (a privileged visit).
DEMO_ATTORNEY_IN_MINUTES = 5
DEMO_ATTORNEY = "J. Ortega"
# Typed by the visitor at the lobby kiosk to check in (any case); the cloud simulator's demo
# uses the same. R. Alvarez's (v-demo-1) is too early at first: it shows that answer.
DEMO_CONFIRMATION_CODES = {
    "v-demo-1": "RA2026",
    "v-demo-2": "TJ2026",
    "v-demo-3": "KS2026",
    "v-demo-4": "K7Q2MX",
}
DEMO_CONFIRMATION_CODE = DEMO_CONFIRMATION_CODES["v-demo-4"]
DEMO_FAMILY_CODE = DEMO_CONFIRMATION_CODES["v-demo-1"]

# A field technician of the demo facility: F4 taps the badge, this PIN opens the maintenance
# screen.
DEMO_TECHNICIAN_BADGE = "04C0FFEE01"
DEMO_TECHNICIAN_PIN = "2468"


def demo_technicians() -> list[dict[str, str]]:
    """The config's ``technicians`` of the demo facility."""
    return [
        {
            "technician_id": "t-demo",
            "display_name": "J. Ruiz",
            "badge_lookup": badge_lookup(DEMO_TECHNICIAN_BADGE, DEMO_BADGE_KEY),
            "pin_verifier": make_verifier(DEMO_TECHNICIAN_PIN),
        }
    ]


RESIDENTS = (
    # inmate_id, booking_number, display_name, language, badge, credits
    ("A1024", "B2026-00311", "M. Alvarez", "es", DEMO_BADGES[0], 12),
    ("A2048", "B2026-00452", "D. Johnson", "en", DEMO_BADGES[1], 3),
)


def demo_visits(now: datetime, role: str) -> list[dict[str, object]]:
    """Visits relative to ``now``: one 25 minutes away, one later, one cancelled."""
    soon = (now + timedelta(minutes=DEMO_VISIT_IN_MINUTES)).replace(second=0, microsecond=0)
    later = soon + timedelta(hours=2)
    kind = "onsite" if role == "lobby" else "remote"
    rows = [
        ("v-demo-1", soon, kind, "scheduled", "A1024", "M. Alvarez", "R. Alvarez"),
        ("v-demo-2", later, "onsite", "scheduled", "A2048", "D. Johnson", "T. Johnson"),
        (
            "v-demo-3",
            soon - timedelta(minutes=30),
            kind,
            "cancelled",
            "A2048",
            "D. Johnson",
            "K. Smith",
        ),
    ]
    peer = "demo-hu-01" if role == "lobby" else "demo-lobby-01"
    codes: dict[str, str] = {}
    if role == "lobby":
        # Only the lobby knows of it: the housing demo stays free for a resident to sign in.
        rows.append(
            ("v-demo-4", attorney_visit_start(now), "privileged", "scheduled", "A2048",
             "D. Johnson", DEMO_ATTORNEY)
        )  # fmt: skip
        codes = DEMO_CONFIRMATION_CODES
    return [
        {
            "visit_id": visit_id,
            "starts_at": utc_text(starts),
            "ends_at": utc_text(starts + timedelta(minutes=30)),
            "kind": kind_,
            "status": status,
            "inmate_id": inmate_id,
            "inmate_name": inmate_name,
            "visitor_name": visitor_name,
            "confirmation_code_verifier": make_verifier(codes[visit_id])
            if visit_id in codes
            else None,
            "peer_kiosk_id": peer,
        }
        for visit_id, starts, kind_, status, inmate_id, inmate_name, visitor_name in rows
    ]


def attorney_visit_start(now: datetime) -> datetime:
    """The demo attorney's privileged visit at the lobby: its check-in is open at once."""
    return (now + timedelta(minutes=DEMO_ATTORNEY_IN_MINUTES)).replace(microsecond=0)


def seed(kiosk: Kiosk) -> None:
    """Seed the demo facility into the kiosk's own database."""
    database = kiosk.database
    now = kiosk.clock.now()
    visits = demo_visits(now, kiosk.config.role)
    kiosk.apply_schedule(int(now.timestamp()), visits, json.dumps({"demo": True}))
    snapshots = SnapshotRepository(database)
    if snapshots.get("config") is None:
        # Offline, badges need the facility's key as the cloud's config would give it.
        config = {
            "badge_key_b64": base64.b64encode(DEMO_BADGE_KEY).decode(),
            "technicians": demo_technicians(),
        }
        snapshots.replace("config", json.dumps(config), None)
        kiosk.receive(ConfigApplied(config))
    if kiosk.config.role != "housing":
        return
    if database["messages"].count:
        return
    database.execute("DELETE FROM residents")  # what a cut-short seed left
    # sqlite-utils commits each insert_all itself; a demo cut short is seeded again next start
    # because messages, the last table, are what the check above looks for.
    database["residents"].insert_all(
        {
            "inmate_id": inmate_id,
            "booking_number": booking,
            "display_name": name,
            "language": language,
            "pin_verifier": make_verifier(DEMO_PIN),
            "message_credits": credits,
        }
        for inmate_id, booking, name, language, _badge, credits in RESIDENTS
    )
    database["badge_lookups"].insert_all(
        {"lookup": badge_lookup(badge, DEMO_BADGE_KEY), "inmate_id": inmate_id}
        for inmate_id, _booking, _name, _language, badge, _credits in RESIDENTS
    )
    database["messages"].insert_all(_demo_messages(now))
    database["photos"].insert_all(_demo_photos())
    kiosk.receive(MailChanged())  # as if they had arrived: the idle screen counts them


def _demo_photos() -> list[dict[str, object]]:
    """A family picture for the first message, drawn here (the demo ships no photographs)."""
    import cv2

    from hardware.simulated.scenes import face_scene

    ok, data = cv2.imencode(".jpg", face_scene(960, 720, faces=2), [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        return []
    return [
        {
            "photo_id": "p-demo-1",
            "message_id": "m-demo-1",
            "mime": "image/jpeg",
            "data": data.tobytes(),
        }
    ]


def _demo_messages(now: datetime) -> list[dict[str, object]]:
    texts = (
        ("c-1", "R. Alvarez", "Hola mijo, we will see you on the video visit. Te queremos."),
        (
            "c-2",
            "Public Defender's Office",
            "Your hearing has been moved to next Thursday at 9 AM.",
        ),
        ("c-3", "T. Johnson", "Got your letter. The kids say hi. Call when you can."),
    )
    rows = []
    for index, (contact_id, contact_name, body) in enumerate(texts):
        inmate_id = "A1024" if index < 2 else "A2048"
        rows.append(
            {
                "message_id": f"m-demo-{index + 1}",
                "inmate_id": inmate_id,
                "direction": "in",
                "contact_id": contact_id,
                "contact_name": contact_name,
                "sent_at": utc_text(now - timedelta(hours=index + 1)),
                "body": body,
                "status": "delivered",
                "reason": None,
                "read_at": None,
            }
        )
    return rows


class DemoCloud:
    """For ``kiosk run --demo``: a Mosquitto of its own on loopback and the cloud simulator,
    so the demo kiosk receives its facility over MQTT as a real one does. Without Mosquitto
    installed the demo stays offline on the seeded data."""

    def __init__(self, workdir: Path, housing_kiosk_id: str, lobby_kiosk_id: str) -> None:
        self.workdir = workdir
        self.housing_kiosk_id = housing_kiosk_id
        self.lobby_kiosk_id = lobby_kiosk_id
        self.broker = None
        self.sim = None
        self._messages_sent = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> str | None:
        """The broker's URL, or None (and a log line) when the demo must run offline.

        Nothing runs yet: ``start_in_background`` starts the broker and the simulator once the
        window is up, and the kiosk's link connects when they are, as after any outage."""
        from cloudsim.broker import LocalBroker

        if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
            log.info("demo without the cloud simulator (mosquitto is not installed)")
            return None
        self.broker = LocalBroker(self.workdir)
        return self.broker.url

    def start_in_background(self) -> None:
        self._thread = threading.Thread(target=self._run, name="demo-cloud", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from cloudsim.demo_data import seed_demo
        from cloudsim.sim import CloudSim

        try:
            self.broker.start()
            sim = CloudSim(self.broker.url, "demo", approve_delay=2.0, session_expiry_s=3600)
            sim.start()
            self.sim = sim
            seed_demo(sim, self.housing_kiosk_id, self.lobby_kiosk_id, messages=False)
            # Messages are not retained: they go out once the housing kiosk is online.
            sim.on_record = self._on_record
            log.info("demo cloud simulator on %s", self.broker.url)
        except Exception:
            log.exception("the demo's cloud simulator did not start; the kiosk stays offline")

    def _on_record(self, record) -> None:
        from cloudsim.demo_data import send_demo_messages

        online = record.kind == "status" and record.get("state") == "online"
        if online and record.kiosk_id == self.housing_kiosk_id and not self._messages_sent.is_set():
            self._messages_sent.set()
            self.sim.call_later(1.0, lambda: send_demo_messages(self.sim, self.housing_kiosk_id))

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.join(timeout=15)
        if self.sim is not None:
            self.sim.stop()
        if self.broker is not None:
            self.broker.stop()
