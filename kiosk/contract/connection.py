"""How a kiosk connects: MQTT 5, QoS 1, a persistent session, keepalive and reconnect timing."""

from __future__ import annotations

import re
from typing import Final

QOS: Final = 1  # everything, both ways
KEEPALIVE_S: Final = 30
SESSION_EXPIRY_S: Final = 7 * 24 * 3600  # QoS 1 traffic waits a week for an absent kiosk
RECONNECT_BASE_S: Final = 1.0  # full jitter under a ceiling that doubles from here...
RECONNECT_CAP_S: Final = 60.0  # ...up to here

# The client id is the kiosk id: lowercase letters, digits and "-", 3 to 40 chars.
KIOSK_ID_PATTERN: Final = re.compile(r"[a-z0-9-]{3,40}")

# Enrollment: a kiosk without a certificate logs in as this user, the claim token as password.
CLAIM_USER: Final = "claim"


def claim_client_id(request_id: str) -> str:
    """The client id of an enrollment login."""
    return f"claim-{request_id}"
