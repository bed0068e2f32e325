"""What the inbox committed, told to the core as its own typed events (kiosk.core.ports)."""

from __future__ import annotations

from typing import Any

from kiosk.core.ports import (
    ConfigApplied,
    Inbound,
    MailChanged,
    NoticeApplied,
    PeerSignal,
    ScheduleApplied,
)

MAIL = ("message", "message_status", "messages_sent", "residents")


def inbound_event(kind: str, data: Any) -> Inbound:
    """``kind`` and ``data`` as the inbox notifies them (a snapshot's values, a payload)."""
    if kind == "config":
        return ConfigApplied(dict(data))
    if kind == "notice":
        return NoticeApplied(dict(data or {}))
    if kind == "schedule":
        return ScheduleApplied(data if isinstance(data, int) else None)
    if kind in MAIL:
        return MailChanged(kind)
    if kind == "signal":
        values = data.model_dump() if hasattr(data, "model_dump") else dict(data)
        return PeerSignal(str(values.get("visit_id", "")), values)
    raise ValueError(f"nothing in the core hears {kind!r}")
