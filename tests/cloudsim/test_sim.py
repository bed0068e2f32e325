"""CloudSim against a real Mosquitto, with a plain paho client as the kiosk."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest

from cloudsim.sim import HOLD, CloudSim, make_resident, make_visit
from demo.cloud import publish_facility
from demo.facility import DEMO_BADGE_KEY
from kiosk.contract import builders
from kiosk.core.credentials import badge_lookup, check_verifier

NOW = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)


def outbox(message_id: str, body: str = "See you Sunday") -> dict:
    """A message as the kiosk builds it (the cloud checks it with the same model)."""
    return builders.message(message_id, "A1024", "c-1", body, NOW)


def signal(visit_id: str, kind: str, sender: str, **fields) -> dict:
    return builders.signal(visit_id, sender, kind, **fields)


def birth() -> dict:
    return builders.status("online", "connected", "0.1.0", "housing", NOW, "Housing B")


def test_retained_snapshots_reach_a_kiosk_that_subscribes_later(sim, connect_kiosk):
    visit = make_visit(
        "v-1", NOW, 30, "onsite", "A1024", "M. Alvarez", "R. Alvarez", "lobby-01", "ab12cd"
    )
    resident = make_resident("A1024", "B-1", "M. Alvarez", "4321", badges=["04a1b2c3d4"])
    sim.publish_config("hu-01", kiosk_name="Housing B")
    sim.publish_schedule("hu-01", 7, [visit])
    sim.publish_residents("hu-01", 3, [resident])
    sim.publish_notice("Count time", severity="warning", notice_id="n-1")

    got = {kind: (payload, retained) for kind, payload, retained in connect_kiosk("hu-01").take(4)}

    assert all(retained for _, retained in got.values())
    config = got["config"][0]
    assert config["type"] == "config" and config["v"] == 1
    assert (config["role"], config["kiosk_name"], config["housing_unit"]) == (
        "housing",
        "Housing B",
        "B",
    )
    schedule = got["schedule"][0]
    assert schedule["version"] == 7
    (sent,) = schedule["visits"]
    assert sent["starts_at"] == "2026-11-23T19:00:00.000Z"
    assert sent["ends_at"] == "2026-11-23T19:30:00.000Z"
    assert sent["peer"] == {"kiosk_id": "lobby-01"}
    assert check_verifier("AB12CD", sent["visitor"]["confirmation_code_verifier"])
    (person,) = got["residents"][0]["residents"]
    assert check_verifier("4321", person["pin_verifier"])
    key = base64.b64decode(config["badge_key_b64"])
    assert person["badge_lookups"] == [badge_lookup("04A1B2C3D4", key)]
    assert got["notice"][0] == {
        "v": 1,
        "type": "notice",
        "notice_id": "n-1",
        "text": "Count time",
        "severity": "warning",
    }


def test_a_message_is_received_then_approved(sim, connect_kiosk):
    hu = connect_kiosk("hu-01")
    hu.publish("outbox", outbox("m-1"))

    answers = [payload for _, payload, _ in hu.take(2)]

    assert [(a["type"], a["message_id"], a["status"]) for a in answers] == [
        ("message_status", "m-1", "received"),
        ("message_status", "m-1", "approved"),
    ]
    (record,) = sim.received("outbox", "hu-01")
    assert record["body"] == "See you Sunday" and record.kiosk_id == "hu-01"
    assert not record.retained and not record.duplicate and record.at <= time.monotonic()


def test_a_message_with_reject_is_rejected_with_its_credit_refunded(sim, connect_kiosk):
    hu = connect_kiosk("hu-01")
    hu.publish("outbox", outbox("m-2", "please REJECT this"))

    received, decided = (payload for _, payload, _ in hu.take(2))

    assert received["status"] == "received"
    assert decided["status"] == "rejected"
    assert decided["credits_refunded"] == 1 and decided["reason"]


def test_the_cloud_bills_each_message_and_gives_the_balance_back_with_a_refund(sim, connect_kiosk):
    hu = connect_kiosk("hu-01")
    sim.publish_residents("hu-01", 1, [make_resident("A1024", "B-1", "M. Alvarez", "1", credits=5)])
    hu.take(1)  # the residents snapshot
    hu.publish("outbox", outbox("m-3", "please REJECT this"))

    received, decided = (payload for _, payload, _ in hu.take(2))

    assert received["message_credits"] == 4  # billed
    assert decided["credits_refunded"] == 1 and decided["message_credits"] == 5


def test_a_duplicate_message_is_recorded_and_answered_once(sim, connect_kiosk):
    hu = connect_kiosk("hu-01")
    hu.publish("outbox", outbox("m-3"))
    hu.publish("outbox", outbox("m-3"))

    sim.wait_for("outbox", count=2)
    answers = [payload["status"] for _, payload, _ in hu.take(2)]

    assert answers == ["received", "approved"]
    assert hu.nothing_more()
    assert sim.ids_seen("outbox") == {"m-3": 2}
    assert [r.duplicate for r in sim.received("outbox")] == [False, True]


def test_the_second_answer_waits_for_the_delay_and_policy(broker, facility, connect_kiosk):
    held = []

    def policy(message):
        held.append(message["message_id"])
        return HOLD

    with CloudSim(broker.url, facility, approve_delay=0.3, policy=policy):
        hu = connect_kiosk("hu-01")
        hu.publish("outbox", outbox("m-4"))
        assert hu.next()[1]["status"] == "received"
        assert hu.nothing_more(0.6)
    assert held == ["m-4"]


def test_signals_are_relayed_between_the_kiosks_of_a_visit(sim, connect_kiosk):
    visit = "v-9"
    sim.publish_schedule(
        "hu-01", 1, [make_visit(visit, NOW, 30, "onsite", "A1", "A", "B", "lobby-01")]
    )
    sim.publish_schedule(
        "lobby-01", 1, [make_visit(visit, NOW, 30, "onsite", "A1", "A", "B", "hu-01")]
    )
    hu, lobby = connect_kiosk("hu-01"), connect_kiosk("lobby-01")
    hu.take(1), lobby.take(1)  # the retained schedules

    hu.publish("signal", signal(visit, "offer", "spoofed", sdp="v=0"))
    kind, offer, _ = lobby.next()
    lobby.publish("signal", signal(visit, "answer", "lobby-01", sdp="v=0"))
    _, answer, _ = hu.next()

    assert kind == "signal"
    assert (offer["kind"], offer["visit_id"], offer["from_kiosk_id"]) == ("offer", visit, "hu-01")
    assert (answer["kind"], answer["from_kiosk_id"]) == ("answer", "lobby-01")
    assert sim.visit_parties(visit) == {"hu-01", "lobby-01"}


def test_a_signal_for_an_unknown_visit_is_dropped(sim, connect_kiosk):
    sim.publish_schedule(
        "hu-01", 1, [make_visit("v-1", NOW, 30, "onsite", "A1", "A", "B", "lobby-01")]
    )
    hu, lobby = connect_kiosk("hu-01"), connect_kiosk("lobby-01")
    hu.take(1)

    hu.publish("signal", signal("v-unknown", "ready", "hu-01"))
    lobby.publish("signal", signal("v-nobody", "ready", "lobby-01"))

    sim.wait_for("signal", count=2)
    assert sorted(s["visit_id"] for s in sim.dropped_signals()) == ["v-nobody", "v-unknown"]
    assert hu.nothing_more() and lobby.nothing_more(0.1)


def test_wait_for_times_out_naming_what_did_arrive(sim, connect_kiosk):
    hu = connect_kiosk("hu-01")
    hu.publish("status", birth(), retain=True)
    hu.publish("outbox", {"v": 1, "type": "message"})
    sim.wait_for("status")

    with pytest.raises(TimeoutError) as caught:
        sim.wait_for("events", count=2, timeout=0.2, kiosk_id="hu-01")

    text = str(caught.value)
    assert "waited 0.2 s for 2 × events from hu-01, 0 matched" in text
    assert "hu-01: status×1" in text
    assert "malformed: 1 (hu-01 outbox: message_id: required" in text


def test_retained_status_includes_one_there_before_the_cloud(broker, facility, connect_kiosk):
    hu = connect_kiosk("hu-01")
    hu.publish("status", birth(), retain=True)  # retained by the broker once this returns

    with CloudSim(broker.url, facility) as cloud:
        cloud.wait_for("status", kiosk_id="hu-01", timeout=5)
        status = cloud.retained_status("hu-01")

    assert status is not None and status["state"] == "online" and status.retained


def test_commands_carry_id_issue_and_expiry(sim, connect_kiosk):
    hu = connect_kiosk("hu-01")

    command_id = sim.send_command("hu-01", "lock", {"reason": "count"})
    expired_id = sim.send_command("hu-01", "reboot", command_id="c-old", expires_in_s=-60)

    (_, first, _), (_, second, _) = hu.take(2)
    assert first["command_id"] == command_id and first["name"] == "lock"
    assert first["args"] == {"reason": "count"} and second["args"] == {}
    issued = datetime.fromisoformat(first["issued_at"])
    assert datetime.fromisoformat(first["expires_at"]) - issued == timedelta(seconds=300)
    assert abs(issued - datetime.now(UTC)) < timedelta(seconds=5)
    assert second["command_id"] == expired_id == "c-old"
    assert datetime.fromisoformat(second["expires_at"]) < datetime.now(UTC)

    hu.publish(
        "cmd-result",
        {
            "v": 1,
            "type": "command_result",
            "command_id": "c-old",
            "ok": False,
            "error": "expired",
            "at": "2026-11-23T19:00:00Z",
        },
    )
    assert sim.wait_for(lambda r: r["command_id"] == "c-old")[0]["error"] == "expired"


def test_messages_carry_decodable_photos(sim, connect_kiosk):
    hu = connect_kiosk("hu-01")

    message_id = sim.send_message("hu-01", "A1024", "Hola", photos=2)

    kind, message, retained = hu.next()
    assert (kind, message["message_id"], retained) == ("inbox", message_id, False)
    assert message["from"] == {"contact_id": "c-1", "display_name": "R. Alvarez"}
    assert len(message["photos"]) == 2
    for photo in message["photos"]:
        data = np.frombuffer(base64.b64decode(photo["data_b64"]), np.uint8)
        assert photo["mime"] == "image/jpeg" and cv2.imdecode(data, cv2.IMREAD_COLOR) is not None


def test_raw_payloads_and_clearing_retained(sim, connect_kiosk):
    hu = connect_kiosk("hu-01")
    sim.send_raw(sim.topics("hu-01").down("inbox"), b"{not json")
    assert hu.next() == ("inbox", b"{not json", False)
    hu.close()

    sim.publish_config("hu-01")
    sim.publish_schedule("hu-01", 1, [])
    sim.clear_retained("hu-01")

    assert connect_kiosk("hu-01").nothing_more()


def test_the_demo_facility_matches_the_offline_demo(sim, connect_kiosk):
    hu, lobby = connect_kiosk("demo-hu-01"), connect_kiosk("demo-lobby-01")

    publish_facility(sim, "demo-hu-01", "demo-lobby-01")

    at_hu = hu.take(5)
    at_lobby = dict((kind, payload) for kind, payload, _ in lobby.take(2))
    by_kind = {kind: payload for kind, payload, _ in at_hu}
    assert [kind for kind, _, _ in at_hu].count("inbox") == 2
    assert all(len(p["photos"]) == 1 for k, p, _ in at_hu if k == "inbox")
    alvarez, johnson = by_kind["residents"]["residents"]
    assert (alvarez["display_name"], alvarez["message_credits"], alvarez["language"]) == (
        "M. Alvarez",
        12,
        "es",
    )
    assert check_verifier("1234", alvarez["pin_verifier"])
    assert alvarez["badge_lookups"] == [badge_lookup("04A1B2C3D4", DEMO_BADGE_KEY)]
    assert (johnson["inmate_id"], johnson["message_credits"]) == ("A2048", 3)
    assert johnson["badge_lookups"] == [badge_lookup("04E5F60718", DEMO_BADGE_KEY)]
    assert base64.b64decode(by_kind["config"]["badge_key_b64"]) == DEMO_BADGE_KEY
    first = by_kind["schedule"]["visits"][0]
    soon = datetime.fromisoformat(first["starts_at"]) - datetime.now(UTC)
    assert timedelta(minutes=23) < soon <= timedelta(minutes=25)  # DEMO_VISIT_IN_MINUTES
    assert first["peer"] == {"kiosk_id": "demo-lobby-01"}
    assert [v["status"] for v in by_kind["schedule"]["visits"]] == [
        "scheduled",
        "scheduled",
        "cancelled",
    ]
    assert at_lobby["config"]["role"] == "lobby" and "housing_unit" not in at_lobby["config"]
    lobby_visit = at_lobby["schedule"]["visits"][0]
    assert lobby_visit["peer"] == {"kiosk_id": "demo-hu-01"}
    assert "confirmation_code_verifier" in lobby_visit["visitor"]
    assert "confirmation_code_verifier" not in first["visitor"]
    assert sim.visit_parties("v-demo-1") == {"demo-hu-01", "demo-lobby-01"}
