"""Nothing is lost, both ways: the outbox across kills and restarts, the inbox exactly once."""

from __future__ import annotations

import json
import random
import time
import uuid
from datetime import UTC, datetime

from sqlite_utils import Database

from kiosk.contract import builders as uplink
from kiosk.store import open_database
from kiosk.store.outbox import OutboxRepository
from tests.sync.conftest import FACILITY
from tests.waiting import wait_until


def _queue_events(database_path, count: int, *, start: int = 0) -> list[str]:
    """Records a kiosk wrote before it could send them: what a long outage leaves behind."""
    database = open_database(database_path)
    outbox = OutboxRepository(database, budget_bytes=1 << 30)
    ids, records = [], []
    for index in range(start, start + count):
        event_id = f"e-{index:06d}-{uuid.uuid4().hex[:6]}"
        payload = uplink.event(event_id, datetime.now(UTC), "test", {"n": index})
        ids.append(event_id)
        records.append(
            (
                f"kiosk/v1/{FACILITY}/{database_path.parent.name}/up/events",
                event_id,
                uplink.encode(payload),
            )
        )
    outbox.append_many(records)
    database.close()
    return ids


def _outbox_depth(database_path) -> int:
    database = open_database(database_path)
    try:
        return OutboxRepository(database, budget_bytes=1 << 30).depth()
    finally:
        database.close()


def _stored(database_path, message_id: str) -> bool:
    """Whether the kiosk, running, has stored the message (its database is read beside it)."""
    database = open_database(database_path)
    try:
        query = "select 1 from messages where message_id = ?"
        return bool(list(Database(database).query(query, [message_id])))
    finally:
        database.close()


def _first_arrivals(cloud, kiosk_id: str) -> list[str]:
    seen, order = set(), []
    for record in cloud.received("events", kiosk_id):
        if record["kind"] != "test":
            continue
        if record["event_id"] not in seen:
            seen.add(record["event_id"])
            order.append(record["event_id"])
    return order


def test_killed_at_random_moments_while_draining_loses_nothing(broker, cloud, kiosk_process):
    kiosk = kiosk_process("hu-kill")
    kiosk.data_dir.mkdir(parents=True)
    ids = _queue_events(kiosk.database_path, 2000)
    rng = random.Random(20261122)
    for _ in range(20):
        kiosk.start()
        time.sleep(rng.uniform(0.2, 1.2))  # start-up, connect, and part of the drain
        kiosk.kill()
    since = time.monotonic()
    kiosk.start()
    cloud.wait_for(lambda r: r.kind == "status" and r["state"] == "online", since=since, timeout=20)
    wait_until(lambda: len(_first_arrivals(cloud, "hu-kill")) == 2000, 60, "all 2000 records")
    wait_until(lambda: _outbox_depth(kiosk.database_path) == 0, 20, "an empty outbox")
    assert kiosk.terminate() == 0

    arrivals = _first_arrivals(cloud, "hu-kill")
    assert arrivals == ids  # every record, first arrivals in the order they were queued
    copies = cloud.ids_seen("events", "hu-kill")
    extra = {event_id: n for event_id, n in copies.items() if n > 1 and event_id in set(ids)}
    # Duplicates only by id: a copy is byte-for-byte the same record.
    for record in cloud.received("events", "hu-kill"):
        if record["event_id"] in extra:
            assert record["detail"]["n"] == ids.index(record["event_id"])


def test_broker_restarted_mid_traffic_loses_nothing_and_keeps_order(broker, cloud, kiosk_process):
    kiosk = kiosk_process("hu-restart").start()
    cloud.wait_for(lambda r: r.kind == "status" and r["state"] == "online", timeout=20)
    ids = _queue_events(kiosk.database_path, 1500)
    # Part of it on the wire: the restart comes mid-traffic.
    wait_until(lambda: _first_arrivals(cloud, "hu-restart"), 15.0, "the first records at the cloud")
    broker.restart()
    more = _queue_events(kiosk.database_path, 500, start=1500)  # written while the broker was down
    # A command sent after the restart, before the kiosk is back, waits in its session.
    command_id = cloud.send_command("hu-restart", "lock", {"reason": "count"})
    wait_until(lambda: len(_first_arrivals(cloud, "hu-restart")) == 2000, 60, "all records")
    assert _first_arrivals(cloud, "hu-restart") == ids + more
    results = cloud.wait_for(
        lambda r: r.kind == "cmd-result" and r["command_id"] == command_id, timeout=30
    )
    assert results[0]["ok"] is True
    assert kiosk.alive()


def test_a_duplicate_command_is_answered_again_not_run_twice(broker, cloud, kiosk_process):
    kiosk_process("hu-dup").start()
    cloud.wait_for(lambda r: r.kind == "status" and r["state"] == "online", timeout=20)
    command_id = cloud.send_command("hu-dup", "selftest")
    first = cloud.wait_for(lambda r: r.kind == "cmd-result" and r["command_id"] == command_id)
    cloud.send_command("hu-dup", "selftest", command_id=command_id)
    both = cloud.wait_for(
        lambda r: r.kind == "cmd-result" and r["command_id"] == command_id, count=2
    )
    assert dict(both[1]) == dict(first[0])  # the very same answer, time included
    # Each run sends its selftest event before its result: a second run would show here.
    selftests = wait_until(
        lambda: [r for r in cloud.received("events", "hu-dup") if r["kind"] == "selftest"],
        15.0,
        "the self-test's event",
    )
    assert len(selftests) == 1  # run once


def test_a_duplicate_that_comes_while_the_first_copy_runs_is_answered_when_it_ends(
    broker, cloud, kiosk_process
):
    kiosk_process("hu-dup-run").start()
    cloud.wait_for(lambda r: r.kind == "status" and r["state"] == "online", timeout=20)
    command_id = cloud.send_command("hu-dup-run", "selftest")  # runs for a second or more
    cloud.send_command("hu-dup-run", "selftest", command_id=command_id)
    # The second copy went out before any answer: it reaches the kiosk while the self-test
    # (30 camera frames in a worker thread) is still running.
    assert not cloud.received("cmd-result", "hu-dup-run")

    both = cloud.wait_for(
        lambda r: r.kind == "cmd-result" and r["command_id"] == command_id, count=2, timeout=30
    )
    assert dict(both[1]) == dict(both[0])  # the first result, time included
    # Each run sends its selftest event before its result: a second run would show here.
    selftests = [r for r in cloud.received("events", "hu-dup-run") if r["kind"] == "selftest"]
    assert len(selftests) == 1


def test_an_expired_command_is_answered_expired(broker, cloud, kiosk_process):
    kiosk = kiosk_process("hu-exp").start()
    cloud.wait_for(lambda r: r.kind == "status" and r["state"] == "online", timeout=20)
    command_id = cloud.send_command("hu-exp", "lock", {"reason": "x"}, expires_in_s=-5)
    result = cloud.wait_for(lambda r: r.kind == "cmd-result" and r["command_id"] == command_id)[0]
    assert result["ok"] is False and result["error"] == "expired"
    assert kiosk.alive()


def test_messages_and_statuses_are_applied_once_and_acknowledged_after_commit(
    broker, cloud, kiosk_process
):
    kiosk = kiosk_process("hu-msg").start()
    cloud.wait_for(lambda r: r.kind == "status" and r["state"] == "online", timeout=20)
    message_id = cloud.send_message("hu-msg", "A1024", "Hola", photos=2)
    cloud.send_message("hu-msg", "A1024", "Hola again, same id", message_id=message_id)
    # Delivered in order behind both copies: once it is stored, both were handled.
    behind = cloud.send_message("hu-msg", "A1024", "after the copies")
    wait_until(lambda: _stored(kiosk.database_path, behind), 15.0, "the message after the copies")
    assert kiosk.terminate() == 0
    database = open_database(kiosk.database_path)
    rows = list(
        Database(database).query("select body from messages where message_id = ?", [message_id])
    )
    assert rows == [{"body": "Hola"}]  # the first copy, once
    photos = list(
        Database(database).query("select count(*) n from photos where message_id = ?", [message_id])
    )
    assert photos == [{"n": 2}]
    database.close()
    # Acknowledged: a restart does not bring it back a second time.
    kiosk.start()
    cloud.wait_for(lambda r: r.kind == "status" and r["state"] == "online", count=2, timeout=20)
    # Sent now, it comes behind anything the kiosk's session still had for it.
    behind = cloud.send_message("hu-msg", "A1024", "after the restart")
    wait_until(lambda: _stored(kiosk.database_path, behind), 15.0, "the message after the restart")
    assert kiosk.terminate() == 0
    database = open_database(kiosk.database_path)
    count = list(
        Database(database).query(
            "select count(*) n from messages where message_id = ?", [message_id]
        )
    )
    assert count == [{"n": 1}]
    database.close()


def test_bad_payloads_are_rejected_with_an_event_and_the_kiosk_keeps_running(
    broker, cloud, kiosk_process
):
    kiosk = kiosk_process("hu-bad").start()
    cloud.wait_for(lambda r: r.kind == "status" and r["state"] == "online", timeout=20)
    root = f"kiosk/v1/{FACILITY}/hu-bad/down"
    secret = "ZZ-PRIVATE-ZZ"
    cloud.send_raw(f"{root}/schedule", b"\xff\xfe not utf-8")
    cloud.send_raw(f"{root}/cmd", json.dumps({"v": 1, "type": "command", "name": secret}))
    cloud.send_raw(f"{root}/inbox", json.dumps({"v": 2, "type": "message", "body": secret}))
    events = cloud.wait_for(
        lambda r: r.kind == "events" and r["kind"] == "payload_rejected", count=3, timeout=20
    )
    topics = sorted(event["detail"]["topic"] for event in events)
    assert topics == sorted(f"{root}/{kind}" for kind in ("schedule", "cmd", "inbox"))
    for event in events:
        assert event["detail"]["reason"] and secret not in json.dumps(dict(event))
    # Still working: a good command is answered.
    command_id = cloud.send_command("hu-bad", "unlock")
    assert cloud.wait_for(lambda r: r.kind == "cmd-result" and r["command_id"] == command_id)
    telemetry = cloud.wait_for(
        lambda r: r.kind == "telemetry" and r["rejected_payloads"] == 3, timeout=20
    )
    assert telemetry
    assert kiosk.alive()
