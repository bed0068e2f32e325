"""Moved to ``kiosk.contract`` (``downlink`` for the models, ``codec`` for parsing): re-exported
here only until the remaining importers outside the sync layer import it from there."""

from kiosk.contract.codec import FIELD_NAMES, Rejected, parse_downlink
from kiosk.contract.downlink import (
    COMMANDS,
    CommandPayload,
    ConfigPayload,
    MessagePayload,
    MessageStatusPayload,
    NoticePayload,
    ResidentsPayload,
    SchedulePayload,
    SignalPayload,
)

__all__ = [
    "COMMANDS",
    "FIELD_NAMES",
    "CommandPayload",
    "ConfigPayload",
    "MessagePayload",
    "MessageStatusPayload",
    "NoticePayload",
    "Rejected",
    "ResidentsPayload",
    "SchedulePayload",
    "SignalPayload",
    "parse_downlink",
]
