"""What the front desk's tests share: a visitor's details, three 1280x720 photos, and the
outbox read as the cloud reads it."""

from __future__ import annotations

from datetime import UTC, datetime

import cv2
import numpy as np

from kiosk.contract.codec import parse_uplink
from kiosk.store.outbox import OutboxRepository
from tests.contract.test_front_desk import FAMILY as SENT_FAMILY
from tests.contract.test_front_desk import PROFESSIONAL as SENT_PROFESSIONAL

NOW = datetime(2026, 12, 7, 16, 0, tzinfo=UTC)
# The contract tests' visitors, as typed (their PIN leaves as a verifier made at Submit).
FAMILY = {k: v for k, v in SENT_FAMILY.items() if k != "pin_verifier"}
PROFESSIONAL = {k: v for k, v in SENT_PROFESSIONAL.items() if k != "pin_verifier"}


def photo(seed: int) -> bytes:
    """A 1280x720 JPEG, as the capture screen keeps one."""
    noise = np.random.default_rng(seed).integers(0, 256, (720, 1280, 3), dtype=np.uint8)
    return cv2.imencode(".jpg", noise, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()


PHOTOS = {"visitor_face": photo(1), "visitor_id": photo(2), "visitor_credential": photo(3)}


def queued(database) -> list[tuple[str, dict]]:
    """What waits in the outbox, parsed as the cloud parses it."""
    records = OutboxRepository(database, budget_bytes=1 << 30).pending()
    out = []
    for record in records:
        kind = record.topic.rsplit("/", 1)[1]
        out.append((kind, parse_uplink(kind, record.payload).model_dump()))
    return out
