"""The contract package itself: what it may import, its size, and the uplink and enrollment models
as the cloud checks them (the downlink is covered by tests/sync/test_payloads.py)."""

from __future__ import annotations

import ast
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kiosk.contract import builders
from kiosk.contract.codec import Rejected, encode, parse_enrollment, parse_uplink
from kiosk.contract.topics import (
    UPLINK_TYPES,
    Topics,
    csr_topic,
    parse_uplink_topic,
    result_topic,
    uplink_filter,
)
from tests.contract.test_front_desk import FAMILY

PACKAGE = Path(__file__).resolve().parents[2] / "kiosk" / "contract"
AT = datetime(2026, 11, 23, 19, 0, 5, 250_000, tzinfo=UTC)
JPEG = b"\xff\xd8\xff\xe0" + bytes(64)
MARK = "ZZSECRETZZ"


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_a_small_module_that_imports_pydantic_and_the_standard_library_only(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) < 400
    for name in imported(path):
        top = name.split(".")[0]
        allowed = top in sys.stdlib_module_names or top in ("pydantic", "pydantic_core")
        assert allowed or name.startswith("kiosk.contract"), f"{path.name} imports {name}"


def each_uplink() -> dict[str, dict]:
    """One payload per uplink topic, as the kiosk builds it."""
    hardware = {"camera": {"state": "ok", "detail": "standby"}, "handset": {"state": "ok"}}
    return {
        "status": builders.status("online", "connected", "0.1.0", "housing", AT, "Kiosk 1"),
        "telemetry": builders.telemetry(AT, 3600, hardware, 0, 5120, False, None, 4, 0, x=None),
        "events": builders.event("e-1", AT, "logout", {"reason": "idle", "at": AT}),
        "outbox": builders.message("m-1", "A1024", "c-1", "Hola", AT),
        "captures": builders.capture("cap-1", "login_snapshot", {"inmate_id": "A1024"}, AT, JPEG),
        "cmd-result": builders.command_result("cmd-1", False, "expired", AT),
        "signal": builders.signal("v-1", "hu-01", "bye", reason="hangup"),
        "applications": builders.application(
            "a-1", "AP-7K2Q9X", AT, "B2026-00311", FAMILY, ["cap-1", "cap-2"]
        ),
        "requests": builders.request(
            "r-1", "application_status", AT, application_number="AP-7K2Q9X", last_name="Alvarez"
        ),
    }


def test_the_cloud_accepts_everything_the_kiosk_builds() -> None:
    payloads = each_uplink()
    assert set(payloads) == set(UPLINK_TYPES)
    for kind, payload in payloads.items():
        assert parse_uplink(kind, encode(payload)).type == UPLINK_TYPES[kind]
    assert parse_uplink("status", builders.WILL_PAYLOAD).reason == "lost"
    assert payloads["telemetry"]["hardware"]["handset"] == {"state": "ok", "detail": ""}


def uplink_reason(kind: str, payload: dict) -> str:
    with pytest.raises(Rejected) as caught:
        parse_uplink(kind, encode(payload))
    assert MARK not in caught.value.reason  # a reason never quotes the payload
    return caught.value.reason


@pytest.mark.parametrize(
    ("kind", "change", "reason"),
    [
        ("status", {"kiosk_name": None}, "version, role, started_at and kiosk_name go together"),
        ("status", {"state": MARK}, "state: expected 'online' or 'offline'"),
        ("telemetry", {"session_active": 1}, "session_active: expected true or false"),
        ("telemetry", {"rejected_payloads": -1}, "rejected_payloads: less than 0"),
        ("events", {"detail": {"reason": MARK}}, "detail.reason: expected one of user"),
        ("events", {"kind": MARK}, "kind: not a snake_case name"),
        ("outbox", {"body": MARK * 1001}, "body: longer than 10000 chars"),
        ("captures", {"visit_id": "v-1"}, "exactly one of visit_id, inmate_id and application_id"),
        ("captures", {"data_b64": "iVBORw0KGgo="}, "data_b64: not an image of its mime type"),
        ("cmd-result", {"error": None, "ok": True, "at": MARK}, "at: not an ISO 8601 UTC time"),
        ("cmd-result", {"error": None}, "error: required when ok is false"),
        ("signal", {"sdp": "v=0"}, "sdp: given with offer and answer, and only with them"),
        ("signal", {"type": "event"}, "type: expected 'signal'"),
    ],
)
def test_the_cloud_rejects_what_breaks_the_contract(kind: str, change: dict, reason: str) -> None:
    payload = {**each_uplink()[kind], **change}
    for key in [key for key, value in change.items() if value is None]:
        del payload[key]  # None takes the field out
    assert uplink_reason(kind, payload).startswith(reason)


def test_unknown_uplink_fields_are_ignored() -> None:
    payload = {**each_uplink()["outbox"], "zz_future": {"nested": [1]}}
    assert parse_uplink("outbox", encode(payload)).body == "Hola"


def enrolled(**fields) -> bytes:
    base = {"v": 1, "type": "enrolled", "request_id": "r-1", "ok": True}
    granted = {"certificate_pem": "C", "ca_pem": "A", "facility_id": "f1", "brokers": ["b"]}
    return encode({**base, **granted, **fields})


def test_enrollment_answers_carry_what_their_outcome_needs() -> None:
    assert parse_enrollment("result", enrolled()).brokers == ["b"]
    refusal = {"ok": False, "error": "token spent"}
    assert parse_enrollment("result", encode({"v": 1, "type": "enrolled", **refusal})).ok is False
    for fields, reason in (
        ({"brokers": None}, "brokers: required when ok is true"),
        ({"brokers": []}, "brokers: empty"),
        ({"error": "x"}, "error: only when ok is false"),
        ({"ok": False}, "error: required when ok is false"),
    ):
        with pytest.raises(Rejected) as caught:
            parse_enrollment("result", enrolled(**fields))
        assert caught.value.reason == reason


def test_an_enroll_request_needs_a_kiosk_id_of_the_contracts_pattern() -> None:
    request = {
        "v": 1,
        "type": "enroll",
        "request_id": "r-1",
        "csr_pem": "-----BEGIN CERTIFICATE REQUEST-----",
        "kiosk_id": "HU_01",
        "role": "housing",
    }
    with pytest.raises(Rejected) as caught:
        parse_enrollment("csr", encode(request))
    assert caught.value.reason == "kiosk_id: not 3 to 40 lowercase letters, digits or '-'"
    assert parse_enrollment("csr", encode({**request, "kiosk_id": "hu-01"})).hardware == {}


def test_the_topic_tree() -> None:
    topics = Topics("f1", "hu-01")
    assert topics.down("notice") == "kiosk/v1/f1/all/down/notice"
    assert topics.up("cmd-result") == "kiosk/v1/f1/hu-01/up/cmd-result"
    assert parse_uplink_topic(topics.up("events")) == ("hu-01", "events")
    assert parse_uplink_topic("kiosk/v1/f1/hu-01/down/cmd") is None
    assert uplink_filter("f1") == "kiosk/v1/f1/+/up/#"
    assert csr_topic("r-1") == "kiosk/v1/provision/r-1/up/csr"
    assert result_topic("r-1") == "kiosk/v1/provision/r-1/down/result"
