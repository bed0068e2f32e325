"""The contract's ``selftest`` command: every device really exercised, the kiosk still answering."""

from __future__ import annotations

from sqlite_utils import Database

from kiosk.store import open_database
from tests.waiting import wait_until


def _pending_commands(database_path) -> list[dict]:
    """Commands the kiosk took but has no result for yet (read beside the running kiosk)."""
    database = open_database(database_path)
    try:
        query = "select id from processed where kind = 'command' and result is null"
        return list(Database(database).query(query))
    finally:
        database.close()


def test_selftest_counts_the_cameras_frames_and_reports_each_device(broker, cloud, kiosk_process):
    kiosk_process("hu-st").start()
    cloud.wait_for(lambda r: r.kind == "status" and r["state"] == "online", timeout=20)
    command_id = cloud.send_command("hu-st", "selftest")
    result = cloud.wait_for(lambda r: r.kind == "cmd-result" and r["command_id"] == command_id)[0]
    assert result["ok"] is True and result.get("error") is None
    event = [r for r in cloud.received("events", "hu-st") if r["kind"] == "selftest"][-1]
    hardware = event["detail"]["hardware"]
    assert event["detail"]["ok"] is True
    # Frames counted off the camera, not just its state read: the self-test turned it on.
    assert hardware["camera"]["state"] == "ok"
    assert hardware["camera"]["frames"] == 30
    assert hardware["camera"]["width"] > 0 and hardware["camera"]["fps"] > 0
    # Nobody is at the kiosk to lift the handset or present a card: only checked present.
    assert hardware["handset"]["state"] == "ok"
    assert "not exercised" in hardware["handset"]["detail"]
    assert hardware["badge_reader"]["state"] == "ok"


def test_commands_sent_during_a_selftest_are_answered_before_it_ends(broker, cloud, kiosk_process):
    kiosk = kiosk_process("hu-st2").start()
    cloud.wait_for(lambda r: r.kind == "status" and r["state"] == "online", timeout=20)
    selftest_id = cloud.send_command("hu-st2", "selftest")
    lock_id = cloud.send_command("hu-st2", "lock", {"reason": "count"})
    cloud.wait_for(lambda r: r.kind == "cmd-result" and r["command_id"] == selftest_id, timeout=30)
    order = [
        r["command_id"]
        for r in cloud.received("cmd-result", "hu-st2")
        if r["command_id"] in (selftest_id, lock_id)
    ]
    # The lock did not wait behind a second of camera frames.
    assert order == [lock_id, selftest_id]
    # Once answered, a self-test is no longer pending: a restart does not call it interrupted.
    wait_until(lambda: not _pending_commands(kiosk.database_path), 10, "no command pending")
    assert kiosk.terminate() == 0
    assert _pending_commands(kiosk.database_path) == []
