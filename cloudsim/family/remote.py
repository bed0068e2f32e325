"""A remote visit as the cloud knows it (no web server needed to name one)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

GATEWAY_ID = "media-gateway"  # from_kiosk_id of what the gateway sends a kiosk


@dataclass(frozen=True)
class RemoteVisit:
    """A remote visit: the kiosk it is held at, its end, who is in it."""

    visit_id: str
    kiosk_id: str
    starts_at: datetime
    ends_at: datetime
    resident: str
    visitor: str
    privileged: bool
