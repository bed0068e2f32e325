"""The kiosk's uplink payloads from plain arguments, as JSON-ready dicts (``encode`` gives the
bytes as published).

Each one builds the contract's model and dumps it, so a value the contract does not allow
raises ValueError here (naming the field and the rule) rather than reaching the cloud.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from kiosk.contract.codec import build, dump, encode
from kiosk.contract.fields import is_snake_name
from kiosk.contract.front_desk import ApplicationPayload, RequestPayload
from kiosk.contract.times import utc_text
from kiosk.contract.uplink import (
    CapturePayload,
    CommandResultPayload,
    EventPayload,
    OutboxMessagePayload,
    OutgoingSignalPayload,
    StatusPayload,
    TelemetryPayload,
    json_ready,
)

__all__ = [
    "WILL_PAYLOAD",
    "application",
    "capture",
    "command_result",
    "encode",
    "event",
    "message",
    "request",
    "signal",
    "status",
    "telemetry",
    "utc_text",
]

# The will, set on every connection: retained, byte for byte what the contract says.
WILL_PAYLOAD: Final = encode(build(StatusPayload, state="offline", reason="lost"))


def status(
    state: str, reason: str, version: str, role: str, started_at: datetime, kiosk_name: str
) -> dict[str, Any]:
    """Birth (``online``) on every connect, ``offline`` on a clean shutdown; retained."""
    return dump(
        build(
            StatusPayload,
            state=state,
            reason=reason,
            version=version,
            role=role,
            started_at=started_at,
            kiosk_name=kiosk_name,
        )
    )


def telemetry(
    at: datetime,
    uptime_s: int | float,
    hardware: Mapping[str, Mapping[str, Any]],
    outbox_depth: int,
    disk_free_mb: int | float,
    session_active: bool,
    schedule_version: int | None,
    residents_version: int | None,
    rejected_payloads: int,
    **extensions: Any,
) -> dict[str, Any]:
    """Health; ``extensions`` are fields of ours (snake_case, JSON values), after the rest."""
    extra = {}
    for name, value in extensions.items():
        if not is_snake_name(name) or name in TelemetryPayload.model_fields:
            raise ValueError(f"telemetry extension {name!r} must be a new snake_case name")
        try:
            extra[name] = json_ready(value)
        except ValueError as error:
            raise ValueError(f"telemetry: {name}: {error}") from None
    if not isinstance(hardware, Mapping):
        raise ValueError("telemetry: hardware must map device names to {state, detail}")
    payload = build(
        TelemetryPayload,
        at=at,
        uptime_s=uptime_s,
        hardware={
            device: dict(health) if isinstance(health, Mapping) else health
            for device, health in hardware.items()
        },
        outbox_depth=outbox_depth,
        disk_free_mb=disk_free_mb,
        session_active=session_active,
        schedule_version=schedule_version,
        residents_version=residents_version,
        rejected_payloads=rejected_payloads,
        **extra,
    )
    return dump(payload)


def event(event_id: str, at: datetime, kind: str, detail: Mapping[str, Any]) -> dict[str, Any]:
    """An audit event: the contract's kinds (EVENT_KINDS) or another snake_case kind of ours;
    datetimes in ``detail`` are written as times."""
    return dump(build(EventPayload, event_id=event_id, at=at, kind=kind, detail=detail))


def message(
    message_id: str, inmate_id: str, to_contact_id: str, body: str, created_at: datetime
) -> dict[str, Any]:
    """A message a resident wrote; ``message_id`` is made on the kiosk (a UUID)."""
    return dump(
        build(
            OutboxMessagePayload,
            message_id=message_id,
            inmate_id=inmate_id,
            to_contact_id=to_contact_id,
            body=body,
            created_at=created_at,
        )
    )


def capture(
    capture_id: str,
    purpose: str,
    subject: Mapping[str, str],
    taken_at: datetime,
    jpeg_bytes: bytes,
) -> dict[str, Any]:
    """A JPEG taken at the kiosk, about a visit (``{"visit_id": …}``), a resident
    (``{"inmate_id": …}``) or a visitor's application (``{"application_id": …}``)."""
    wrong = 'capture: subject must be one of {"visit_id"|"inmate_id"|"application_id": ...}'
    if not isinstance(subject, Mapping) or len(subject) != 1:
        raise ValueError(wrong)
    ((subject_field, subject_id),) = subject.items()
    if subject_field not in ("visit_id", "inmate_id", "application_id"):
        raise ValueError(wrong)
    if not isinstance(jpeg_bytes, bytes | bytearray | memoryview):
        raise ValueError("capture: jpeg_bytes must be bytes")
    payload = build(
        CapturePayload,
        capture_id=capture_id,
        purpose=purpose,
        **{subject_field: subject_id},
        taken_at=taken_at,
        mime="image/jpeg",
        data_b64=base64.b64encode(bytes(jpeg_bytes)).decode("ascii"),
    )
    return dump(payload)


def command_result(command_id: str, ok: bool, error: str | None, at: datetime) -> dict[str, Any]:
    """The outcome of a command; ``error`` only, and always, when not ok."""
    fields: dict[str, Any] = {"command_id": command_id, "ok": ok, "at": at}
    if error is not None:
        fields["error"] = error
    return dump(build(CommandResultPayload, **fields))


def signal(
    visit_id: str,
    from_kiosk_id: str,
    kind: str,
    sdp: str | None = None,
    candidate: str | None = None,
    sdp_mid: str | None = None,
    sdp_mline_index: int | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """WebRTC signalling for a visit; each optional field only with the kind it belongs to."""
    optional = {
        "sdp": sdp,
        "candidate": candidate,
        "sdp_mid": sdp_mid,
        "sdp_mline_index": sdp_mline_index,
        "reason": reason,
    }
    given = {name: value for name, value in optional.items() if value is not None}
    payload = build(
        OutgoingSignalPayload, visit_id=visit_id, from_kiosk_id=from_kiosk_id, kind=kind, **given
    )
    return dump(payload)


def application(
    application_id: str,
    application_number: str,
    submitted_at: datetime,
    booking_number: str,
    visitor: Mapping[str, Any],
    capture_ids: list[str],
) -> dict[str, Any]:
    """A visitor's application (extension: the front desk); its photos are ``capture``
    records naming ``application_id``, queued with it."""
    payload = build(
        ApplicationPayload,
        application_id=application_id,
        application_number=application_number,
        submitted_at=submitted_at,
        booking_number=booking_number,
        visitor=dict(visitor),
        capture_ids=list(capture_ids),
    )
    return dump(payload)


def request(request_id: str, kind: str, sent_at: datetime, **fields: Any) -> dict[str, Any]:
    """A question for the cloud (extension: the front desk), answered on ``answer``."""
    return dump(build(RequestPayload, request_id=request_id, kind=kind, sent_at=sent_at, **fields))
