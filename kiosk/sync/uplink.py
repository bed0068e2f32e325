"""Moved to ``kiosk.contract``: re-exported here only until ``kiosk/core`` imports it from there."""

from kiosk.contract.builders import (
    WILL_PAYLOAD,
    capture,
    command_result,
    event,
    message,
    signal,
    status,
    telemetry,
)
from kiosk.contract.codec import encode
from kiosk.contract.fields import utc_text
from kiosk.contract.limits import BODY_MAX_CHARS
from kiosk.contract.limits import PHOTO_MAX_BYTES as CAPTURE_MAX_BYTES
from kiosk.contract.uplink import (
    CAPTURE_PURPOSES,
    EVENT_KINDS,
    EVENT_REASONS,
    HARDWARE_STATES,
    SIGNAL_KINDS,
)

__all__ = [
    "BODY_MAX_CHARS",
    "CAPTURE_MAX_BYTES",
    "CAPTURE_PURPOSES",
    "EVENT_KINDS",
    "EVENT_REASONS",
    "HARDWARE_STATES",
    "SIGNAL_KINDS",
    "WILL_PAYLOAD",
    "capture",
    "command_result",
    "encode",
    "event",
    "message",
    "signal",
    "status",
    "telemetry",
    "utc_text",
]
