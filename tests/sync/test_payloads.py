"""Downlink validation and uplink builders against the contract (docs/protocol.md)."""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from kiosk.contract import builders as uplink
from kiosk.contract.codec import Rejected, parse_downlink
from kiosk.contract.downlink import EndVisitCommand, LockCommand, LogoutCommand
from kiosk.contract.limits import MAX_BYTES, PHOTO_MAX_B64, PHOTO_MAX_BYTES
from kiosk.contract.topics import DOWNLINK_TYPES
from kiosk.contract.uplink import EVENT_KINDS, EVENT_REASONS
from kiosk.core.credentials import badge_lookup, make_verifier

MARK = "ZZSECRETZZ"
KEY = bytes(range(32))
LOOKUP = badge_lookup("04A1B2C3D4", KEY)
VERIFIER = (
    "scrypt$16384$8$1$"
    + base64.b64encode(b"0123456789abcdef").decode()
    + "$"
    + base64.b64encode(bytes(range(32))).decode()
)
JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + bytes(200)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)
T0 = "2026-11-23T19:00:00Z"
T1 = "2026-11-23T19:30:00Z"
DROP = object()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def example(kind: str) -> dict[str, Any]:
    """A fresh valid payload for the downlink topic ``kind``, as the contract describes it."""
    examples: dict[str, dict[str, Any]] = {
        "config": {
            "v": 1,
            "type": "config",
            "facility_name": "North County Jail",
            "kiosk_name": "Housing B, kiosk 1",
            "role": "housing",
            "housing_unit": "B",
            "timezone": "America/Chicago",
            "languages": ["en", "es"],
            "session_idle_s": 90,
            "session_max_s": 1200,
            "message_max_chars": 1500,
            "badge_key_b64": b64(KEY),
            "technicians": [
                {
                    "technician_id": "tech-7",
                    "display_name": "R. Tech",
                    "badge_lookup": LOOKUP,
                    "pin_verifier": VERIFIER,
                }
            ],
        },
        "schedule": {
            "v": 1,
            "type": "schedule",
            "version": 42,
            "visits": [
                {
                    "visit_id": f"visit-{index}",
                    "starts_at": f"2026-11-2{3 + index}T19:00:00Z",
                    "ends_at": f"2026-11-2{3 + index}T19:30:00Z",
                    "kind": kind,
                    "status": "scheduled",
                    "inmate": {"inmate_id": "A123", "display_name": "A. Resident"},
                    "visitor": {"display_name": "V. Visitor"},
                    "peer": {},
                }
                for index, kind in enumerate(("onsite", "remote", "privileged", "onsite"))
            ],
        },
        "residents": {
            "v": 1,
            "type": "residents",
            "version": 7,
            "residents": [
                {
                    "inmate_id": f"A12{index}",
                    "booking_number": f"2026-00{index}",
                    "display_name": "A. Resident",
                    "language": "es",
                    "pin_verifier": VERIFIER,
                    "badge_lookups": [LOOKUP] if index == 0 else [],
                    "message_credits": 3,
                }
                for index in range(2)
            ],
        },
        "inbox": {
            "v": 1,
            "type": "message",
            "message_id": "msg-1",
            "inmate_id": "A123",
            "from": {"contact_id": "c-9", "display_name": "Mom"},
            "sent_at": T0,
            "body": "Hola mijo, te quiero.",
            "photos": [
                {"photo_id": "p-1", "mime": "image/jpeg", "data_b64": b64(JPEG)},
                {"photo_id": "p-2", "mime": "image/png", "data_b64": b64(PNG)},
            ],
        },
        "message-status": {
            "v": 1,
            "type": "message_status",
            "message_id": "m-1",
            "status": "rejected",
            "reason": "contains contraband talk",
            "credits_refunded": 1,
            "message_credits": 4,
        },
        "cmd": {
            "v": 1,
            "type": "command",
            "command_id": "cmd-1",
            "name": "end_visit",
            "args": {"visit_id": "visit-0", "reason": "staff request"},
            "issued_at": T0,
            "expires_at": T1,
        },
        "signal": {
            "v": 1,
            "type": "signal",
            "visit_id": "visit-1",
            "from_kiosk_id": "hu-b-02",
            "kind": "offer",
            "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n",
        },
        "notice": {
            "v": 1,
            "type": "notice",
            "notice_id": "n-1",
            "text": "Count time: stay in your area.",
            "severity": "lockdown",
            "until": T1,
        },  # Extension, lobby kiosks: the front desk.
        "roster": {
            "v": 1,
            "type": "roster",
            "version": 3,
            "residents": [{"booking_number": "2026-001", "display_name": "A. Resident"}],
        },
        "slots": {
            "v": 1,
            "type": "slots",
            "version": 9,
            "slots": [
                {
                    "slot_id": "s-1",
                    "starts_at": T0,
                    "minutes": 30,
                    "station": {"kiosk_id": "lobby-02", "display_name": "Station 2"},
                }
            ],
        },
        "answer": {
            "v": 1,
            "type": "answer",
            "request_id": "r-1",
            "kind": "booking",
            "outcome": "booked",
            "visit": {
                "visit_id": "v-9",
                "starts_at": T0,
                "ends_at": T1,
                "station": {"display_name": "Station 2"},
                "confirmation_code": "KX7-29Q",
            },
        },
    }
    return copy.deepcopy(examples[kind])


def encoded(payload: Any) -> bytes:
    return json.dumps(payload).encode()


def changed(kind: str, path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """The example with ``path`` set to ``value`` (or removed, for DROP)."""
    payload = example(kind)
    node: Any = payload
    for step in path[:-1]:
        node = node[step]
    if value is DROP:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return payload


def reason_for(kind: str, payload: Any) -> str:
    raw = payload if isinstance(payload, bytes) else encoded(payload)
    with pytest.raises(Rejected) as info:
        parse_downlink(kind, raw)
    reason = info.value.reason
    assert MARK not in reason, reason
    assert 0 < len(reason) <= 200
    assert str(info.value) == reason
    return reason


# --- valid payloads ----------------------------------------------------------------------------


def test_config_example_is_accepted() -> None:
    config = parse_downlink("config", encoded(example("config")))
    assert config.role == "housing" and config.housing_unit == "B"
    assert config.timezone == "America/Chicago"
    assert (config.session_idle_s, config.session_max_s, config.message_max_chars) == (
        90,
        1200,
        1500,
    )
    assert config.technicians[0].badge_lookup == LOOKUP
    assert config.technicians[0].pin_verifier == VERIFIER


def test_config_defaults_and_optional_housing_unit() -> None:
    payload = example("config")
    for name in ("housing_unit", "languages", "session_idle_s", "session_max_s"):
        del payload[name]
    del payload["message_max_chars"]
    payload["role"] = "lobby"
    config = parse_downlink("config", encoded(payload))
    assert config.housing_unit is None
    assert config.languages == ["en", "es"]
    assert (config.session_idle_s, config.session_max_s, config.message_max_chars) == (
        60,
        900,
        2000,
    )


def test_config_retention_extension_with_its_defaults_and_limits() -> None:
    payload = example("config")
    assert parse_downlink("config", encoded(payload)).retention is None  # the kiosk's defaults
    payload["retention"] = {"messages_days": 14}
    retention = parse_downlink("config", encoded(payload)).retention
    assert (retention.messages_days, retention.photos_days, retention.events_days) == (14, 30, 30)
    for days, reason in ((0, "less than 1"), (3651, "greater than 3650"), ("7", "integer")):
        payload["retention"] = {"photos_days": days}
        assert reason_for("config", payload).startswith("retention.photos_days: ")
        assert reason in reason_for("config", payload)


def test_schedule_example_is_accepted() -> None:
    schedule = parse_downlink("schedule", encoded(example("schedule")))
    assert schedule.version == 42
    visit = schedule.visits[0]
    assert visit.starts_at == datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
    assert visit.starts_at.utcoffset() == timedelta(0)
    assert visit.ends_at - visit.starts_at == timedelta(minutes=30)
    assert [v.kind for v in schedule.visits] == ["onsite", "remote", "privileged", "onsite"]
    assert visit.inmate.display_name == "A. Resident"
    assert visit.visitor.confirmation_code_verifier is None
    assert visit.peer.kiosk_id is None


def test_schedule_with_verifier_and_peer() -> None:
    payload = changed("schedule", ("visits", 0, "visitor", "confirmation_code_verifier"), VERIFIER)
    payload["visits"][0]["peer"] = {"kiosk_id": "lobby-01"}
    payload["visits"][0]["status"] = "cancelled"
    visit = parse_downlink("schedule", encoded(payload)).visits[0]
    assert visit.visitor.confirmation_code_verifier == VERIFIER
    assert visit.peer.kiosk_id == "lobby-01"
    assert visit.status == "cancelled"


def test_a_real_verifier_is_accepted() -> None:
    payload = changed("residents", ("residents", 0, "pin_verifier"), make_verifier("1234"))
    assert (
        parse_downlink("residents", encoded(payload))
        .residents[0]
        .pin_verifier.startswith("scrypt$16384$8$1$")
    )


def test_residents_example_is_accepted() -> None:
    residents = parse_downlink("residents", encoded(example("residents")))
    assert residents.version == 7
    first = residents.residents[0]
    assert (first.inmate_id, first.booking_number, first.language) == ("A120", "2026-000", "es")
    assert first.badge_lookups == [LOOKUP]
    assert first.message_credits == 3


def test_message_example_is_accepted_with_decoded_photos() -> None:
    message = parse_downlink("inbox", encoded(example("inbox")))
    assert message.message_id == "msg-1"
    assert message.from_.contact_id == "c-9"
    assert message.from_.display_name == "Mom"
    assert message.sent_at == datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
    assert [photo.data for photo in message.photos] == [JPEG, PNG]
    assert message.model_dump(by_alias=True)["from"] == {"contact_id": "c-9", "display_name": "Mom"}


def test_message_without_photos_and_with_an_empty_body() -> None:
    payload = example("inbox")
    del payload["photos"]
    payload["body"] = ""
    assert parse_downlink("inbox", encoded(payload)).photos == []


def test_photos_at_the_limits_are_accepted() -> None:
    payload = example("inbox")
    biggest = b"\xff\xd8\xff" + bytes(PHOTO_MAX_BYTES - 3)
    payload["photos"] = [
        {"photo_id": f"p-{index}", "mime": "image/jpeg", "data_b64": b64(biggest)}
        for index in range(10)
    ]
    payload["body"] = "é" * 10_000
    raw = encoded(payload)
    assert len(raw) <= MAX_BYTES["inbox"]
    message = parse_downlink("inbox", raw)
    assert len(message.photos) == 10 and len(message.photos[9].data) == PHOTO_MAX_BYTES


def test_message_status_example_and_optional_fields() -> None:
    status = parse_downlink("message-status", encoded(example("message-status")))
    assert (status.status, status.credits_refunded, status.message_credits) == ("rejected", 1, 4)
    bare = {"v": 1, "type": "message_status", "message_id": "m-2", "status": "delivered"}
    status = parse_downlink("message-status", encoded(bare))
    assert (status.reason, status.credits_refunded, status.message_credits) == (None, None, None)
    nulls = {**bare, "reason": None, "credits_refunded": None, "message_credits": None}
    assert parse_downlink("message-status", encoded(nulls)).reason is None


def test_command_example_is_accepted() -> None:
    command = parse_downlink("cmd", encoded(example("cmd")))
    assert isinstance(command, EndVisitCommand)
    assert command.args.visit_id == "visit-0"
    assert dict(command.args) == {"visit_id": "visit-0", "reason": "staff request"}
    assert command.expires_at - command.issued_at == timedelta(minutes=30)


@pytest.mark.parametrize("name", ["logout", "unlock", "reboot", "selftest", "resync"])
def test_commands_without_arguments(name: str) -> None:
    payload = {**example("cmd"), "name": name, "args": {}}
    command = parse_downlink("cmd", encoded(payload))
    assert command.name == name and dict(command.args) == {}
    del payload["args"]  # an absent args is {}
    assert parse_downlink("cmd", encoded(payload)).name == name


def test_lock_command() -> None:
    payload = {**example("cmd"), "name": "lock", "args": {"reason": "maintenance"}}
    command = parse_downlink("cmd", encoded(payload))
    assert isinstance(command, LockCommand) and command.args.reason == "maintenance"


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "ready"},
        {"kind": "offer", "sdp": "v=0\r\n"},
        {"kind": "answer", "sdp": "v=0\r\n"},
        {"kind": "candidate", "candidate": "candidate:1 1 UDP 1 10.0.0.1 5000 typ host"},
        {"kind": "candidate", "candidate": "", "sdp_mid": "0", "sdp_mline_index": 0},
        {"kind": "bye"},
        {"kind": "bye", "reason": "hangup"},
    ],
)
def test_signal_kinds(fields: dict[str, Any]) -> None:
    payload = {"v": 1, "type": "signal", "visit_id": "v-1", "from_kiosk_id": "hu-b-02", **fields}
    signal = parse_downlink("signal", encoded(payload))
    for name, value in fields.items():
        assert getattr(signal, name) == value


def test_notice_example_and_an_empty_text_that_clears_it() -> None:
    notice = parse_downlink("notice", encoded(example("notice")))
    assert notice.severity == "lockdown"
    assert notice.until == datetime(2026, 11, 23, 19, 30, tzinfo=UTC)
    clear = {"v": 1, "type": "notice", "notice_id": "n-2", "text": "", "severity": "info"}
    notice = parse_downlink("notice", encoded(clear))
    assert notice.text == "" and notice.until is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-23T19:00:00Z", datetime(2026, 11, 23, 19, 0, tzinfo=UTC)),
        ("2026-11-23T19:00:00+00:00", datetime(2026, 11, 23, 19, 0, tzinfo=UTC)),
        ("2026-11-23T19:00Z", datetime(2026, 11, 23, 19, 0, tzinfo=UTC)),
        ("2026-11-23T19:00:00.5Z", datetime(2026, 11, 23, 19, 0, 0, 500_000, tzinfo=UTC)),
        ("2026-11-23T19:00:00.123456789Z", datetime(2026, 11, 23, 19, 0, 0, 123_456, tzinfo=UTC)),
    ],
)
def test_accepted_time_forms(text: str, expected: datetime) -> None:
    notice = parse_downlink("notice", encoded(changed("notice", ("until",), text)))
    assert notice.until == expected and notice.until.tzinfo is UTC


def with_unknown_fields(value: Any) -> Any:
    """A copy with unknown fields added to every object, however deep."""
    if isinstance(value, list):
        return [with_unknown_fields(item) for item in value]
    if isinstance(value, dict):
        extra = {"zz_future": {"nested": [1, 2, {"deeper": None}]}, "another": "x"}
        return {**{k: with_unknown_fields(v) for k, v in value.items()}, **extra}
    return value


@pytest.mark.parametrize("kind", list(DOWNLINK_TYPES))
def test_unknown_fields_are_ignored_at_every_level(kind: str) -> None:
    plain = parse_downlink(kind, encoded(example(kind)))
    model = parse_downlink(kind, encoded(with_unknown_fields(example(kind))))
    assert model == plain
    assert "zz_future" not in json.dumps(model.model_dump(mode="json"))


def test_models_are_frozen() -> None:
    notice = parse_downlink("notice", encoded(example("notice")))
    with pytest.raises(ValueError, match="frozen"):
        notice.text = "changed"


# --- the envelope -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(DOWNLINK_TYPES))
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"", "not JSON"),
        (b"{", "not JSON"),
        (b"ZZSECRETZZ", "not JSON"),
        (b'{"v":1,"type":"x"} ZZSECRETZZ', "not JSON"),
        (b"\xef\xbb\xbf{}", "not JSON"),  # a UTF-8 byte order mark
        (b'{"v": 1, "ZZSECRETZZ": "\xff\xfe"}', "not UTF-8"),
        (b'{"v": 1, "x": "\xed\xa0\x80"}', "not UTF-8"),  # an encoded surrogate
        (b'["ZZSECRETZZ"]', "not a JSON object"),
        (b'"ZZSECRETZZ"', "not a JSON object"),
        (b"null", "not a JSON object"),
        (b'{"v": NaN}', "not JSON: NaN or Infinity is not JSON"),
        (b'{"v": -Infinity}', "not JSON: NaN or Infinity is not JSON"),
        (b'{"v": 1e999}', "not JSON: number out of range"),
        (b'{"v": 1' + b"0" * 5000 + b"}", "not JSON"),
        (b'{"v": 1, "v": 1}', "not JSON: duplicate key in an object"),
        (b"{}", "v: expected 1"),
        (b'{"v": 2}', "v: expected 1"),
        (b'{"v": true}', "v: expected 1"),
        (b'{"v": 1.0}', "v: expected 1"),
        (b'{"v": "1"}', "v: expected 1"),
        (b'{"v": null}', "v: expected 1"),
    ],
)
def test_envelope_rejections(kind: str, raw: bytes, expected: str) -> None:
    assert reason_for(kind, raw) == expected


@pytest.mark.parametrize("kind", list(DOWNLINK_TYPES))
def test_type_must_match_the_topic(kind: str) -> None:
    expected = DOWNLINK_TYPES[kind]
    assert reason_for(kind, changed(kind, ("type",), MARK)) == f"type: expected {expected!r}"
    assert reason_for(kind, changed(kind, ("type",), DROP)) == f"type: expected {expected!r}"
    other = "notice" if expected != "notice" else "config"
    assert reason_for(kind, changed(kind, ("type",), other)) == f"type: expected {expected!r}"


@pytest.mark.parametrize("kind", list(DOWNLINK_TYPES))
def test_size_is_checked_before_decoding(kind: str) -> None:
    limit = MAX_BYTES[kind]
    # Not even UTF-8: the size rule must fire first.
    assert reason_for(kind, b"\xff" * (limit + 1)) == f"larger than {limit} bytes"
    payload = changed(kind, ("padding",), MARK * (limit // len(MARK)))
    assert reason_for(kind, payload) == f"larger than {limit} bytes"


@pytest.mark.parametrize("kind", list(DOWNLINK_TYPES))
def test_deep_nesting_is_rejected(kind: str) -> None:
    for depth in (40, 10_000):
        raw = encoded(changed(kind, ("deep",), "HOLE")).replace(
            b'"HOLE"', b"[" * depth + b"]" * depth
        )
        reason = reason_for(kind, raw)
        assert reason.startswith(("nested deeper than 32 levels", "more than")), reason
    nested_objects = b'{"a":' * 40 + b"1" + b"}" * 40
    raw = encoded(changed(kind, ("deep",), "HOLE")).replace(b'"HOLE"', nested_objects)
    assert reason_for(kind, raw) == "nested deeper than 32 levels"


def test_deep_nesting_reaches_the_recursion_guard() -> None:
    # The schedule allows enough elements for 10,000 brackets, so the parser itself must stop.
    raw = encoded(changed("schedule", ("deep",), "HOLE")).replace(
        b'"HOLE"', b"[" * 10_000 + b"]" * 10_000
    )
    assert reason_for("schedule", raw) == "nested deeper than 32 levels"


def test_too_many_elements_are_refused_before_parsing() -> None:
    raw = b"[" + b"{}," * 70_000 + b"{}]"
    assert reason_for("inbox", raw) == "more than 65536 JSON elements"


def test_an_unknown_topic_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="no downlink topic"):
        parse_downlink("outbox", b"{}")


# --- field rules --------------------------------------------------------------------------------

NOT_A_TIME = "not an ISO 8601 UTC time"
NOT_A_VERIFIER = "not a scrypt$N$r$p$salt_b64$hash_b64 verifier"
EXPECTED_INT = "expected an integer"
ELEVEN_PHOTOS = [
    {"photo_id": f"p{i}", "mime": "image/jpeg", "data_b64": b64(JPEG)} for i in range(11)
]
BAD_SALT_VERIFIER = f"scrypt$16384$8$1${MARK}$" + b64(bytes(32))

RULES: list[tuple[str, tuple[Any, ...], Any, str]] = [
    # config
    ("config", ("role",), MARK, "role: expected 'housing' or 'lobby'"),
    ("config", ("role",), DROP, "role: required"),
    ("config", ("timezone",), f"Mars/{MARK}", "timezone: not an IANA time zone"),
    ("config", ("timezone",), "America", "timezone: not an IANA time zone"),
    ("config", ("timezone",), f"../../etc/{MARK}", "timezone: not an IANA time zone"),
    ("config", ("timezone",), f"America/{MARK}\x00", "timezone: not an IANA time zone"),
    ("config", ("timezone",), 5, "timezone: expected a string"),
    ("config", ("languages",), [], "languages: empty"),
    ("config", ("languages",), MARK, "languages: expected a list"),
    ("config", ("languages", 1), MARK, "languages[1]: not a language code"),
    ("config", ("session_idle_s",), "60", "session_idle_s: expected an integer"),
    ("config", ("session_idle_s",), True, "session_idle_s: expected an integer"),
    ("config", ("session_idle_s",), 60.0, "session_idle_s: expected an integer"),
    ("config", ("session_idle_s",), 0, "session_idle_s: less than 5"),
    ("config", ("session_max_s",), 10**6, "session_max_s: greater than 86400"),
    ("config", ("message_max_chars",), 10_001, "message_max_chars: greater than 10000"),
    ("config", ("message_max_chars",), None, "message_max_chars: expected an integer"),
    ("config", ("badge_key_b64",), MARK + "!", "badge_key_b64: not valid base64"),
    ("config", ("badge_key_b64",), b64(KEY) + "\n", "badge_key_b64: not valid base64"),
    (
        "config",
        ("badge_key_b64",),
        b64(b"short"),
        "badge_key_b64: key must decode to 16 to 256 bytes",
    ),
    ("config", ("badge_key_b64",), DROP, "badge_key_b64: required"),
    ("config", ("facility_name",), MARK * 11, "facility_name: longer than 100 chars"),
    ("config", ("facility_name",), "", "facility_name: empty"),
    ("config", ("kiosk_name",), DROP, "kiosk_name: required"),
    # config, the extension: the facility's STUN and TURN servers
    (
        "config",
        ("ice_servers",),
        [{"urls": [f"http://{MARK}"]}],
        "ice_servers[0].urls[0]: not a stun:, stuns:, turn: or turns: URL",
    ),
    (
        "config",
        ("ice_servers",),
        [{"urls": [f"turn:{MARK}:3478"]}],
        "ice_servers[0]: a TURN server needs a username and a credential",
    ),
    ("config", ("ice_servers",), [{"urls": []}], "ice_servers[0].urls: empty"),
    (
        "config",
        ("ice_servers",),
        [{"urls": ["stun:a"] * 5}],
        "ice_servers[0].urls: more than 4 items",
    ),
    (
        "config",
        ("ice_servers",),
        [{"urls": [f"stun:{MARK} x"]}],
        "ice_servers[0].urls[0]: not a stun:, stuns:, turn: or turns: URL",
    ),
    ("config", ("ice_relay_only",), "yes", "ice_relay_only: expected true or false"),
    ("config", ("housing_unit",), 5, "housing_unit: expected a string"),
    ("config", ("technicians",), {"a": MARK}, "technicians: expected a list"),
    ("config", ("technicians",), DROP, "technicians: required"),
    ("config", ("technicians", 0), MARK, "technicians[0]: expected an object"),
    (
        "config",
        ("technicians", 0, "badge_lookup"),
        MARK,
        "technicians[0].badge_lookup: not 64 lowercase hex digits",
    ),
    (
        "config",
        ("technicians", 0, "badge_lookup"),
        LOOKUP.upper(),
        "technicians[0].badge_lookup: not 64 lowercase hex digits",
    ),
    (
        "config",
        ("technicians", 0, "pin_verifier"),
        f"scrypt${MARK}",
        f"technicians[0].pin_verifier: {NOT_A_VERIFIER}",
    ),
    (
        "config",
        ("technicians", 0, "technician_id"),
        "x" * 65,
        "technicians[0].technician_id: longer than 64 chars",
    ),
    # schedule
    ("schedule", ("version",), True, "version: expected an integer"),
    ("schedule", ("version",), False, "version: expected an integer"),
    ("schedule", ("version",), "42", "version: expected an integer"),
    ("schedule", ("version",), 42.0, "version: expected an integer"),
    ("schedule", ("version",), -1, "version: less than 0"),
    ("schedule", ("version",), 2**63, "version: greater than 9223372036854775807"),
    ("schedule", ("version",), DROP, "version: required"),
    ("schedule", ("visits",), DROP, "visits: required"),
    ("schedule", ("visits",), MARK, "visits: expected a list"),
    ("schedule", ("visits", 3, "starts_at"), MARK, f"visits[3].starts_at: {NOT_A_TIME}"),
    (
        "schedule",
        ("visits", 0, "starts_at"),
        "2026-11-23T19:00:00",
        f"visits[0].starts_at: {NOT_A_TIME}",
    ),
    (
        "schedule",
        ("visits", 0, "starts_at"),
        "2026-11-23T13:00:00-06:00",
        f"visits[0].starts_at: {NOT_A_TIME}",
    ),
    (
        "schedule",
        ("visits", 0, "starts_at"),
        "2026-11-23 19:00:00Z",
        f"visits[0].starts_at: {NOT_A_TIME}",
    ),
    (
        "schedule",
        ("visits", 0, "starts_at"),
        "2026-11-23t19:00:00z",
        f"visits[0].starts_at: {NOT_A_TIME}",
    ),
    (
        "schedule",
        ("visits", 0, "starts_at"),
        "2026-02-30T19:00:00Z",
        f"visits[0].starts_at: {NOT_A_TIME}",
    ),
    (
        "schedule",
        ("visits", 0, "starts_at"),
        "2026-11-23T24:00:00Z",
        f"visits[0].starts_at: {NOT_A_TIME}",
    ),
    ("schedule", ("visits", 0, "starts_at"), "2026-11-23", f"visits[0].starts_at: {NOT_A_TIME}"),
    (
        "schedule",
        ("visits", 0, "starts_at"),
        "２０２６-11-23T19:00:00Z",
        f"visits[0].starts_at: {NOT_A_TIME}",
    ),
    ("schedule", ("visits", 0, "starts_at"), 1795460400, f"visits[0].starts_at: {NOT_A_TIME}"),
    (
        "schedule",
        ("visits", 0, "ends_at"),
        "2026-11-23T18:59:59Z",
        "visits[0].ends_at: not after starts_at",
    ),
    ("schedule", ("visits", 0, "ends_at"), T0, "visits[0].ends_at: not after starts_at"),
    (
        "schedule",
        ("visits", 0, "kind"),
        MARK,
        "visits[0].kind: expected 'onsite', 'remote' or 'privileged'",
    ),
    (
        "schedule",
        ("visits", 0, "status"),
        MARK,
        "visits[0].status: expected 'scheduled' or 'cancelled'",
    ),
    ("schedule", ("visits", 1, "visit_id"), "visit-0", "visits[1].visit_id: repeated"),
    ("schedule", ("visits", 0, "visit_id"), "", "visits[0].visit_id: empty"),
    ("schedule", ("visits", 0, "visit_id"), 17, "visits[0].visit_id: expected a string"),
    ("schedule", ("visits", 0, "inmate"), DROP, "visits[0].inmate: required"),
    (
        "schedule",
        ("visits", 0, "inmate", "display_name"),
        MARK * 11,
        "visits[0].inmate.display_name: longer than 100 chars",
    ),
    ("schedule", ("visits", 0, "visitor"), MARK, "visits[0].visitor: expected an object"),
    ("schedule", ("visits", 0, "peer"), DROP, "visits[0].peer: required"),
    (
        "schedule",
        ("visits", 0, "peer", "kiosk_id"),
        "k" * 65,
        "visits[0].peer.kiosk_id: longer than 64 chars",
    ),
    (
        "schedule",
        ("visits", 2, "visitor", "confirmation_code_verifier"),
        MARK,
        f"visits[2].visitor.confirmation_code_verifier: {NOT_A_VERIFIER}",
    ),
    # residents
    ("residents", ("version",), True, "version: expected an integer"),
    ("residents", ("residents", 1, "inmate_id"), "A120", "residents[1].inmate_id: repeated"),
    (
        "residents",
        ("residents", 0, "badge_lookups", 0),
        LOOKUP.upper(),
        "residents[0].badge_lookups[0]: not 64 lowercase hex digits",
    ),
    (
        "residents",
        ("residents", 0, "badge_lookups", 0),
        LOOKUP[:-1] + "g",
        "residents[0].badge_lookups[0]: not 64 lowercase hex digits",
    ),
    (
        "residents",
        ("residents", 0, "badge_lookups"),
        [LOOKUP] * 17,
        "residents[0].badge_lookups: more than 16 items",
    ),
    (
        "residents",
        ("residents", 0, "message_credits"),
        -1,
        "residents[0].message_credits: less than 0",
    ),
    (
        "residents",
        ("residents", 0, "message_credits"),
        "3",
        f"residents[0].message_credits: {EXPECTED_INT}",
    ),
    (
        "residents",
        ("residents", 0, "message_credits"),
        True,
        f"residents[0].message_credits: {EXPECTED_INT}",
    ),
    (
        "residents",
        ("residents", 0, "pin_verifier"),
        MARK,
        f"residents[0].pin_verifier: {NOT_A_VERIFIER}",
    ),
    (
        "residents",
        ("residents", 0, "pin_verifier"),
        VERIFIER.replace("16384", "1000"),
        "residents[0].pin_verifier: scrypt parameters out of range",
    ),
    (
        "residents",
        ("residents", 0, "pin_verifier"),
        VERIFIER.replace("$8$", "$0$"),
        "residents[0].pin_verifier: scrypt parameters out of range",
    ),
    (
        "residents",
        ("residents", 0, "pin_verifier"),
        BAD_SALT_VERIFIER,
        "residents[0].pin_verifier: verifier salt or hash not valid base64",
    ),
    (
        "residents",
        ("residents", 0, "pin_verifier"),
        VERIFIER + "$x",
        f"residents[0].pin_verifier: {NOT_A_VERIFIER}",
    ),
    (
        "residents",
        ("residents", 0, "pin_verifier"),
        VERIFIER.replace("scrypt", "bcrypt"),
        f"residents[0].pin_verifier: {NOT_A_VERIFIER}",
    ),
    ("residents", ("residents", 0, "language"), MARK, "residents[0].language: not a language code"),
    (
        "residents",
        ("residents", 0, "booking_number"),
        DROP,
        "residents[0].booking_number: required",
    ),
    # message
    ("inbox", ("body",), "x" * 10_001, "body: longer than 10000 chars"),
    ("inbox", ("body",), DROP, "body: required"),
    ("inbox", ("photos",), ELEVEN_PHOTOS, "photos: more than 10 items"),
    ("inbox", ("photos", 0, "data_b64"), MARK, "photos[0].data_b64: not valid base64"),
    ("inbox", ("photos", 0, "data_b64"), b64(JPEG)[:-2], "photos[0].data_b64: not valid base64"),
    (
        "inbox",
        ("photos", 0, "data_b64"),
        b64(JPEG)[:40] + "\n" + b64(JPEG)[40:],
        "photos[0].data_b64: not valid base64",
    ),
    (
        "inbox",
        ("photos", 0, "data_b64"),
        b64(JPEG).replace("/", "_"),
        "photos[0].data_b64: not valid base64",
    ),
    ("inbox", ("photos", 0, "data_b64"), "é" + b64(JPEG), "photos[0].data_b64: not valid base64"),
    (
        "inbox",
        ("photos", 0, "data_b64"),
        b64(PNG),
        "photos[0].data_b64: not an image of its mime type",
    ),
    (
        "inbox",
        ("photos", 1, "data_b64"),
        b64(JPEG),
        "photos[1].data_b64: not an image of its mime type",
    ),
    ("inbox", ("photos", 0, "data_b64"), "", "photos[0].data_b64: not an image of its mime type"),
    (
        "inbox",
        ("photos", 0, "data_b64"),
        b64(b"\xff\xd8\xff" + bytes(PHOTO_MAX_BYTES - 2)),
        f"photos[0].data_b64: larger than {PHOTO_MAX_BYTES} bytes decoded",
    ),
    (
        "inbox",
        ("photos", 0, "data_b64"),
        "A" * (PHOTO_MAX_B64 + 4),
        f"photos[0].data_b64: longer than {PHOTO_MAX_B64} chars",
    ),
    (
        "inbox",
        ("photos", 0, "mime"),
        "image/gif",
        "photos[0].mime: expected 'image/jpeg' or 'image/png'",
    ),
    ("inbox", ("photos", 1, "photo_id"), "p-1", "photos[1].photo_id: repeated"),
    ("inbox", ("from",), DROP, "from: required"),
    ("inbox", ("from", "contact_id"), 7, "from.contact_id: expected a string"),
    ("inbox", ("sent_at",), MARK, f"sent_at: {NOT_A_TIME}"),
    ("inbox", ("message_id",), "m" * 65, "message_id: longer than 64 chars"),
    # message_status
    (
        "message-status",
        ("status",),
        MARK,
        "status: expected 'received', 'approved', 'rejected' or 'delivered'",
    ),
    ("message-status", ("credits_refunded",), "1", f"credits_refunded: {EXPECTED_INT}"),
    ("message-status", ("credits_refunded",), -1, "credits_refunded: less than 0"),
    ("message-status", ("message_credits",), True, f"message_credits: {EXPECTED_INT}"),
    ("message-status", ("reason",), MARK * 51, "reason: longer than 500 chars"),
    ("message-status", ("message_id",), DROP, "message_id: required"),
    # command
    ("cmd", ("name",), MARK, "name: unknown command"),
    ("cmd", ("name",), 5, "name: expected a string"),
    ("cmd", ("name",), DROP, "name: required"),
    ("cmd", ("args",), DROP, "args: required"),
    ("cmd", ("args",), MARK, "args: expected an object"),
    ("cmd", ("args", "visit_id"), DROP, "args.visit_id: required"),
    ("cmd", ("args", "reason"), 5, "args.reason: expected a string"),
    ("cmd", ("issued_at",), MARK, f"issued_at: {NOT_A_TIME}"),
    ("cmd", ("expires_at",), DROP, "expires_at: required"),
    ("cmd", ("command_id",), None, "command_id: expected a string"),
    # signal
    ("signal", ("kind",), MARK, "kind: expected 'ready', 'offer', 'answer', 'candidate' or 'bye'"),
    ("signal", ("sdp",), DROP, "sdp: required for offer and answer"),
    ("signal", ("sdp",), "", "sdp: required for offer and answer"),
    ("signal", ("sdp",), "a" * (64 * 1024 + 1), "sdp: longer than 65536 chars"),
    ("signal", ("sdp_mline_index",), "0", f"sdp_mline_index: {EXPECTED_INT}"),
    ("signal", ("sdp_mline_index",), -1, "sdp_mline_index: less than 0"),
    ("signal", ("from_kiosk_id",), DROP, "from_kiosk_id: required"),
    # notice
    ("notice", ("severity",), MARK, "severity: expected 'info', 'warning' or 'lockdown'"),
    ("notice", ("text",), "x" * 1001, "text: longer than 1000 chars"),
    ("notice", ("text",), None, "text: expected a string"),
    ("notice", ("until",), MARK, f"until: {NOT_A_TIME}"),
    ("notice", ("until",), "2026-11-23T19:00:00+01:00", f"until: {NOT_A_TIME}"),
    ("notice", ("notice_id",), DROP, "notice_id: required"),
]


@pytest.mark.parametrize(("kind", "path", "value", "expected"), RULES)
def test_rule_is_enforced_with_a_reason_naming_the_field(
    kind: str, path: tuple[Any, ...], value: Any, expected: str
) -> None:
    assert reason_for(kind, changed(kind, path, value)) == expected


def test_command_rules_for_each_name() -> None:
    lock = {**example("cmd"), "name": "lock", "args": {}}
    assert reason_for("cmd", lock) == "args.reason: required"
    candidate = {**example("signal"), "kind": "candidate"}
    assert reason_for("signal", candidate) == "candidate: required for candidate"
    logout = parse_downlink("cmd", encoded({**example("cmd"), "name": "logout"}))
    assert isinstance(logout, LogoutCommand)  # end_visit's args are ignored, not an error


def test_lone_surrogates_are_rejected() -> None:
    raw = encoded(changed("notice", ("text",), "HOLE")).replace(b"HOLE", b"\\ud800")
    assert reason_for("notice", raw) == "text: contains a lone UTF-16 surrogate"
    raw = encoded(changed("notice", ("text",), "HOLE")).replace(b"HOLE", b"\\ud83d\\ude00")
    assert parse_downlink("notice", raw).text == "\U0001f600"


def test_reason_never_quotes_unknown_keys() -> None:
    payload = example("config")
    payload["technicians"] = {MARK: MARK}
    assert reason_for("config", payload) == "technicians: expected a list"
    raw = encoded(changed("config", (MARK,), 1)).replace(b"}", b',"' + MARK.encode() + b'":2}')
    assert reason_for("config", raw) == "not JSON: duplicate key in an object"


def test_a_long_reason_is_clipped() -> None:
    assert len(Rejected("x" * 500).reason) == 200


# --- uplink builders ----------------------------------------------------------------------------

AT = datetime(2026, 11, 23, 19, 0, 5, 250_000, tzinfo=UTC)


def roundtrip(payload: dict[str, Any]) -> dict[str, Any]:
    raw = uplink.encode(payload)
    assert raw == json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    assert json.loads(raw.decode("utf-8")) == payload
    return payload


def test_will_payload_is_exact() -> None:
    assert uplink.WILL_PAYLOAD == b'{"v":1,"type":"status","state":"offline","reason":"lost"}'
    will = {"v": 1, "type": "status", "state": "offline", "reason": "lost"}
    assert uplink.encode(will) == uplink.WILL_PAYLOAD


def test_encode_is_compact_utf8() -> None:
    assert uplink.encode({"v": 1, "body": "ñ"}) == '{"v":1,"body":"ñ"}'.encode()
    with pytest.raises(ValueError):
        uplink.encode({"v": float("nan")})


def test_utc_text() -> None:
    assert uplink.utc_text(AT) == "2026-11-23T19:00:05.250Z"
    chicago = timezone(timedelta(hours=-6))
    assert uplink.utc_text(datetime(2026, 11, 23, 13, 0, tzinfo=chicago)) == (
        "2026-11-23T19:00:00.000Z"
    )
    with pytest.raises(ValueError):
        uplink.utc_text(datetime(2026, 11, 23, 19, 0))


def test_status() -> None:
    payload = roundtrip(uplink.status("online", "connected", "0.1.0", "housing", AT, "Kiosk 1"))
    assert payload == {
        "v": 1,
        "type": "status",
        "state": "online",
        "reason": "connected",
        "version": "0.1.0",
        "role": "housing",
        "started_at": "2026-11-23T19:00:05.250Z",
        "kiosk_name": "Kiosk 1",
    }
    with pytest.raises(ValueError):
        uplink.status("asleep", "x", "0.1.0", "housing", AT, "Kiosk 1")
    with pytest.raises(ValueError):
        uplink.status("online", "x", "0.1.0", "warden", AT, "Kiosk 1")


HARDWARE = {
    "camera": {"state": "ok", "detail": "standby"},
    "handset": {"state": "missing", "detail": ""},
    "badge_reader": {"state": "error", "detail": "no response"},
}


def test_telemetry() -> None:
    payload = roundtrip(
        uplink.telemetry(AT, 3600, HARDWARE, 2, 5120, False, 42, None, 3, outbox_fill=0.25)
    )
    assert list(payload) == [
        "v",
        "type",
        "at",
        "uptime_s",
        "hardware",
        "outbox_depth",
        "disk_free_mb",
        "session_active",
        "schedule_version",
        "residents_version",
        "rejected_payloads",
        "outbox_fill",
    ]
    assert payload["type"] == "telemetry" and payload["hardware"] == HARDWARE
    assert payload["session_active"] is False and payload["residents_version"] is None
    with pytest.raises(ValueError):
        uplink.telemetry(AT, 1, HARDWARE, True, 1, False, 1, 1, 0)
    with pytest.raises(ValueError):
        uplink.telemetry(AT, 1, {"camera": {"state": "broken"}}, 0, 1, False, 1, 1, 0)
    with pytest.raises(ValueError):
        uplink.telemetry(AT, 1, HARDWARE, 0, 1, 1, 1, 1, 0)  # session_active must be a bool
    with pytest.raises(ValueError):
        uplink.telemetry(AT, 1, HARDWARE, 0, 1, False, 1, 1, 0, type="x")


def test_event() -> None:
    payload = roundtrip(uplink.event("e-1", AT, "logout", {"reason": "idle", "at": AT}))
    assert payload == {
        "v": 1,
        "type": "event",
        "event_id": "e-1",
        "at": "2026-11-23T19:00:05.250Z",
        "kind": "logout",
        "detail": {"reason": "idle", "at": "2026-11-23T19:00:05.250Z"},
    }
    for kind in EVENT_KINDS:
        detail = {"reason": EVENT_REASONS[kind][0]} if kind in EVENT_REASONS else {}
        assert uplink.event("e-2", AT, kind, detail)["kind"] == kind
    assert uplink.event("e-3", AT, "outbox_full", {})["kind"] == "outbox_full"
    for kind in ("Login", "login failed", "", "x" * 65):
        with pytest.raises(ValueError):
            uplink.event("e-4", AT, kind, {})
    with pytest.raises(ValueError):
        uplink.event("e-5", AT, "visit_ended", {"reason": "bored"})
    with pytest.raises(ValueError):
        uplink.event("e-6", AT, "tamper", {"x": object()})
    with pytest.raises(ValueError):
        uplink.event("", AT, "tamper", {})


def test_message() -> None:
    payload = roundtrip(uplink.message("m-1", "A123", "c-9", "Hola mijo", AT))
    assert payload == {
        "v": 1,
        "type": "message",
        "message_id": "m-1",
        "inmate_id": "A123",
        "to_contact_id": "c-9",
        "body": "Hola mijo",
        "created_at": "2026-11-23T19:00:05.250Z",
    }
    with pytest.raises(ValueError):
        uplink.message("m-1", "A123", "c-9", "x" * 10_001, AT)


def test_capture() -> None:
    payload = roundtrip(uplink.capture("cap-1", "visitor_id", {"visit_id": "v-1"}, AT, JPEG))
    assert payload == {
        "v": 1,
        "type": "capture",
        "capture_id": "cap-1",
        "purpose": "visitor_id",
        "visit_id": "v-1",
        "taken_at": "2026-11-23T19:00:05.250Z",
        "mime": "image/jpeg",
        "data_b64": b64(JPEG),
    }
    payload = uplink.capture("cap-2", "login_snapshot", {"inmate_id": "A123"}, AT, JPEG)
    assert payload["inmate_id"] == "A123" and "visit_id" not in payload
    biggest = b"\xff\xd8\xff" + bytes(PHOTO_MAX_BYTES - 3)
    assert len(uplink.capture("c", "visitor_face", {"visit_id": "v"}, AT, biggest)["data_b64"])
    for subject in ({}, {"visit_id": "v", "inmate_id": "i"}, {"contact_id": "c"}):
        with pytest.raises(ValueError):
            uplink.capture("c", "visitor_face", subject, AT, JPEG)
    with pytest.raises(ValueError):
        uplink.capture("c", "selfie", {"visit_id": "v"}, AT, JPEG)
    with pytest.raises(ValueError):
        uplink.capture("c", "visitor_face", {"visit_id": "v"}, AT, PNG)
    with pytest.raises(ValueError):
        uplink.capture("c", "visitor_face", {"visit_id": "v"}, AT, biggest + b"\x00")


def test_command_result() -> None:
    assert roundtrip(uplink.command_result("cmd-1", True, None, AT)) == {
        "v": 1,
        "type": "command_result",
        "command_id": "cmd-1",
        "ok": True,
        "at": "2026-11-23T19:00:05.250Z",
    }
    assert roundtrip(uplink.command_result("cmd-1", False, "expired", AT)) == {
        "v": 1,
        "type": "command_result",
        "command_id": "cmd-1",
        "ok": False,
        "error": "expired",
        "at": "2026-11-23T19:00:05.250Z",
    }
    with pytest.raises(ValueError):
        uplink.command_result("cmd-1", False, None, AT)
    with pytest.raises(ValueError):
        uplink.command_result("cmd-1", True, "oops", AT)
    with pytest.raises(ValueError):
        uplink.command_result("cmd-1", 1, None, AT)


def test_signal_builder_and_parser_agree() -> None:
    cases = [
        ({"kind": "ready"}, {}),
        ({"kind": "offer", "sdp": "v=0\r\n"}, {"sdp": "v=0\r\n"}),
        ({"kind": "answer", "sdp": "v=0\r\n"}, {"sdp": "v=0\r\n"}),
        (
            {"kind": "candidate", "candidate": "candidate:1", "sdp_mid": "0", "sdp_mline_index": 0},
            {"candidate": "candidate:1", "sdp_mid": "0", "sdp_mline_index": 0},
        ),
        ({"kind": "bye", "reason": "hangup"}, {"reason": "hangup"}),
    ]
    for arguments, extra in cases:
        payload = roundtrip(uplink.signal("v-1", "hu-b-01", **arguments))
        assert payload == {
            "v": 1,
            "type": "signal",
            "visit_id": "v-1",
            "from_kiosk_id": "hu-b-01",
            "kind": arguments["kind"],
            **extra,
        }
        # The cloud relays the payload as it is: the peer's parser must take it.
        assert parse_downlink("signal", uplink.encode(payload)).kind == arguments["kind"]
    for arguments in (
        {"kind": "wave"},
        {"kind": "offer"},
        {"kind": "ready", "sdp": "v=0"},
        {"kind": "candidate"},
        {"kind": "bye", "candidate": "c"},
        {"kind": "ready", "reason": "x"},
        {"kind": "candidate", "candidate": "c", "sdp_mline_index": -1},
    ):
        with pytest.raises(ValueError):
            uplink.signal("v-1", "hu-b-01", **arguments)
