"""Builders for every uplink payload of the contract, as JSON-ready dicts, and their encoding.

Each builder checks its arguments and raises ValueError on a value the contract does not allow,
so a bug in the kiosk shows up here rather than as a payload the cloud cannot read.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

WILL_PAYLOAD = b'{"v":1,"type":"status","state":"offline","reason":"lost"}'

CAPTURE_MAX_BYTES = 2 * 1024 * 1024
BODY_MAX_CHARS = 10_000
EVENT_KINDS = (
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
EVENT_REASONS = MappingProxyType(
    {
        "logout": ("user", "idle", "max_time", "visit", "command"),
        "visit_ended": ("schedule", "hangup", "command", "peer", "fault"),
    }
)
CAPTURE_PURPOSES = ("visitor_id", "visitor_credential", "visitor_face", "login_snapshot")
SIGNAL_KINDS = ("ready", "offer", "answer", "candidate", "bye")
HARDWARE_STATES = ("ok", "missing", "error")
_SNAKE = re.compile(r"[a-z][a-z0-9_]{0,63}")
_JPEG_MAGIC = b"\xff\xd8\xff"
_MAX_DETAIL_DEPTH = 8


def utc_text(moment: datetime) -> str:
    """``2026-11-23T19:00:00.000Z``: one fixed width, so text order is time order."""
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise ValueError("time must be an aware datetime")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def encode(payload: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON, as published."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.encode("utf-8")


# --- argument checks ----------------------------------------------------------------------------


def _id(name: str, value: Any) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 64:
        raise ValueError(f"{name} must be a string of 1 to 64 chars")
    return value


def _text(name: str, value: Any, max_length: int, *, empty: bool = True) -> str:
    if not isinstance(value, str) or len(value) > max_length or (not empty and not value):
        least = 0 if empty else 1
        raise ValueError(f"{name} must be a string of {least} to {max_length} chars")
    return value


def _choice(name: str, value: Any, options: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {', '.join(options)}")
    return value


def _count(name: str, value: Any, *, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if type(value) is not int or value < 0:  # bool is an int to Python
        raise ValueError(f"{name} must be a non-negative integer")
    return value


def _number(name: str, value: Any) -> int | float:
    if type(value) not in (int, float) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative finite number")
    return value


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false")
    return value


def _json_ready(name: str, value: Any, depth: int = 0) -> Any:
    """A copy in JSON's types; datetimes become UTC text."""
    if depth > _MAX_DETAIL_DEPTH:
        raise ValueError(f"{name} nests too deeply")
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{name} holds a non-finite number")
        return value
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, Mapping):
        if not all(isinstance(key, str) for key in value):
            raise ValueError(f"{name} keys must be strings")
        return {key: _json_ready(name, item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(name, item, depth + 1) for item in value]
    raise ValueError(f"{name} holds a {type(value).__name__}, not a JSON value")


# --- builders -----------------------------------------------------------------------------------


def status(
    state: str, reason: str, version: str, role: str, started_at: datetime, kiosk_name: str
) -> dict[str, Any]:
    """Birth (``online``) on every connect, ``offline`` on a clean shutdown; retained."""
    return {
        "v": 1,
        "type": "status",
        "state": _choice("state", state, ("online", "offline")),
        "reason": _text("reason", reason, 100, empty=False),
        "version": _text("version", version, 64, empty=False),
        "role": _choice("role", role, ("housing", "lobby")),
        "started_at": utc_text(started_at),
        "kiosk_name": _text("kiosk_name", kiosk_name, 100),
    }


def _hardware(hardware: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    if not isinstance(hardware, Mapping):
        raise ValueError("hardware must map device names to {state, detail}")
    report = {}
    for device, health in hardware.items():
        if not isinstance(device, str) or not _SNAKE.fullmatch(device):
            raise ValueError("hardware device names must be snake_case")
        if not isinstance(health, Mapping):
            raise ValueError(f"hardware.{device} must be {{state, detail}}")
        report[device] = {
            "state": _choice(f"hardware.{device}.state", health.get("state"), HARDWARE_STATES),
            "detail": _text(f"hardware.{device}.detail", health.get("detail", ""), 500),
        }
    return report


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
    """Health; ``extensions`` are extra fields of ours (snake_case, JSON values), after the rest."""
    payload = {
        "v": 1,
        "type": "telemetry",
        "at": utc_text(at),
        "uptime_s": _number("uptime_s", uptime_s),
        "hardware": _hardware(hardware),
        "outbox_depth": _count("outbox_depth", outbox_depth),
        "disk_free_mb": _number("disk_free_mb", disk_free_mb),
        "session_active": _flag("session_active", session_active),  # no identity, ever
        "schedule_version": _count("schedule_version", schedule_version, optional=True),
        "residents_version": _count("residents_version", residents_version, optional=True),
        "rejected_payloads": _count("rejected_payloads", rejected_payloads),
    }
    for name, value in extensions.items():
        if not _SNAKE.fullmatch(name) or name in payload:
            raise ValueError(f"telemetry extension {name!r} must be a new snake_case name")
        payload[name] = _json_ready(name, value)
    return payload


def event(event_id: str, at: datetime, kind: str, detail: Mapping[str, Any]) -> dict[str, Any]:
    """An audit event: the contract's kinds (EVENT_KINDS) or another snake_case kind of ours."""
    if not isinstance(kind, str) or not _SNAKE.fullmatch(kind):
        raise ValueError("event kind must be snake_case")
    if not isinstance(detail, Mapping):
        raise ValueError("event detail must be an object")
    if kind in EVENT_REASONS:
        _choice(f"{kind} detail.reason", detail.get("reason"), EVENT_REASONS[kind])
    return {
        "v": 1,
        "type": "event",
        "event_id": _id("event_id", event_id),
        "at": utc_text(at),
        "kind": kind,
        "detail": _json_ready("detail", detail),
    }


def message(
    message_id: str, inmate_id: str, to_contact_id: str, body: str, created_at: datetime
) -> dict[str, Any]:
    """A message a resident wrote; ``message_id`` is made on the kiosk (a UUID)."""
    return {
        "v": 1,
        "type": "message",
        "message_id": _id("message_id", message_id),
        "inmate_id": _id("inmate_id", inmate_id),
        "to_contact_id": _id("to_contact_id", to_contact_id),
        "body": _text("body", body, BODY_MAX_CHARS),
        "created_at": utc_text(created_at),
    }


def capture(
    capture_id: str,
    purpose: str,
    subject: Mapping[str, str],
    taken_at: datetime,
    jpeg_bytes: bytes,
) -> dict[str, Any]:
    """A JPEG taken at the kiosk, about a visit (``{"visit_id": …}``) or a resident
    (``{"inmate_id": …}``)."""
    if not isinstance(subject, Mapping) or len(subject) != 1:
        raise ValueError('subject must be {"visit_id": ...} or {"inmate_id": ...}')
    ((subject_field, subject_id),) = subject.items()
    if subject_field not in ("visit_id", "inmate_id"):
        raise ValueError('subject must be {"visit_id": ...} or {"inmate_id": ...}')
    if not isinstance(jpeg_bytes, bytes | bytearray | memoryview):
        raise ValueError("jpeg_bytes must be bytes")
    data = bytes(jpeg_bytes)
    if len(data) > CAPTURE_MAX_BYTES:
        raise ValueError(f"capture larger than {CAPTURE_MAX_BYTES} bytes")
    if not data.startswith(_JPEG_MAGIC):
        raise ValueError("capture is not a JPEG")
    return {
        "v": 1,
        "type": "capture",
        "capture_id": _id("capture_id", capture_id),
        "purpose": _choice("purpose", purpose, CAPTURE_PURPOSES),
        subject_field: _id(subject_field, subject_id),
        "taken_at": utc_text(taken_at),
        "mime": "image/jpeg",
        "data_b64": base64.b64encode(data).decode("ascii"),
    }


def command_result(command_id: str, ok: bool, error: str | None, at: datetime) -> dict[str, Any]:
    """The outcome of a command; ``error`` only, and always, when not ok."""
    payload: dict[str, Any] = {
        "v": 1,
        "type": "command_result",
        "command_id": _id("command_id", command_id),
        "ok": _flag("ok", ok),
    }
    if ok:
        if error is not None:
            raise ValueError("a command that succeeded has no error")
    else:
        payload["error"] = _text("error", error, 500, empty=False)
    payload["at"] = utc_text(at)
    return payload


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
    _choice("kind", kind, SIGNAL_KINDS)
    payload: dict[str, Any] = {
        "v": 1,
        "type": "signal",
        "visit_id": _id("visit_id", visit_id),
        "from_kiosk_id": _id("from_kiosk_id", from_kiosk_id),
        "kind": kind,
    }
    if (sdp is not None) != (kind in ("offer", "answer")):
        raise ValueError("sdp is given with offer and answer, and only with them")
    if sdp is not None:
        payload["sdp"] = _text("sdp", sdp, 64 * 1024, empty=False)
    candidate_fields = (candidate, sdp_mid, sdp_mline_index)
    if kind == "candidate":
        payload["candidate"] = _text("candidate", candidate, 1024)
        if sdp_mid is not None:
            payload["sdp_mid"] = _text("sdp_mid", sdp_mid, 64)
        if sdp_mline_index is not None:
            index = _count("sdp_mline_index", sdp_mline_index)
            if index > 65_535:
                raise ValueError("sdp_mline_index must be at most 65535")
            payload["sdp_mline_index"] = index
    elif any(field is not None for field in candidate_fields):
        raise ValueError("candidate, sdp_mid and sdp_mline_index belong to kind candidate")
    if reason is not None:
        if kind != "bye":
            raise ValueError("reason belongs to kind bye")
        payload["reason"] = _text("reason", reason, 500)
    return payload
