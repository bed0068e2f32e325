"""The demo facility, defined once: its residents with their badges and PIN, its technician,
its visits, its messages and the family photo.

The online demo's cloud publishes it (demo.cloud) and the offline demo seeds it (demo.seed),
both through demo.payloads, so the two agree. The names and ids are those ``kiosk run --demo``
configures itself with (kiosk.config's demo values).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from kiosk.config import DEMO_LOBBY_VALUES, DEMO_VALUES

FACILITY_ID: str = DEMO_VALUES["facility.id"]
FACILITY_NAME: str = DEMO_VALUES["facility.name"]
TIMEZONE: str = DEMO_VALUES["facility.timezone"]
HOUSING_UNIT: str = DEMO_VALUES["kiosk.housing_unit"]
LANGUAGES = ("en", "es")
HOUSING_KIOSK_ID: str = DEMO_VALUES["kiosk.id"]
LOBBY_KIOSK_ID: str = DEMO_LOBBY_VALUES["kiosk.id"]
KIOSK_NAMES = {"housing": DEMO_VALUES["kiosk.name"], "lobby": DEMO_LOBBY_VALUES["kiosk.name"]}

DEMO_BADGE_KEY = b"demo-facility-badge-key"
DEMO_PIN = "1234"
# Badge ids the simulated reader presents in the demo (F2 cycles through them).
DEMO_BADGES = ("04A1B2C3D4", "04E5F60718")


class DemoResident(NamedTuple):
    inmate_id: str
    booking_number: str
    display_name: str
    language: str
    badge: str
    message_credits: int


RESIDENTS = (
    DemoResident("A1024", "B2026-00311", "M. Alvarez", "es", DEMO_BADGES[0], 12),
    DemoResident("A2048", "B2026-00452", "D. Johnson", "en", DEMO_BADGES[1], 3),
)

# A field technician of the demo facility: F4 taps the badge, this PIN opens the maintenance
# screen.
DEMO_TECHNICIAN_ID = "t-demo"
DEMO_TECHNICIAN_NAME = "J. Ruiz"
DEMO_TECHNICIAN_BADGE = "04C0FFEE01"
DEMO_TECHNICIAN_PIN = "2468"

# Far enough for a resident to sign in (a session must end 10 minutes before a visit's start),
# near enough that the notice and the session's cut-off show.
DEMO_VISIT_IN_MINUTES = 25
# The lobby's attorney visit begins this soon, so its check-in is open at once: the code and
# the last name below check in, and the credential photos follow (a privileged visit).
DEMO_ATTORNEY_IN_MINUTES = 5
DEMO_ATTORNEY = "J. Ortega"
VISIT_MINUTES = 30
# Typed by the visitor at the lobby kiosk to check in (any case). R. Alvarez's (v-demo-1) is
# too early at first: it shows that answer.
DEMO_CONFIRMATION_CODES = {
    "v-demo-1": "RA2026",
    "v-demo-2": "TJ2026",
    "v-demo-3": "KS2026",
    "v-demo-4": "K7Q2MX",
}
DEMO_CONFIRMATION_CODE = DEMO_CONFIRMATION_CODES["v-demo-4"]
DEMO_FAMILY_CODE = DEMO_CONFIRMATION_CODES["v-demo-1"]
# Where the demo's own cloud serves the family's page for the remote visit (another port when
# this one is taken: the kiosk's log gives the address).
DEMO_FAMILY_PORT = 8765
# The housing kiosk's family visit, remote when no lobby kiosk takes part (demo_visits).
REMOTE_VISIT_ID = "v-demo-1"
REMOTE_VISITOR = "R. Alvarez"


@dataclass(frozen=True)
class DemoVisit:
    visit_id: str
    starts_at: datetime
    kind: str  # onsite | remote | privileged
    status: str  # scheduled | cancelled
    inmate_id: str
    inmate_name: str
    visitor_name: str

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=VISIT_MINUTES)

    @property
    def confirmation_code(self) -> str:
        return DEMO_CONFIRMATION_CODES[self.visit_id]


def demo_visits(
    now: datetime, role: str, *, paired: bool, visit_in_minutes: int = DEMO_VISIT_IN_MINUTES
) -> list[DemoVisit]:
    """The visits one kiosk sees, relative to ``now``: one ``visit_in_minutes`` away, one two
    hours later, one cancelled; the lobby alone also has the attorney's privileged visit.

    ``paired``: a lobby kiosk takes part in the visits. A cloud with both kiosks pairs them, so
    every family visit is on site; a housing kiosk alone (offline, or with the demo's own cloud)
    holds its first visit (and the cancelled one) as remote: R. Alvarez joins from home.
    """
    soon = (now + timedelta(minutes=visit_in_minutes)).replace(second=0, microsecond=0)
    kind = "onsite" if paired or role == "lobby" else "remote"
    visits = [
        DemoVisit(REMOTE_VISIT_ID, soon, kind, "scheduled", "A1024", "M. Alvarez", REMOTE_VISITOR),
        DemoVisit("v-demo-2", soon + timedelta(hours=2), "onsite", "scheduled", "A2048",
                  "D. Johnson", "T. Johnson"),
        DemoVisit("v-demo-3", soon - timedelta(minutes=30), kind, "cancelled", "A2048",
                  "D. Johnson", "K. Smith"),
    ]  # fmt: skip
    if role == "lobby":
        # Only the lobby knows of it: the housing demo stays free for a resident to sign in.
        visits.append(
            DemoVisit("v-demo-4", attorney_visit_start(now), "privileged", "scheduled",
                      "A2048", "D. Johnson", DEMO_ATTORNEY)
        )  # fmt: skip
    return visits


def attorney_visit_start(now: datetime) -> datetime:
    """The demo attorney's privileged visit at the lobby: its check-in is open at once."""
    return (now + timedelta(minutes=DEMO_ATTORNEY_IN_MINUTES)).replace(microsecond=0)


class DemoMessage(NamedTuple):
    inmate_id: str
    contact_id: str
    contact_name: str
    body: str


# In the housing kiosk's mailbox when the demo starts (the offline seed stores them), the
# first with the family photo; sent an hour apart, the first an hour ago.
MAILBOX = (
    ("m-demo-1", DemoMessage("A1024", "c-1", "R. Alvarez",
                             "Hola mijo, we will see you on the video visit. Te queremos.")),
    ("m-demo-2", DemoMessage("A1024", "c-2", "Public Defender's Office",
                             "Your hearing has been moved to next Thursday at 9 AM.")),
    ("m-demo-3", DemoMessage("A2048", "c-3", "T. Johnson",
                             "Got your letter. The kids say hi. Call when you can.")),
)  # fmt: skip
FAMILY_PHOTO_ID = "p-demo-1"
FAMILY_PHOTO_MESSAGE_ID = "m-demo-1"

# Sent by the demo's cloud once the housing kiosk is online, each with a photo.
ARRIVING = (
    DemoMessage("A1024", "c-1", "R. Alvarez",
                "Te mandamos una foto de la fiesta de la abuela. ¡Nos vemos!"),
    DemoMessage("A2048", "c-3", "T. Johnson", "Here is the picture from the game. Proud of you."),
)  # fmt: skip


def family_photo() -> bytes:
    """The family picture of the first message, as a JPEG: drawn, the demo ships no
    photographs."""
    import cv2

    from hardware.simulated.scenes import face_scene

    ok, data = cv2.imencode(".jpg", face_scene(960, 720, faces=2), [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise RuntimeError("OpenCV could not encode the demo's family photo")
    return data.tobytes()
