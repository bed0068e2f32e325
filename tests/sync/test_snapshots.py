"""Retained snapshots (delivery rule 3) with a real kiosk process on a real Mosquitto.

``config``, ``schedule``, ``residents`` and ``notice`` replace what the kiosk holds as a whole;
schedule and residents versions never go backwards; the broker hands every retained snapshot to
a kiosk that (re)subscribes, and ``resync`` makes it do so on purpose. What is checked is what
an operator checks: the kiosk's SQLite (``snapshots``, ``visits``, ``residents``,
``badge_lookups``), its telemetry, its events, and what the core shows when it starts on that
database.
"""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cloudsim.sim import CloudSim, make_resident, make_visit
from kiosk.assembly import build_kiosk
from kiosk.core.credentials import badge_lookup
from kiosk.core.kiosk import Kiosk
from kiosk.store.database import connect
from kiosk.store.schedule import ScheduleRepository
from tests.conftest import make_config
from tests.sync.conftest import FACILITY
from tests.waiting import wait_until

SOON = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
BADGE_KEY = b"cloudsim-badge-key"  # CloudSim's default, which make_resident uses


def visit(visit_id: str, hours: float = 0, inmate: str = "A1024", name: str = "J. Doe") -> dict:
    return make_visit(
        visit_id, SOON + timedelta(hours=hours), 30, "remote", inmate, name, "R. Alvarez"
    )


def rows(database_path: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """A read-only look at the kiosk's database, as with the sqlite3 shell (also while it runs)."""
    conn = connect(database_path, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def snapshot(database_path: Path, kind: str) -> tuple[int | None, str, dict] | None:
    """(version, applied_at, payload) of the applied ``kind`` snapshot, or None."""
    found = rows(
        database_path, "SELECT version, applied_at, payload FROM snapshots WHERE kind = ?", (kind,)
    )
    if not found:
        return None
    version, applied_at, payload = found[0]
    return version, applied_at, json.loads(payload)


def visit_ids(database_path: Path) -> list[str]:
    return [r[0] for r in rows(database_path, "SELECT visit_id FROM visits ORDER BY visit_id")]


def start_online(cloud: CloudSim, kiosk) -> float:
    """Start the kiosk process; return once the cloud saw it come online (a monotonic time)."""
    since = time.monotonic()
    kiosk.start()
    cloud.wait_for(
        lambda r: r.kind == "status" and r["state"] == "online",
        kiosk_id=kiosk.kiosk_id,
        since=since,
        timeout=20,
    )
    return since


def barrier(cloud: CloudSim, kiosk_id: str) -> str:
    """Everything published to the kiosk before now has been handled once this returns: the
    kiosk reads its downlink in order and answers this command after what came first. Returns
    the kiosk's own time of the command's ``selftest`` event."""
    command_id = cloud.send_command(kiosk_id, "selftest")
    cloud.wait_for(
        lambda r: r.kind == "cmd-result" and r["command_id"] == command_id,
        kiosk_id=kiosk_id,
        timeout=15,
    )
    # The event is queued before the answer, and the outbox keeps order: the last one is it.
    return [r for r in cloud.received("events", kiosk_id) if r["kind"] == "selftest"][-1]["at"]


def telemetry_after(cloud: CloudSim, kiosk_id: str) -> dict:
    """Telemetry the kiosk composed after everything published to it so far was handled (the
    selftest event makes it report at once)."""
    handled_at = barrier(cloud, kiosk_id)
    return cloud.wait_for(
        lambda r: r.kind == "telemetry" and r["at"] >= handled_at, kiosk_id=kiosk_id, timeout=15
    )[0]


def assert_log_clean(kiosk) -> None:
    """What the technician greps the kiosk's log for: no error, no traceback."""
    text = kiosk.log()
    assert " ERROR " not in text and "Traceback" not in text, text[-2000:]


def rejections(cloud: CloudSim, kiosk_id: str) -> list[dict]:
    return [r for r in cloud.received("events", kiosk_id) if r["kind"] == "payload_rejected"]


def core_on(database_path: Path, kiosk_id: str) -> Kiosk:
    """The kiosk core as it starts on this database: what the screens would show."""
    config = make_config(
        database_path.parent.parent / "core", kiosk_id=kiosk_id, facility_id=FACILITY, brokers=()
    )
    return build_kiosk(dataclasses.replace(config, data_dir=database_path.parent))


def test_a_schedule_or_residents_with_a_lower_version_is_ignored(broker, cloud, kiosk_process):
    kiosk = kiosk_process("hu-lower")
    start_online(cloud, kiosk)
    cloud.publish_schedule("hu-lower", 5, [visit("v-a"), visit("v-b", 1)])
    cloud.publish_residents("hu-lower", 9, [make_resident("A1024", "B-1", "J. Doe", "1234")])
    barrier(cloud, "hu-lower")
    assert snapshot(kiosk.database_path, "schedule")[0] == 5

    # The cloud rolls back (a restored backup, a replayed old message): the kiosk must not.
    cloud.publish_schedule("hu-lower", 3, [visit("v-old")])
    cloud.publish_residents("hu-lower", 2, [make_resident("Z9", "B-9", "Old Roll", "9999")])
    telemetry = telemetry_after(cloud, "hu-lower")  # what the cloud's console shows
    assert telemetry["schedule_version"] == 5 and telemetry["residents_version"] == 9
    assert [r["schedule_version"] for r in cloud.received("telemetry", "hu-lower")].count(3) == 0
    assert not rejections(cloud, "hu-lower")  # an old version is valid, just not applied

    # The retained v3 is what the broker now holds: a restart must still not go back.
    assert kiosk.terminate() == 0
    start_online(cloud, kiosk)
    barrier(cloud, "hu-lower")
    assert kiosk.terminate() == 0
    assert_log_clean(kiosk)
    path = kiosk.database_path
    assert visit_ids(path) == ["v-a", "v-b"]
    version, _, payload = snapshot(path, "schedule")
    assert version == 5 and payload["version"] == 5
    assert [v["visit_id"] for v in payload["visits"]] == ["v-a", "v-b"]
    assert rows(path, "SELECT inmate_id FROM residents") == [("A1024",)]
    assert snapshot(path, "residents")[0] == 9


def test_a_snapshot_replaces_the_whole_schedule_and_residents(broker, cloud, kiosk_process):
    kiosk = kiosk_process("hu-whole")
    start_online(cloud, kiosk)
    cloud.publish_schedule("hu-whole", 1, [visit("v-keep"), visit("v-gone", 1)])
    cloud.publish_residents(
        "hu-whole",
        1,
        [
            make_resident("A1", "B-1", "Ann Leaving", "1111", badges=["04A1B2C3"]),
            make_resident("A2", "B-2", "Bo Staying", "2222", badges=["04D4E5F6"]),
        ],
    )
    barrier(cloud, "hu-whole")
    path = kiosk.database_path
    assert visit_ids(path) == ["v-gone", "v-keep"]
    assert len(rows(path, "SELECT lookup FROM badge_lookups")) == 2

    # v2: v-gone was cancelled upstream and simply is not in the list any more; v-keep moved.
    cloud.publish_schedule("hu-whole", 2, [visit("v-keep", 3), visit("v-new", 4)])
    cloud.publish_residents(
        "hu-whole", 2, [make_resident("A2", "B-2", "Bo Staying", "2222", badges=["04AAAAAA"])]
    )
    barrier(cloud, "hu-whole")
    assert kiosk.terminate() == 0
    assert_log_clean(kiosk)

    assert visit_ids(path) == ["v-keep", "v-new"]
    moved = rows(path, "SELECT starts_at FROM visits WHERE visit_id = 'v-keep'")[0][0]
    assert datetime.fromisoformat(moved) == SOON + timedelta(hours=3)
    assert rows(path, "SELECT inmate_id FROM residents") == [("A2",)]
    # The leaver's badge finds nobody; the stayer's old badge neither, only the new one.
    lookups = rows(path, "SELECT lookup, inmate_id FROM badge_lookups")
    assert lookups == [(badge_lookup("04AAAAAA", BADGE_KEY), "A2")]
    assert snapshot(path, "schedule")[0] == 2 and snapshot(path, "residents")[0] == 2


def test_retained_snapshots_published_while_the_kiosk_was_off_are_applied_at_start(
    broker, cloud, kiosk_process
):
    kiosk = kiosk_process("hu-retained")
    start_online(cloud, kiosk)  # known to the broker, then off for a while
    assert kiosk.terminate() == 0

    cloud.publish_config("hu-retained", kiosk_name="Unit B Dayroom 2", session_idle_s=45)
    cloud.publish_schedule("hu-retained", 4, [visit("v-1"), visit("v-2", 1)])
    cloud.publish_residents("hu-retained", 6, [make_resident("A7", "B-7", "Cy Seven", "7777")])
    cloud.publish_notice("Count time: stay in your cells", severity="warning", notice_id="n-count")

    start_online(cloud, kiosk)
    path = kiosk.database_path
    wait_until(
        lambda: all(snapshot(path, kind) for kind in ("config", "schedule", "residents", "notice")),
        15,
        "all four retained snapshots applied",
    )
    telemetry = telemetry_after(cloud, "hu-retained")
    assert telemetry["schedule_version"] == 4 and telemetry["residents_version"] == 6
    assert kiosk.terminate() == 0
    assert_log_clean(kiosk)

    assert visit_ids(path) == ["v-1", "v-2"]
    assert rows(path, "SELECT inmate_id FROM residents") == [("A7",)]
    assert snapshot(path, "config")[2]["kiosk_name"] == "Unit B Dayroom 2"
    core = core_on(path, "hu-retained")
    try:
        view = core.view
        assert view.kiosk_name == "Unit B Dayroom 2"
        assert core.settings.session_idle_s == 45
        assert view.banner == "Count time: stay in your cells"
        assert view.banner_severity == "warning"
        assert core.schedule_version == 4 and core.residents_version == 6
    finally:
        core.close()


def test_the_same_version_again_changes_nothing_and_breaks_nothing(broker, cloud, kiosk_process):
    kiosk = kiosk_process("hu-same")
    start_online(cloud, kiosk)
    visits = [visit("v-1"), visit("v-2", 1)]
    residents = [make_resident("A1", "B-1", "Di One", "1111", badges=["04010203"])]
    cloud.publish_schedule("hu-same", 2, visits)
    cloud.publish_residents("hu-same", 3, residents)
    barrier(cloud, "hu-same")
    path = kiosk.database_path
    tables = ("visits", "residents", "badge_lookups")
    before = {table: rows(path, f"SELECT * FROM {table} ORDER BY 1") for table in tables}

    for _ in range(3):  # the cloud republishes (a cloud restart, a periodic refresh)
        cloud.publish_schedule("hu-same", 2, visits)
        cloud.publish_residents("hu-same", 3, residents)
    barrier(cloud, "hu-same")
    assert kiosk.alive()
    assert not rejections(cloud, "hu-same")
    assert kiosk.terminate() == 0
    assert_log_clean(kiosk)

    after = {table: rows(path, f"SELECT * FROM {table} ORDER BY 1") for table in tables}
    assert after == before
    assert snapshot(path, "schedule")[0] == 2 and snapshot(path, "residents")[0] == 3
    core = core_on(path, "hu-same")
    try:
        held = [row["visit_id"] for row in ScheduleRepository(core.database).visits()]
        assert held == ["v-1", "v-2"]
    finally:
        core.close()


def test_a_retained_notice_with_empty_text_clears_the_banner(broker, cloud, kiosk_process):
    kiosk = kiosk_process("hu-notice")
    start_online(cloud, kiosk)
    path = kiosk.database_path
    cloud.publish_notice("Lockdown: stay where you are", severity="lockdown", notice_id="n-1")
    barrier(cloud, "hu-notice")
    assert snapshot(path, "notice")[2]["text"] == "Lockdown: stay where you are"
    core = core_on(path, "hu-notice")  # what the kiosk shows, read from its database
    try:
        assert core.view.banner == "Lockdown: stay where you are" and core.sessions_blocked
    finally:
        core.close()

    cloud.publish_notice("", notice_id="n-2")  # the lockdown is over
    barrier(cloud, "hu-notice")
    assert kiosk.alive() and not rejections(cloud, "hu-notice")
    assert kiosk.terminate() == 0
    assert_log_clean(kiosk)

    assert snapshot(path, "notice")[2] == {
        "v": 1,
        "type": "notice",
        "notice_id": "n-2",
        "text": "",
        "severity": "info",
    }
    core = core_on(path, "hu-notice")  # and after a reboot
    try:
        view = core.view
        assert (view.banner, view.banner_severity, view.banner_label) == ("", "", "")
        assert not core.sessions_blocked
    finally:
        core.close()


def test_retained_snapshots_cleared_at_the_broker_are_ignored_quietly(broker, cloud, kiosk_process):
    kiosk = kiosk_process("hu-cleared")
    start_online(cloud, kiosk)
    path = kiosk.database_path
    kinds = ("config", "schedule", "residents", "notice")
    cloud.publish_config("hu-cleared", kiosk_name="Unit D kiosk")
    cloud.publish_schedule("hu-cleared", 3, [visit("v-1")])
    cloud.publish_residents("hu-cleared", 3, [make_resident("A3", "B-3", "Al Three", "3333")])
    cloud.publish_notice("Count time", notice_id="n-c")
    barrier(cloud, "hu-cleared")
    held = {kind: snapshot(path, kind)[2] for kind in kinds}

    # An empty retained publish clears a topic at the broker. A connected kiosk gets it at
    # once, one that is off gets it from its session when it is back: both without the retain
    # flag, which the broker sets only on what it hands a new subscription.
    cloud.clear_retained("hu-cleared", notice=True)
    barrier(cloud, "hu-cleared")
    assert kiosk.terminate() == 0
    cloud.clear_retained("hu-cleared", notice=True)
    start_online(cloud, kiosk)
    telemetry = telemetry_after(cloud, "hu-cleared")

    assert not rejections(cloud, "hu-cleared")
    assert telemetry["rejected_payloads"] == 0
    assert {kind: snapshot(path, kind)[2] for kind in kinds} == held  # nothing changed
    assert kiosk.terminate() == 0
    assert_log_clean(kiosk)


def test_resync_receives_every_retained_snapshot_again(broker, cloud, kiosk_process):
    kiosk = kiosk_process("hu-resync")
    cloud.publish_config("hu-resync", kiosk_name="Unit C kiosk")
    cloud.publish_schedule("hu-resync", 8, [visit("v-1")])
    cloud.publish_residents("hu-resync", 8, [make_resident("A8", "B-8", "Ed Eight", "8888")])
    cloud.publish_notice("Visiting hours changed", notice_id="n-r")
    start_online(cloud, kiosk)
    path = kiosk.database_path
    kinds = ("config", "schedule", "residents", "notice")
    wait_until(lambda: all(snapshot(path, k) for k in kinds), 15, "the four snapshots")
    first: dict[str, Any] = {k: snapshot(path, k)[1] for k in kinds}
    time.sleep(1.1)  # applied_at has whole seconds: a second application reads differently

    command_id = cloud.send_command("hu-resync", "resync")
    result = cloud.wait_for(
        lambda r: r.kind == "cmd-result" and r["command_id"] == command_id,
        kiosk_id="hu-resync",
        timeout=20,
    )[0]
    assert result["ok"] is True
    wait_until(
        lambda: all(snapshot(path, k)[1] != first[k] for k in kinds),
        15,
        "every snapshot applied again after resync",
    )
    births = [r for r in cloud.received("status", "hu-resync") if r["state"] == "online"]
    assert len(births) >= 2  # it reconnected to get them
    assert kiosk.terminate() == 0
    assert_log_clean(kiosk)
    assert visit_ids(path) == ["v-1"]
    assert snapshot(path, "schedule")[0] == 8 and snapshot(path, "residents")[0] == 8
