"""The field types every payload is made of, and the base of every model.

A broken rule raises ``rule(...)``: a pydantic error whose text is ours and never quotes the
value, so that ``codec`` can turn it into a payload_rejected reason as it is.
"""

from __future__ import annotations

import base64
import binascii
import re
import zoneinfo
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
)
from pydantic_core import PydanticCustomError

from kiosk.contract import limits
from kiosk.contract.connection import KIOSK_ID_PATTERN
from kiosk.contract.times import utc_text


def rule(text: str, sub: str = "") -> PydanticCustomError:
    """A rule broken; ``sub`` is the field path below the failing model ("sdp", "[3].visit_id")."""
    return PydanticCustomError("kiosk_rule", "{rule}", {"rule": text, "sub": sub})


class Payload(BaseModel):
    """Base of every model: strict types (no "5" for 5, no 1 for true), unknown fields dropped."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True, populate_by_name=True)


# --- text ---------------------------------------------------------------------------------------

_SURROGATE = re.compile("[\ud800-\udfff]")


def _unicode(text: str) -> str:
    # JSON "\ud800" escapes decode to lone surrogates, which no UTF-8 encoder (SQLite) accepts.
    # pydantic's constrained str refuses them too today; this keeps the rule if that changes.
    if not text.isascii() and _SURROGATE.search(text):
        raise rule("contains a lone UTF-16 surrogate")
    return text


def text(max_length: int, min_length: int = 0) -> Any:
    """A string of ``min_length`` to ``max_length`` code points."""
    return Annotated[
        str,
        StringConstraints(min_length=min_length, max_length=max_length),
        AfterValidator(_unicode),
    ]


Id = text(limits.ID_MAX, 1)  # "Ids are strings of at most 64 chars"; empty refused
Name = text(limits.NAME_MAX, 1)
Reason = text(limits.REASON_MAX)
Error = text(limits.REASON_MAX, 1)
Unit = text(limits.UNIT_MAX, 1)
Body = text(limits.BODY_MAX_CHARS)  # may be empty: a message of photos only
NoticeText = text(limits.NOTICE_TEXT_MAX)  # empty clears the banner
Sdp = text(limits.SDP_MAX)
Candidate = text(limits.CANDIDATE_MAX)  # "" is WebRTC's end-of-candidates
SdpMid = text(limits.SDP_MID_MAX)
IceSecret = text(limits.ICE_SECRET_MAX, 1)


def _ice_url(value: str) -> str:
    scheme, _, rest = value.partition(":")
    printable = rest.isprintable() and " " not in rest
    if scheme not in ("stun", "stuns", "turn", "turns") or not rest or not printable:
        raise rule("not a stun:, stuns:, turn: or turns: URL")
    return value


IceUrl = Annotated[
    str, StringConstraints(min_length=6, max_length=limits.ICE_URL_MAX), AfterValidator(_ice_url)
]
SdpMlineIndex = Annotated[int, Field(ge=0, le=limits.SDP_MLINE_INDEX_MAX)]
Count = Annotated[int, Field(ge=0, le=limits.MAX_COUNT)]
Version = Annotated[int, Field(ge=0, le=limits.MAX_VERSION)]
Amount = Annotated[int | float, Field(ge=0, allow_inf_nan=False)]  # uptime, disk space

SignalKind = Literal["ready", "offer", "answer", "candidate", "bye"]


class SignalFields(Payload):
    """A ``signal`` payload's fields, the same both ways; each direction checks them its own
    way (kiosk.contract.downlink accepts what a kind does not need, uplink refuses it)."""

    v: Literal[1]
    type: Literal["signal"]
    visit_id: Id
    # An id, not the kiosk-id pattern: for remote visits the peer is the cloud's media gateway.
    from_kiosk_id: Id
    kind: SignalKind
    sdp: Sdp | None = None
    candidate: Candidate | None = None
    sdp_mid: SdpMid | None = None
    sdp_mline_index: SdpMlineIndex | None = None
    reason: Reason | None = None


_SNAKE = re.compile(rf"[a-z][a-z0-9_]{{0,{limits.SNAKE_NAME_MAX - 1}}}")


def is_snake_name(name: object) -> bool:
    return isinstance(name, str) and _SNAKE.fullmatch(name) is not None


def _snake(name: str) -> str:
    if not is_snake_name(name):
        raise rule(f"not a snake_case name of at most {limits.SNAKE_NAME_MAX} chars")
    return name


SnakeName = Annotated[
    str, StringConstraints(max_length=limits.SNAKE_NAME_MAX + 1), AfterValidator(_snake)
]


def _kiosk_id(name: str) -> str:
    if not KIOSK_ID_PATTERN.fullmatch(name):
        raise rule("not 3 to 40 lowercase letters, digits or '-'")
    return name


KioskId = Annotated[str, StringConstraints(max_length=limits.ID_MAX), AfterValidator(_kiosk_id)]

# --- times --------------------------------------------------------------------------------------

_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2})"
    r"(?::([0-9]{2})(?:\.([0-9]{1,9}))?)?(?:Z|\+00:00)"
)


def _utc_time(value: Any) -> datetime:
    if isinstance(value, datetime):  # built in Python (JSON never gives one): any aware time
        if value.tzinfo is None:
            raise rule("not an aware time")
        return value.astimezone(UTC)
    if not isinstance(value, str) or len(value) > 40:
        raise rule("not an ISO 8601 UTC time")
    match = _TIME.fullmatch(value)
    if match is None:
        raise rule("not an ISO 8601 UTC time")
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
        raise rule("not an ISO 8601 UTC time") from None


# Aware, in UTC. Read: YYYY-MM-DDTHH:MM[:SS[.fraction]] then "Z" or "+00:00" (or an aware
# datetime, in Python). Written: always YYYY-MM-DDTHH:MM:SS.mmmZ.
UtcTime = Annotated[
    datetime,
    BeforeValidator(_utc_time),
    PlainSerializer(utc_text, return_type=str, when_used="json"),
]

# --- keys, verifiers, codes ----------------------------------------------------------------------

_HEX64 = re.compile(r"[0-9a-f]{64}")


def _badge_lookup(value: str) -> str:
    if not _HEX64.fullmatch(value):
        raise rule("not 64 lowercase hex digits")
    return value


BadgeLookup = Annotated[str, StringConstraints(max_length=64), AfterValidator(_badge_lookup)]


def b64(value: str) -> bytes:
    """Strict base64: the standard alphabet, correct padding, no whitespace."""
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):  # ValueError: a non-ASCII character
        raise rule("not valid base64") from None


_VERIFIER = re.compile(r"scrypt\$([0-9]{1,10})\$([0-9]{1,10})\$([0-9]{1,10})\$([^$]+)\$([^$]+)")


def _verifier(value: str) -> str:
    match = _VERIFIER.fullmatch(value)
    if match is None:
        raise rule("not a scrypt$N$r$p$salt_b64$hash_b64 verifier")
    n, r, p = (int(part) for part in match.group(1, 2, 3))
    # scrypt itself needs N a power of two above 1, r and p at least 1.
    if n < 2 or n & (n - 1) or r < 1 or p < 1:
        raise rule("scrypt parameters out of range")
    try:
        salt, digest = b64(match.group(4)), b64(match.group(5))
    except PydanticCustomError:
        raise rule("verifier salt or hash not valid base64") from None
    if not salt or not digest:
        raise rule("verifier salt or hash empty")
    return value


Verifier = Annotated[
    str, StringConstraints(max_length=limits.VERIFIER_MAX), AfterValidator(_verifier)
]

_LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,3}")


def _language(value: str) -> str:
    if not _LANGUAGE.fullmatch(value):
        raise rule("not a language code")
    return value


Language = Annotated[
    str, StringConstraints(max_length=limits.LANGUAGE_MAX), AfterValidator(_language)
]
_ZONE = re.compile(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*")


def _timezone(value: str) -> str:
    if not _ZONE.fullmatch(value):
        raise rule("not an IANA time zone")
    try:
        zoneinfo.ZoneInfo(value)
    # OSError: a folder of the zone database ("America") or an unreadable file.
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise rule("not an IANA time zone") from None
    return value


TimeZone = Annotated[
    str,
    StringConstraints(min_length=1, max_length=limits.TIMEZONE_MAX),
    AfterValidator(_timezone),
]


def _badge_key(value: str) -> str:
    least, most = limits.BADGE_KEY_BYTES
    if not least <= len(b64(value)) <= most:
        raise rule(f"key must decode to {least} to {most} bytes")
    return value


BadgeKey = Annotated[str, StringConstraints(max_length=344), AfterValidator(_badge_key)]


def _pepper(value: str) -> str:
    if len(b64(value)) != limits.PEPPER_BYTES:
        raise rule(f"pepper must decode to {limits.PEPPER_BYTES} bytes")
    return value


PepperKey = Annotated[str, StringConstraints(max_length=64), AfterValidator(_pepper)]

# --- images -------------------------------------------------------------------------------------

MAGIC = MappingProxyType({"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"})
# Length checked before decoding, so an oversized string is never decoded.
ImageB64 = Annotated[str, StringConstraints(max_length=limits.PHOTO_MAX_B64)]


def decode_image(data_b64: str, mime: str) -> bytes:
    """The image in ``data_b64``: strict base64, at most 2 MiB, starting as its ``mime`` does."""
    try:
        data = b64(data_b64)
    except PydanticCustomError:
        raise rule("not valid base64", "data_b64") from None
    if len(data) > limits.PHOTO_MAX_BYTES:
        raise rule(f"larger than {limits.PHOTO_MAX_BYTES} bytes decoded", "data_b64")
    if not data.startswith(MAGIC[mime]):
        raise rule("not an image of its mime type", "data_b64")
    return data


def each_once(values: list[str], field: str) -> None:
    """Refuse a list that names a value twice: "[3].visit_id: repeated"."""
    index = first_repeat(values)
    if index is not None:
        raise rule("repeated", f"[{index}].{field}")


def first_repeat(values: list[str]) -> int | None:
    """The index of the first value seen before, or None."""
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value in seen:
            return index
        seen.add(value)
    return None
