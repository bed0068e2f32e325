"""Every limit of the contract, once: the contract's own and the ones we added where it is
silent (docs/protocol.md, "Validation limits"). Lengths count Unicode code points."""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

KiB: Final = 1024
MiB: Final = 1024 * KiB

# --- the contract's ---------------------------------------------------------------------------
ID_MAX: Final = 64  # every *_id
BODY_MAX_CHARS: Final = 10_000  # a message's body, both ways
PHOTO_MAX_BYTES: Final = 2 * MiB  # a message's photo or a capture, decoded
PHOTO_MAX_B64: Final = 4 * ((PHOTO_MAX_BYTES + 2) // 3)  # 2,796,204 chars of base64
MAX_PHOTOS: Final = 10

# --- ours: text ---------------------------------------------------------------------------------
NAME_MAX: Final = 100  # display names, facility and kiosk names
UNIT_MAX: Final = 64  # housing_unit
REASON_MAX: Final = 500  # free-text reasons and a command result's error
NOTICE_TEXT_MAX: Final = 1000
VERIFIER_MAX: Final = 256
TIMEZONE_MAX: Final = 64
LANGUAGE_MAX: Final = 35
BADGE_KEY_BYTES: Final = (16, 256)  # decoded, least and most
SDP_MAX: Final = 64 * KiB
CANDIDATE_MAX: Final = KiB
SDP_MID_MAX: Final = 64
SDP_MLINE_INDEX_MAX: Final = 65_535

# --- ours: numbers and lists --------------------------------------------------------------------
MAX_COUNT: Final = 2**31 - 1  # credits and refunds: fits any integer column
MAX_VERSION: Final = 2**63 - 1  # snapshot versions: fits SQLite's INTEGER
MAX_TECHNICIANS: Final = 100
MAX_ICE_SERVERS: Final = 8  # extension: a facility's STUN and TURN servers
PEPPER_BYTES: Final = 32  # extension: the facility's pepper, decoded
RETENTION_DAYS_MAX: Final = 3650  # extension: the longest a kiosk keeps messages, photos, events
MAX_ICE_URLS: Final = 4  # per server (UDP, TCP, TLS of one TURN server, say)
ICE_URL_MAX: Final = 256
ICE_SECRET_MAX: Final = 256  # a TURN username or credential (REST-API ones are long)
MAX_VISITS: Final = 10_000
MAX_RESIDENTS: Final = 10_000
MAX_BADGE_LOOKUPS: Final = 16
MAX_LANGUAGES: Final = 16
MAX_VISITOR_CAPTURES: Final = 3
# Extension: the lobby's front desk.
PERSON_NAME_MAX: Final = 50  # a visitor's first or last name
ADDRESS_MAX: Final = 100  # an address line, an organization, a title
EMAIL_MAX: Final = 254
CREDENTIAL_MAX: Final = 30  # a bar or other credential number, as printed on the card
TERMS_MAX_CHARS: Final = 8000  # the facility's terms, per language
MAX_PROFESSIONS: Final = 50
MAX_ROSTER: Final = 20_000  # the public roster's residents
MAX_SLOTS: Final = 5_000  # free on-site slots, 14 days of every station
MAX_APPROVED: Final = 50  # residents a visitor is approved for
MAX_ALTERNATIVES: Final = 5  # free slots offered when the one asked for was taken
SESSION_IDLE_S: Final = (5, 3600, 60)  # least, most, default
SESSION_MAX_S: Final = (60, 86_400, 900)
MESSAGE_MAX_CHARS: Final = (1, BODY_MAX_CHARS, 2000)

# --- ours: uplink -------------------------------------------------------------------------------
STATUS_REASON_MAX: Final = 100
SOFTWARE_VERSION_MAX: Final = 64
SNAKE_NAME_MAX: Final = 64  # event kinds, device names, telemetry extensions
HARDWARE_DETAIL_MAX: Final = 500
DETAIL_MAX_DEPTH: Final = 8  # an event's detail, levels below it

# --- ours: decoding -----------------------------------------------------------------------------
REJECTION_REASON_MAX: Final = 200  # a payload_rejected event's reason
MAX_DEPTH: Final = 32  # JSON nesting; the deepest real payload (a schedule) has 4 levels

# Bytes per payload, by topic kind, checked before decoding. A message holds 10 photos of 2 MiB
# (27.9 MB of base64) plus a body; the margin covers encoders that escape "/" as "\/".
MAX_BYTES: Final = MappingProxyType(
    {
        "config": 256 * KiB,
        "schedule": 4 * MiB,
        "residents": 4 * MiB,
        "inbox": 32 * MiB,
        "message-status": 64 * KiB,
        "cmd": 64 * KiB,
        "signal": 256 * KiB,
        "notice": 64 * KiB,
        "roster": 4 * MiB,
        "slots": 2 * MiB,
        "answer": 64 * KiB,
    }
)
# JSON containers and members (count of ",", "[" and "{" in the raw bytes, checked before
# parsing): a 32 MiB message of "[{},{},…]" would otherwise become ~1 GB of Python objects.
MAX_ELEMENTS: Final = MappingProxyType(
    {
        "config": 16_384,
        "schedule": 262_144,
        "residents": 262_144,
        "inbox": 65_536,
        "message-status": 4_096,
        "cmd": 4_096,
        "signal": 16_384,
        "notice": 4_096,
        "roster": 131_072,
        "slots": 65_536,
        "answer": 4_096,
    }
)
# What the cloud (simulated) accepts from a kiosk, by uplink topic kind: a capture is one photo.
UPLINK_MAX_BYTES: Final = MappingProxyType(
    {
        "status": 64 * KiB,
        "telemetry": 64 * KiB,
        "events": 256 * KiB,
        "outbox": 256 * KiB,
        "captures": 4 * MiB,
        "cmd-result": 64 * KiB,
        "signal": 256 * KiB,
        "applications": 64 * KiB,
        "requests": 16 * KiB,
    }
)
UPLINK_MAX_ELEMENTS: Final = 16_384
# Enrollment, by direction: a CSR with a self-test summary, a certificate chain.
ENROLLMENT_MAX_BYTES: Final = 256 * KiB
ENROLLMENT_MAX_ELEMENTS: Final = 16_384
