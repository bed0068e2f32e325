"""Submitting a visitor's application: the details, the resident and the photos go into the
outbox in one transaction, or nothing does; the visitor is given a number to check on it.

The visitor's PIN leaves the kiosk only as a verifier (scrypt, made here, ~50 ms: the caller
runs :func:`submit` off the screen's loop).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kiosk.core.credentials import make_verifier
from kiosk.core.ports import Outbox, OutgoingApplication, OutgoingCapture
from kiosk.store.transaction import transaction

# What each kind of visitor must send, no exceptions: a professional also the bar card,
# department ID or badge.
REQUIRED_PHOTOS: Mapping[str, tuple[str, ...]] = {
    "family": ("visitor_face", "visitor_id"),
    "professional": ("visitor_face", "visitor_id", "visitor_credential"),
}
# An application number is read aloud and copied by hand: no 0/O, 1/I/L, 5/S or 2/Z.
NUMBER_LETTERS = "346789ABCDEFGHJKMNPQRTUVWXY"
NUMBER_LENGTH = 6


@dataclass(frozen=True)
class Application:
    """What the visitor gave: ``details`` in the contract's visitor fields (no PIN), their
    chosen ``pin``, the resident's ``booking_number``, and one JPEG per required purpose."""

    details: Mapping[str, str]
    pin: str
    booking_number: str
    photos: Mapping[str, bytes]

    def missing_photos(self) -> tuple[str, ...]:
        needed = REQUIRED_PHOTOS.get(self.details.get("kind", ""), ())
        return tuple(purpose for purpose in needed if not self.photos.get(purpose))


def application_number(choose: Callable[[str], str] = secrets.choice) -> str:
    """ "AP-7KX9QH": what the visitor copies down to check on the application."""
    return "AP-" + "".join(choose(NUMBER_LETTERS) for _ in range(NUMBER_LENGTH))


def submit(
    application: Application,
    *,
    database: Any,
    outbox: Outbox,
    now: datetime,
    new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
) -> str:
    """Queue the application and its photos in one transaction; its number. A photo missing,
    a detail the contract refuses (ValueError) or a full outbox (OutboxFull) queues nothing."""
    missing = application.missing_photos()
    if missing:
        raise ValueError(f"the application lacks its {', '.join(missing)} photo")
    application_id = new_id()
    kind = application.details.get("kind", "")
    captures = [
        OutgoingCapture(new_id(), purpose, {"application_id": application_id}, now, jpeg)
        for purpose in REQUIRED_PHOTOS[kind]
        for jpeg in (application.photos[purpose],)
    ]
    outgoing = OutgoingApplication(
        application_id=application_id,
        application_number=application_number(),
        submitted_at=now,
        booking_number=application.booking_number,
        visitor={**application.details, "pin_verifier": make_verifier(application.pin)},
        capture_ids=tuple(capture.capture_id for capture in captures),
    )
    with transaction(database):
        for capture in captures:
            outbox.put_capture(capture)
        outbox.put_application(outgoing)
    outbox.committed()
    return outgoing.application_number
