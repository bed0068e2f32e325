"""The contract's topic tree for one kiosk: ``kiosk/v1/{facility}/{kiosk}/{down|up}/{kind}``."""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "kiosk/v1"

# Downlink topic kind -> the payload ``type`` the contract requires on it.
DOWNLINK_TYPES = {
    "config": "config",
    "schedule": "schedule",
    "residents": "residents",
    "inbox": "message",
    "message-status": "message_status",
    "cmd": "command",
    "signal": "signal",
    "notice": "notice",  # on the facility-wide topic
}
# Uplink topic kind -> payload ``type``.
UPLINK_TYPES = {
    "status": "status",
    "telemetry": "telemetry",
    "events": "event",
    "outbox": "message",
    "captures": "capture",
    "cmd-result": "command_result",
    "signal": "signal",
}
RETAINED_DOWNLINK = ("config", "schedule", "residents", "notice")
# What goes through the durable outbox (delivery rule 1); the rest is published directly.
DURABLE_UPLINK = ("outbox", "captures", "events", "cmd-result")


@dataclass(frozen=True)
class Topics:
    facility_id: str
    kiosk_id: str

    @property
    def root(self) -> str:
        return f"{PREFIX}/{self.facility_id}/{self.kiosk_id}"

    @property
    def facility_root(self) -> str:
        return f"{PREFIX}/{self.facility_id}/all"

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
