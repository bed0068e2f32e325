"""Moved to ``kiosk.contract.topics``: re-exported here only until ``kiosk/core`` imports it from
there."""

from kiosk.contract.topics import (
    DOWNLINK_TYPES,
    DURABLE_UPLINK,
    PREFIX,
    RETAINED_DOWNLINK,
    UPLINK_TYPES,
    Topics,
)

__all__ = [
    "DOWNLINK_TYPES",
    "DURABLE_UPLINK",
    "PREFIX",
    "RETAINED_DOWNLINK",
    "UPLINK_TYPES",
    "Topics",
]
