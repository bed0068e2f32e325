"""Validation of every downlink payload of the contract (docs: /work/shared/protocol.md).

``parse_downlink(kind, raw)`` turns the bytes of one MQTT message into a frozen pydantic model or
raises ``Rejected``. A rejected payload changes nothing; its ``reason`` names the field and the
rule and never quotes the payload, so it can go into a ``payload_rejected`` event as it is.
Limits the contract does not state are listed in docs/protocol.md ("Validation limits").
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import zoneinfo
from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from kiosk.sync.topics import DOWNLINK_TYPES

KiB = 1024
MiB = 1024 * KiB

MAX_REASON = 200
MAX_DEPTH = 32  # the deepest legitimate payload (a schedule) nests 4 levels
PHOTO_MAX_BYTES = 2 * MiB
PHOTO_MAX_B64 = 4 * ((PHOTO_MAX_BYTES + 2) // 3)  # 2,796,204 chars of base64
MAX_PHOTOS = 10
BODY_MAX_CHARS = 10_000
MAX_COUNT = 2**31 - 1  # credits and refunds: fits any integer column
MAX_VERSION = 2**63 - 1  # snapshot versions: fits SQLite's INTEGER

# Bytes per payload, checked before decoding. A message holds 10 photos of 2 MiB (27.9 MB of
# base64) plus a body; the margin covers encoders that escape "/" as "\/".
MAX_BYTES = MappingProxyType(
    {
        "config": 256 * KiB,
        "schedule": 4 * MiB,
        "residents": 4 * MiB,
        "inbox": 32 * MiB,
        "message-status": 64 * KiB,
        "cmd": 64 * KiB,
        "signal": 256 * KiB,
        "notice": 64 * KiB,
    }
)
# Upper bound on JSON containers and members (count of ",", "[" and "{" in the raw bytes, checked
# before parsing): a 32 MiB message of "[{},{},…]" would otherwise become ~1 GB of Python objects.
MAX_ELEMENTS = MappingProxyType(
    {
        "config": 16_384,
        "schedule": 262_144,
        "residents": 262_144,
        "inbox": 65_536,
        "message-status": 4_096,
        "cmd": 4_096,
        "signal": 16_384,
        "notice": 4_096,
    }
)


class Rejected(Exception):
    """A payload the kiosk refuses; ``reason`` names the field and rule, never a value."""

    def __init__(self, reason: str) -> None:
        self.reason = _clip(reason)
        super().__init__(self.reason)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 3] + "..."


def _rule(rule: str, sub: str = "") -> PydanticCustomError:
    """A rule broken; ``sub`` is the field path below the failing model ("sdp", "[3].visit_id")."""
    return PydanticCustomError("kiosk_rule", "{rule}", {"rule": rule, "sub": sub})


# --- field types --------------------------------------------------------------------------------

_SURROGATE = re.compile("[\ud800-\udfff]")


def _unicode(text: str) -> str:
    # JSON "\ud800" escapes decode to lone surrogates, which no UTF-8 encoder (SQLite) accepts.
    # pydantic's constrained str refuses them too today; this keeps the rule if that changes.
    if not text.isascii() and _SURROGATE.search(text):
        raise _rule("contains a lone UTF-16 surrogate")
    return text


def _text(max_length: int, min_length: int = 0) -> Any:
    return Annotated[
        str,
        StringConstraints(min_length=min_length, max_length=max_length),
        AfterValidator(_unicode),
    ]


Id = _text(64, 1)  # "Ids are strings of at most 64 chars"
Name = _text(100, 1)  # display names, facility and kiosk names
Reason = _text(500)
Unit = _text(64, 1)
Body = _text(BODY_MAX_CHARS)  # may be empty: a message of photos only
NoticeText = _text(1000)  # empty clears the banner
Sdp = _text(64 * KiB)
Candidate = _text(KiB)  # "" is WebRTC's end-of-candidates
SdpMid = _text(64)

_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2})"
    r"(?::([0-9]{2})(?:\.([0-9]{1,9}))?)?(?:Z|\+00:00)"
)


def _utc_time(value: Any) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise _rule("not an ISO 8601 UTC time")
    match = _TIME.fullmatch(value)
    if match is None:
        raise _rule("not an ISO 8601 UTC time")
    year, month, day, hour, minute, second, fraction = match.groups()
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second or 0),
            int((fraction or "0").ljust(6, "0")[:6]),
            tzinfo=UTC,
        )
    except ValueError:
        raise _rule("not an ISO 8601 UTC time") from None


# Aware, in UTC. Accepted: YYYY-MM-DDTHH:MM[:SS[.fraction]] then "Z" or "+00:00".
UtcTime = Annotated[datetime, BeforeValidator(_utc_time)]

_HEX64 = re.compile(r"[0-9a-f]{64}")


def _badge_lookup(text: str) -> str:
    if not _HEX64.fullmatch(text):
        raise _rule("not 64 lowercase hex digits")
    return text


BadgeLookup = Annotated[str, StringConstraints(max_length=64), AfterValidator(_badge_lookup)]


def _b64(text: str) -> bytes:
    """Strict base64: the standard alphabet, correct padding, no whitespace."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):  # ValueError: a non-ASCII character
        raise _rule("not valid base64") from None


_VERIFIER = re.compile(r"scrypt\$([0-9]{1,10})\$([0-9]{1,10})\$([0-9]{1,10})\$([^$]+)\$([^$]+)")


def _verifier(text: str) -> str:
    match = _VERIFIER.fullmatch(text)
    if match is None:
        raise _rule("not a scrypt$N$r$p$salt_b64$hash_b64 verifier")
    n, r, p = (int(part) for part in match.group(1, 2, 3))
    # scrypt itself needs N a power of two above 1, r and p at least 1.
    if n < 2 or n & (n - 1) or r < 1 or p < 1:
        raise _rule("scrypt parameters out of range")
    try:
        salt, digest = _b64(match.group(4)), _b64(match.group(5))
    except PydanticCustomError:
        raise _rule("verifier salt or hash not valid base64") from None
    if not salt or not digest:
        raise _rule("verifier salt or hash empty")
    return text


Verifier = Annotated[str, StringConstraints(max_length=256), AfterValidator(_verifier)]

_LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,3}")


def _language(text: str) -> str:
    if not _LANGUAGE.fullmatch(text):
        raise _rule("not a language code")
    return text


Language = Annotated[str, StringConstraints(max_length=35), AfterValidator(_language)]
_ZONE = re.compile(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*")


def _timezone(text: str) -> str:
    if not _ZONE.fullmatch(text):
        raise _rule("not an IANA time zone")
    try:
        zoneinfo.ZoneInfo(text)
    # OSError: a folder of the zone database ("America") or an unreadable file.
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise _rule("not an IANA time zone") from None
    return text


TimeZone = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_timezone)]


def _badge_key(text: str) -> str:
    key = _b64(text)
    if not 16 <= len(key) <= 256:
        raise _rule("key must decode to 16 to 256 bytes")
    return text


BadgeKey = Annotated[str, StringConstraints(max_length=344), AfterValidator(_badge_key)]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
Version = Annotated[int, Field(ge=0, le=MAX_VERSION)]


def _first_repeat(values: list[str]) -> int | None:
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value in seen:
            return index
        seen.add(value)
    return None


# --- models -------------------------------------------------------------------------------------


class Payload(BaseModel):
    """Base of every model: strict types (no "5" for 5, no 1 for true), unknown fields dropped."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True, populate_by_name=True)


class Technician(Payload):
    technician_id: Id
    display_name: Name
    badge_lookup: BadgeLookup
    pin_verifier: Verifier


class ConfigPayload(Payload):
    v: Literal[1]
    type: Literal["config"]
    facility_name: Name
    kiosk_name: Name
    role: Literal["housing", "lobby"]
    housing_unit: Unit | None = None  # "housing only": optional, ignored on lobby kiosks
    timezone: TimeZone
    languages: list[Language] = Field(default=["en", "es"], min_length=1, max_length=16)
    session_idle_s: int = Field(default=60, ge=5, le=3600)
    session_max_s: int = Field(default=900, ge=60, le=86_400)
    message_max_chars: int = Field(default=2000, ge=1, le=BODY_MAX_CHARS)
    badge_key_b64: BadgeKey
    technicians: list[Technician] = Field(max_length=100)

    @field_validator("technicians")
    @classmethod
    def _unique_technicians(cls, technicians: list[Technician]) -> list[Technician]:
        index = _first_repeat([t.technician_id for t in technicians])
        if index is not None:
            raise _rule("repeated", f"[{index}].technician_id")
        return technicians


class VisitInmate(Payload):
    inmate_id: Id
    display_name: Name


class Visitor(Payload):
    display_name: Name
    confirmation_code_verifier: Verifier | None = None
    # Extensions (docs/protocol.md, "Lobby check-in"): what the facility asks the lobby to
    # photograph before the visit. A cloud that sends neither gets the kiosk's own rule.
    first_visit: bool = False
    captures: list[Literal["visitor_id", "visitor_credential", "visitor_face"]] = Field(
        default_factory=list, max_length=3
    )


class VisitPeer(Payload):
    kiosk_id: Id | None = None


class VisitStation(Payload):
    """Extension: the lobby station a visit is held at, when it is not this one."""

    kiosk_id: Id
    display_name: Name


class Visit(Payload):
    visit_id: Id
    starts_at: UtcTime
    ends_at: UtcTime
    kind: Literal["onsite", "remote", "privileged"]
    status: Literal["scheduled", "cancelled"]
    inmate: VisitInmate
    visitor: Visitor
    peer: VisitPeer
    station: VisitStation | None = None

    @field_validator("ends_at")
    @classmethod
    def _ends_after_start(cls, ends_at: datetime, info: ValidationInfo) -> datetime:
        starts_at = info.data.get("starts_at")
        if starts_at is not None and ends_at <= starts_at:
            raise _rule("not after starts_at")
        return ends_at


class SchedulePayload(Payload):
    v: Literal[1]
    type: Literal["schedule"]
    version: Version
    visits: list[Visit] = Field(max_length=10_000)

    @field_validator("visits")
    @classmethod
    def _unique_visits(cls, visits: list[Visit]) -> list[Visit]:
        index = _first_repeat([visit.visit_id for visit in visits])
        if index is not None:
            raise _rule("repeated", f"[{index}].visit_id")
        return visits


class Resident(Payload):
    inmate_id: Id
    booking_number: Id
    display_name: Name
    language: Language
    pin_verifier: Verifier
    badge_lookups: list[BadgeLookup] = Field(max_length=16)
    message_credits: Count


class ResidentsPayload(Payload):
    v: Literal[1]
    type: Literal["residents"]
    version: Version
    residents: list[Resident] = Field(max_length=10_000)

    @field_validator("residents")
    @classmethod
    def _unique_residents(cls, residents: list[Resident]) -> list[Resident]:
        index = _first_repeat([resident.inmate_id for resident in residents])
        if index is not None:
            raise _rule("repeated", f"[{index}].inmate_id")
        return residents


class Sender(Payload):
    """The message's ``from``."""

    contact_id: Id
    display_name: Name


_MAGIC = MappingProxyType({"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"})


class Photo(Payload):
    """An approved photo; ``data`` holds the decoded image."""

    photo_id: Id
    mime: Literal["image/jpeg", "image/png"]
    # Length checked before decoding so an oversized string is never decoded.
    data_b64: Annotated[str, StringConstraints(max_length=PHOTO_MAX_B64)]
    _data: bytes = PrivateAttr(default=b"")

    @model_validator(mode="after")
    def _decode(self) -> Photo:
        try:
            data = _b64(self.data_b64)
        except PydanticCustomError:
            raise _rule("not valid base64", "data_b64") from None
        if len(data) > PHOTO_MAX_BYTES:
            raise _rule(f"larger than {PHOTO_MAX_BYTES} bytes decoded", "data_b64")
        if not data.startswith(_MAGIC[self.mime]):
            raise _rule("not an image of its mime type", "data_b64")
        self._data = data
        return self

    @property
    def data(self) -> bytes:
        return self._data


class MessagePayload(Payload):
    v: Literal[1]
    type: Literal["message"]
    message_id: Id
    inmate_id: Id
    from_: Sender = Field(alias="from")
    sent_at: UtcTime
    body: Body
    photos: list[Photo] = Field(default=[], max_length=MAX_PHOTOS)

    @field_validator("photos")
    @classmethod
    def _unique_photos(cls, photos: list[Photo]) -> list[Photo]:
        index = _first_repeat([photo.photo_id for photo in photos])
        if index is not None:
            raise _rule("repeated", f"[{index}].photo_id")
        return photos


class MessageStatusPayload(Payload):
    v: Literal[1]
    type: Literal["message_status"]
    message_id: Id
    status: Literal["received", "approved", "rejected", "delivered"]
    reason: Reason | None = None
    credits_refunded: Count | None = None
    message_credits: Count | None = None


class NoArgs(Payload):
    """Arguments of logout, unlock, reboot, selftest and resync: none (others ignored)."""


class EndVisitArgs(Payload):
    visit_id: Id
    reason: Reason


class LockArgs(Payload):
    reason: Reason


class CommandPayload(Payload):
    """Common fields; ``parse_downlink`` returns the subclass that matches ``name``."""

    v: Literal[1]
    type: Literal["command"]
    command_id: Id
    name: str
    args: NoArgs = NoArgs()  # "logout {}": an absent args is taken as {}
    issued_at: UtcTime
    expires_at: UtcTime


class EndVisitCommand(CommandPayload):
    name: Literal["end_visit"]
    args: EndVisitArgs


class LockCommand(CommandPayload):
    name: Literal["lock"]
    args: LockArgs


class LogoutCommand(CommandPayload):
    name: Literal["logout"]


class UnlockCommand(CommandPayload):
    name: Literal["unlock"]


class RebootCommand(CommandPayload):
    name: Literal["reboot"]


class SelftestCommand(CommandPayload):
    name: Literal["selftest"]


class ResyncCommand(CommandPayload):
    name: Literal["resync"]


COMMANDS: Mapping[str, type[CommandPayload]] = MappingProxyType(
    {
        "end_visit": EndVisitCommand,
        "logout": LogoutCommand,
        "lock": LockCommand,
        "unlock": UnlockCommand,
        "reboot": RebootCommand,
        "selftest": SelftestCommand,
        "resync": ResyncCommand,
    }
)


class SignalPayload(Payload):
    v: Literal[1]
    type: Literal["signal"]
    visit_id: Id
    # An id, not the kiosk-id pattern: for remote visits the peer is the cloud's media gateway.
    from_kiosk_id: Id
    kind: Literal["ready", "offer", "answer", "candidate", "bye"]
    sdp: Sdp | None = None
    candidate: Candidate | None = None
    sdp_mid: SdpMid | None = None
    sdp_mline_index: int | None = Field(default=None, ge=0, le=65_535)
    reason: Reason | None = None

    @model_validator(mode="after")
    def _fields_of_kind(self) -> SignalPayload:
        if self.kind in ("offer", "answer") and not self.sdp:
            raise _rule("required for offer and answer", "sdp")
        if self.kind == "candidate" and self.candidate is None:
            raise _rule("required for candidate", "candidate")
        return self


class NoticePayload(Payload):
    v: Literal[1]
    type: Literal["notice"]
    notice_id: Id
    text: NoticeText
    severity: Literal["info", "warning", "lockdown"]
    until: UtcTime | None = None


MODELS: Mapping[str, type[Payload]] = MappingProxyType(
    {
        "config": ConfigPayload,
        "schedule": SchedulePayload,
        "residents": ResidentsPayload,
        "inbox": MessagePayload,
        "message-status": MessageStatusPayload,
        "cmd": CommandPayload,
        "signal": SignalPayload,
        "notice": NoticePayload,
    }
)


def _field_names() -> frozenset[str]:
    names: set[str] = set()
    pending: list[type[BaseModel]] = [*MODELS.values(), *COMMANDS.values(), EndVisitArgs, LockArgs]
    pending += [Technician, VisitInmate, Visitor, VisitPeer, Visit, Resident, Sender, Photo]
    for model in pending:
        names.update(field.alias or name for name, field in model.model_fields.items())
    return frozenset(names)


# Only these may appear in a reason's path: a path element that came from the payload (a key of
# an unknown object) is dropped rather than quoted.
FIELD_NAMES = _field_names()


# --- parsing ------------------------------------------------------------------------------------


class _JsonRule(ValueError):
    """A JSON text that parses but breaks a rule of ours; the message is the reason."""


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Duplicate keys are read differently by different parsers (first or last wins): refused.
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _JsonRule("duplicate key in an object")
    return result


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # 1e999 parses to inf
        raise _JsonRule("number out of range")
    return number


def _constant(name: str) -> Any:
    raise _JsonRule("NaN or Infinity is not JSON")


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Iterative, so a deep payload cannot exhaust the stack here."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return False


def _decode(kind: str, raw: bytes) -> dict[str, Any]:
    limit = MAX_BYTES[kind]
    if len(raw) > limit:
        raise Rejected(f"larger than {limit} bytes")
    elements = raw.count(b",") + raw.count(b"[") + raw.count(b"{")
    if elements > MAX_ELEMENTS[kind]:
        raise Rejected(f"more than {MAX_ELEMENTS[kind]} JSON elements")
    try:
        text = bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise Rejected("not UTF-8") from None
    try:
        value = json.loads(
            text, object_pairs_hook=_object, parse_float=_finite, parse_constant=_constant
        )
    except _JsonRule as error:
        raise Rejected(f"not JSON: {error}") from None
    except RecursionError:
        raise Rejected(f"nested deeper than {MAX_DEPTH} levels") from None
    except MemoryError:
        raise Rejected("too large to parse") from None
    except ValueError:  # JSONDecodeError, and integers longer than Python's digit limit
        raise Rejected("not JSON") from None
    if not isinstance(value, dict):
        raise Rejected("not a JSON object")
    if _depth_exceeds(value, MAX_DEPTH):
        raise Rejected(f"nested deeper than {MAX_DEPTH} levels")
    return value


_RULES = MappingProxyType(
    {
        "missing": "required",
        "string_type": "expected a string",
        "string_unicode": "contains a lone UTF-16 surrogate",
        "int_type": "expected an integer",
        "bool_type": "expected true or false",
        "list_type": "expected a list",
        "dict_type": "expected an object",
        "model_type": "expected an object",
        "model_attributes_type": "expected an object",
        "string_too_short": "shorter than {min_length} chars",
        "string_too_long": "longer than {max_length} chars",
        "too_short": "fewer than {min_length} items",
        "too_long": "more than {max_length} items",
        "greater_than_equal": "less than {ge}",
        "less_than_equal": "greater than {le}",
        "literal_error": "expected {expected}",
    }
)
_LIMIT_KEYS = ("min_length", "max_length", "ge", "le", "expected")


def _path(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part in FIELD_NAMES:
            text += f".{part}" if text else part
    return text


def _join(path: str, sub: str) -> str:
    if not sub:
        return path
    return f"{path}{sub}" if sub.startswith("[") or not path else f"{path}.{sub}"


def _reason(error: ValidationError) -> str:
    """The first error as "path: rule", from our schema's words only (never the input)."""
    first = error.errors(include_url=False, include_input=False)[0]
    kind, ctx = first["type"], first.get("ctx") or {}
    path = _path(first["loc"])
    if kind == "kiosk_rule":
        path, rule = _join(path, str(ctx.get("sub", ""))), str(ctx.get("rule", "invalid"))
    elif kind in ("string_too_short", "too_short") and ctx.get("min_length") == 1:
        rule = "empty"
    else:
        # Only limits of our schema are filled in; "actual_length" and the like are left out.
        limits = {key: ctx[key] for key in _LIMIT_KEYS if key in ctx}
        try:
            rule = _RULES[kind].format_map(limits)
        except (KeyError, IndexError, ValueError):
            rule = f"invalid ({kind})"
    return f"{path}: {rule}" if path else rule


def parse_downlink(kind: str, raw: bytes) -> BaseModel:
    """The model for one payload on the downlink topic ``kind`` (a key of DOWNLINK_TYPES).

    Raises Rejected for any payload the contract does not allow, ValueError for an unknown kind.
    """
    if kind not in DOWNLINK_TYPES:
        raise ValueError(f"no downlink topic {kind!r}")
    value = _decode(kind, raw)
    version = value.get("v")
    if type(version) is not int or version != 1:
        raise Rejected("v: expected 1")
    expected = DOWNLINK_TYPES[kind]
    if value.get("type") != expected:
        raise Rejected(f"type: expected {expected!r}")
    model = MODELS[kind]
    if kind == "cmd":
        name = value.get("name")
        if name is None:
            raise Rejected("name: required")
        if not isinstance(name, str):
            raise Rejected("name: expected a string")
        if name not in COMMANDS:
            raise Rejected("name: unknown command")
        model = COMMANDS[name]
    try:
        return model.model_validate(value)
    except ValidationError as error:
        raise Rejected(_reason(error)) from None
