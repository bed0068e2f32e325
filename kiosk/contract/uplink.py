"""A model for every payload a kiosk sends: status, telemetry, event, message, capture,
command_result and signal. ``builders`` makes them from plain arguments; the cloud (simulated)
validates what arrives with the same models."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Annotated, Any, Final, Literal, get_args

from pydantic import BeforeValidator, ConfigDict, model_validator

from kiosk.contract import limits
from kiosk.contract.fields import (
    Amount,
    Body,
    Count,
    Error,
    Id,
    ImageB64,
    Payload,
    SignalFields,
    SignalKind,
    SnakeName,
    UtcTime,
    Version,
    decode_image,
    rule,
    text,
    utc_text,
)
from kiosk.contract.front_desk import ApplicationPayload, RequestPayload

HardwareState = Literal["ok", "missing", "error"]
CapturePurpose = Literal["visitor_id", "visitor_credential", "visitor_face", "login_snapshot"]
HARDWARE_STATES: Final = get_args(HardwareState)
CAPTURE_PURPOSES: Final = get_args(CapturePurpose)
SIGNAL_KINDS: Final = get_args(SignalKind)
# The contract's event kinds; a kiosk may send other snake_case kinds of its own.
EVENT_KINDS: Final = (
    "login",
    "login_failed",
    "lockout",
    "logout",
    "visit_joined",
    "visit_started",
    "visit_ended",
    "hardware_changed",
    "payload_rejected",
    "tamper",
    "selftest",
)
# Event kinds whose ``detail.reason`` the contract enumerates.
EVENT_REASONS: Final = MappingProxyType(
    {
        "logout": ("user", "idle", "max_time", "visit", "command"),
        "visit_ended": ("schedule", "hangup", "command", "peer", "fault"),
    }
)


def json_ready(value: Any, depth: int = 0) -> Any:
    """A copy in JSON's types, at most DETAIL_MAX_DEPTH levels deep; datetimes become times."""
    if depth > limits.DETAIL_MAX_DEPTH:
        raise rule(f"nested deeper than {limits.DETAIL_MAX_DEPTH} levels")
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise rule("holds a number that is not finite")
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise rule("holds a time without a zone")
        return utc_text(value)
    if isinstance(value, Mapping):
        if not all(isinstance(key, str) for key in value):
            raise rule("has a key that is not a string")
        return {key: json_ready(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item, depth + 1) for item in value]
    raise rule(f"holds a {type(value).__name__}, not a JSON value")


def _detail(value: Any) -> Any:
    if not isinstance(value, Mapping):
        raise rule("expected an object")
    return json_ready(value)


Detail = Annotated[dict[str, Any], BeforeValidator(_detail)]


class StatusPayload(Payload):
    """Retained: the birth (``online``), a clean ``offline``, or the will (only state, reason)."""

    v: Literal[1]
    type: Literal["status"]
    state: Literal["online", "offline"]
    reason: text(limits.STATUS_REASON_MAX, 1)
    version: text(limits.SOFTWARE_VERSION_MAX, 1) | None = None
    role: Literal["housing", "lobby"] | None = None
    started_at: UtcTime | None = None
    kiosk_name: text(limits.NAME_MAX) | None = None

    @model_validator(mode="after")
    def _all_or_none(self) -> StatusPayload:
        about = (self.version, self.role, self.started_at, self.kiosk_name)
        if any(item is None for item in about) and any(item is not None for item in about):
            raise rule(
                "version, role, started_at and kiosk_name go together (only the will has none)"
            )
        return self


class Health(Payload):
    """One device: ``detail`` says what it is doing or lacks, empty when there is nothing to say."""

    state: HardwareState
    detail: text(limits.HARDWARE_DETAIL_MAX) = ""

    @model_validator(mode="before")
    @classmethod
    def _detail_always_written(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "detail" not in data:
            return {**data, "detail": ""}
        return data


class TelemetryPayload(Payload):
    """Health. Fields of ours (snake_case) may follow the contract's: they are kept, in order."""

    model_config = ConfigDict(extra="allow")

    v: Literal[1]
    type: Literal["telemetry"]
    at: UtcTime
    uptime_s: Amount
    hardware: dict[SnakeName, Health]
    outbox_depth: Count
    disk_free_mb: Amount
    session_active: bool  # no identity, ever
    schedule_version: Version | None  # null before the first snapshot, but always there
    residents_version: Version | None
    rejected_payloads: Count


class EventPayload(Payload):
    v: Literal[1]
    type: Literal["event"]
    event_id: Id
    at: UtcTime
    kind: SnakeName
    detail: Detail

    @model_validator(mode="after")
    def _contract_reason(self) -> EventPayload:
        reasons = EVENT_REASONS.get(self.kind)
        if reasons is not None and self.detail.get("reason") not in reasons:
            raise rule(f"expected one of {', '.join(reasons)}", "detail.reason")
        return self


class OutboxMessagePayload(Payload):
    """A message a resident wrote; ``message_id`` is made on the kiosk (a UUID)."""

    v: Literal[1]
    type: Literal["message"]
    message_id: Id
    inmate_id: Id
    to_contact_id: Id
    body: Body
    created_at: UtcTime


class CapturePayload(Payload):
    """A JPEG taken at the kiosk, about a visit, a resident or (an extension) a visitor's
    application: exactly one of the three ids."""

    v: Literal[1]
    type: Literal["capture"]
    capture_id: Id
    purpose: CapturePurpose
    visit_id: Id | None = None
    inmate_id: Id | None = None
    application_id: Id | None = None
    taken_at: UtcTime
    mime: Literal["image/jpeg"]
    data_b64: ImageB64

    @model_validator(mode="after")
    def _one_subject_and_a_jpeg(self) -> CapturePayload:
        subjects = (self.visit_id, self.inmate_id, self.application_id)
        if sum(subject is not None for subject in subjects) != 1:
            raise rule("exactly one of visit_id, inmate_id and application_id")
        decode_image(self.data_b64, self.mime)
        return self


class CommandResultPayload(Payload):
    v: Literal[1]
    type: Literal["command_result"]
    command_id: Id
    ok: bool
    error: Error | None = None  # present exactly when not ok
    at: UtcTime

    @model_validator(mode="after")
    def _error_when_not_ok(self) -> CommandResultPayload:
        if self.ok and self.error is not None:
            raise rule("only when ok is false", "error")
        if not self.ok and self.error is None:
            raise rule("required when ok is false", "error")
        return self


class OutgoingSignalPayload(SignalFields):
    """Signalling a kiosk sends; each optional field only with the kind it belongs to."""

    @model_validator(mode="after")
    def _fields_of_kind(self) -> OutgoingSignalPayload:
        if (self.sdp is not None) != (self.kind in ("offer", "answer")):
            raise rule("given with offer and answer, and only with them", "sdp")
        if self.sdp == "":
            raise rule("empty", "sdp")
        if self.kind == "candidate" and self.candidate is None:
            raise rule("required for candidate", "candidate")
        extra = (self.candidate, self.sdp_mid, self.sdp_mline_index)
        if self.kind != "candidate" and any(item is not None for item in extra):
            raise rule("candidate, sdp_mid and sdp_mline_index belong to kind candidate")
        if self.reason is not None and self.kind != "bye":
            raise rule("only with kind bye", "reason")
        return self


# Uplink topic kind -> its model.
UPLINK_MODELS: Mapping[str, type[Payload]] = MappingProxyType(
    {
        "applications": ApplicationPayload,
        "requests": RequestPayload,
        "status": StatusPayload,
        "telemetry": TelemetryPayload,
        "events": EventPayload,
        "outbox": OutboxMessagePayload,
        "captures": CapturePayload,
        "cmd-result": CommandResultPayload,
        "signal": OutgoingSignalPayload,
    }
)
