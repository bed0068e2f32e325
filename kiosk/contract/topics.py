"""The contract's topic tree: ``kiosk/v1/{facility}/{kiosk}/{down|up}/{kind}``, the facility's
``kiosk/v1/{facility}/all/down/notice``, and enrollment's ``kiosk/v1/provision/{request}/…``."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

PREFIX: Final = "kiosk/v1"
FACILITY_WIDE: Final = "all"  # the kiosk-id level of the facility-wide topics
PROVISION: Final = "provision"  # the facility level of the enrollment topics
PROVISION_ROOT: Final = f"{PREFIX}/{PROVISION}"

# Downlink topic kind -> the payload ``type`` the contract requires on it.
DOWNLINK_TYPES: Final = MappingProxyType(
    {
        "config": "config",
        "schedule": "schedule",
        "residents": "residents",
        "inbox": "message",
        "message-status": "message_status",
        "cmd": "command",
        "signal": "signal",
        "notice": "notice",  # on the facility-wide topic
        # Extension, lobby kiosks: the front desk.
        "roster": "roster",
        "slots": "slots",
        "answer": "answer",
    }
)
# Uplink topic kind -> payload ``type``.
UPLINK_TYPES: Final = MappingProxyType(
    {
        "status": "status",
        "telemetry": "telemetry",
        "events": "event",
        "outbox": "message",
        "captures": "capture",
        "cmd-result": "command_result",
        "signal": "signal",
        # Extension, lobby kiosks: the front desk.
        "applications": "application",
        "requests": "request",
    }
)
# Enrollment topic kind -> payload ``type``: the kiosk's request up, the cloud's answer down.
ENROLLMENT_TYPES: Final = MappingProxyType({"csr": "enroll", "result": "enrolled"})
RETAINED_DOWNLINK: Final = ("config", "schedule", "residents", "notice", "roster", "slots")
# What goes through the durable outbox (delivery rule 1); the rest is published directly.
DURABLE_UPLINK: Final = ("outbox", "captures", "events", "cmd-result", "applications")
# The field that names a durable uplink payload: what the cloud drops a second copy by.
UPLINK_ID_FIELDS: Final = MappingProxyType(
    {
        "outbox": "message_id",
        "captures": "capture_id",
        "events": "event_id",
        "cmd-result": "command_id",
        "applications": "application_id",
    }
)


@dataclass(frozen=True)
class Topics:
    """One kiosk's topics."""

    facility_id: str
    kiosk_id: str

    @property
    def root(self) -> str:
        return f"{PREFIX}/{self.facility_id}/{self.kiosk_id}"

    @property
    def facility_root(self) -> str:
        return f"{PREFIX}/{self.facility_id}/{FACILITY_WIDE}"

    def down(self, kind: str) -> str:
        if kind not in DOWNLINK_TYPES:
            raise ValueError(f"no downlink topic {kind!r}")
        base = self.facility_root if kind == "notice" else self.root
        return f"{base}/down/{kind}"

    def up(self, kind: str) -> str:
        if kind not in UPLINK_TYPES:
            raise ValueError(f"no uplink topic {kind!r}")
        return f"{self.root}/up/{kind}"

    @property
    def subscriptions(self) -> tuple[str, str]:
        """Exactly what the broker's ACL lets a kiosk read."""
        return (f"{self.root}/down/#", f"{self.facility_root}/down/#")

    def downlink_kind(self, topic: str) -> str | None:
        """``"schedule"`` for this kiosk's schedule topic; None for a topic not in the contract."""
        for base in (self.root, self.facility_root):
            prefix = f"{base}/down/"
            if topic.startswith(prefix):
                kind = topic[len(prefix) :]
                if kind in DOWNLINK_TYPES and (kind == "notice") == (base == self.facility_root):
                    return kind
        return None


def uplink_filter(facility_id: str) -> str:
    """What the cloud reads: every kiosk's uplink in one facility."""
    return f"{PREFIX}/{facility_id}/+/up/#"


def parse_uplink_topic(topic: str) -> tuple[str, str] | None:
    """``(kiosk_id, kind)`` of a topic under ``…/{kiosk}/up/``; None for any other topic. The
    kind is returned even when the contract has no such uplink topic."""
    parts = topic.split("/")
    if len(parts) < 6 or "/".join(parts[:2]) != PREFIX or parts[4] != "up":
        return None
    return parts[3], "/".join(parts[5:])


def csr_topic(request_id: str) -> str:
    """Where a kiosk sends its enrollment request (``+`` for the cloud's filter)."""
    return f"{PROVISION_ROOT}/{request_id}/up/csr"


def result_topic(request_id: str) -> str:
    """Where the cloud answers an enrollment request."""
    return f"{PROVISION_ROOT}/{request_id}/down/result"
