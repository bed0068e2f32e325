"""``kiosk-provision status`` and ``collect`` on a scratch root: what they read, what they say
they cannot read, and a bundle without keys or tokens."""

from __future__ import annotations

import json
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cloudsim.enroll import EnrollmentService
from kiosk.contract import builders as uplink
from kiosk.store.database import open_database
from kiosk.store.outbox import OutboxRepository
from kiosk.store.snapshots import SnapshotRepository
from provisioning.collect import redact_config, scrub
from tests.provisioning.conftest import enroll_args, provision, snapshot


def kiosk_database(root: Path) -> None:
    """A kiosk's database as the app leaves it: two records queued, one a camera that went."""
    db = open_database(root / "var/lib/kiosk/kiosk.sqlite3")
    outbox = OutboxRepository(db, budget_bytes=10_000_000)
    at = datetime.now(UTC)
    went = uplink.event(
        "e-1", at, "hardware_changed",
        {"device": "camera", "previous": "ok", "state": "missing", "detail": "unplugged"},
    )  # fmt: skip
    outbox.append("kiosk/v1/f1/hu-01/up/events", "e-1", uplink.encode(went))
    login = uplink.event("e-2", at, "login_failed", {"method": "badge", "inmate_id": None})
    outbox.append("kiosk/v1/f1/hu-01/up/events", "e-2", uplink.encode(login))
    SnapshotRepository(db).replace("schedule", '{"version": 7}', 7)
    db.close()


def test_status_reads_the_configuration_database_and_certificate(
    root: Path, env: dict[str, str], previous: dict
) -> None:
    kiosk_database(root)
    before = snapshot(root)

    result = provision(["status", "--root", str(root), "--json"], env)

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["config"]["kiosk_id"] == "hu-01" and report["config"]["state"] == "ok"
    assert report["certificate"]["subject"] == "hu-01"
    assert report["certificate"]["key_matches"] is True
    assert report["certificate"]["key_file"]["mode"] == "0600"
    database = report["database"]
    assert database["outbox"]["depth"] == 2 and database["outbox"]["by_topic"] == {"events": 2}
    assert database["snapshots"]["schedule"]["version"] == 7
    # Made outside systemd: opened with the key file beside it, and said to be no more than that.
    assert database["encryption"].startswith("a key file beside the data"), database
    assert report["hardware"]["camera"]["state"] == "missing"
    assert report["hardware"]["camera"]["source"] == "unsent event"
    # What cannot be read here is said to be unknown, not guessed.
    assert report["hardware"]["handset"]["state"] == "unknown"
    assert report["service"]["state"] == "unknown"  # no systemctl under --root
    assert report["broker"]["state"] == "unknown"
    assert report["kiosk"]["state"] == "missing"  # no status file: the kiosk never ran here
    assert report["versions"]["python"] and report["versions"]["kiosk"]
    assert snapshot(root) == before  # read-only: not even a WAL file left behind

    shown = provision(["status", "--root", str(root)], env)
    assert shown.returncode == 0 and "outbox" in shown.stdout and "2 records" in shown.stdout


def test_status_reads_what_the_running_kiosk_wrote(root: Path, env: dict[str, str]) -> None:
    """A running kiosk's status file is read before any guess from the journal."""
    from kiosk.store.status_file import STATUS_FILE, write_status

    kiosk_database(root)
    status = {
        "kiosk_id": "hu-01",
        "at": datetime.now(UTC).isoformat(),
        "uptime_s": 3600,
        "brokers": ["mqtts://cloud.facility.example:8883"],
        "connected": True,
        "outbox_depth": 0,
        "hardware": {
            "camera": {"state": "ok", "detail": "standby"},
            "handset": {"state": "missing", "detail": "not found: /dev/kiosk-handset"},
            "badge_reader": {"state": "ok", "detail": "present"},
        },
        "session_active": False,
        "errors": ["07:01:02 warning kiosk.core.kiosk: handset is now missing"],
    }
    write_status(root / "var/lib/kiosk" / STATUS_FILE, status)

    report = json.loads(provision(["status", "--root", str(root), "--json"], env).stdout)
    assert report["kiosk"]["state"] == "ok"
    assert report["broker"]["state"] == "connected"
    assert report["hardware"]["handset"] == {
        "state": "missing", "detail": "not found: /dev/kiosk-handset", "source": "status file",
    }  # fmt: skip
    shown = provision(["status", "--root", str(root)], env).stdout
    assert "handset is now missing" in shown and "reported" in shown

    status["at"] = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    write_status(root / "var/lib/kiosk" / STATUS_FILE, status)
    report = json.loads(provision(["status", "--root", str(root), "--json"], env).stdout)
    assert report["kiosk"]["state"] == "stale"  # not believed: the kiosk is not writing it


def test_status_of_a_kiosk_never_enrolled(root: Path, env: dict[str, str]) -> None:
    result = provision(["status", "--root", str(root), "--json"], env)

    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["config"] == {
        "state": "missing", "path": f"{root}/etc/kiosk/kiosk.toml", "detail": "not enrolled",
    }  # fmt: skip
    assert report["database"]["state"] == "missing"


def test_collect_bundles_diagnostics_without_key_material_or_token(
    tmp_path: Path, root: Path, service: EnrollmentService, env: dict[str, str]
) -> None:
    token = service.issue_token()
    assert provision(enroll_args(root, service.url, f"--token={token}"), env).returncode == 0
    kiosk_database(root)
    key_pem = (root / "etc/kiosk/kiosk.key").read_bytes()
    key_body = [line for line in key_pem.splitlines() if line and not line.startswith(b"-----")]
    out_dir = tmp_path / "out"
    out_dir.mkdir()

    result = provision(["collect", "--root", str(root), "--output", str(out_dir)], env)

    assert result.returncode == 0, result.stderr
    (bundle,) = out_dir.glob("kiosk-diagnostics-hu-01-*.tar.gz")
    assert bundle.stat().st_mode & 0o777 == 0o600
    with tarfile.open(bundle) as archive:
        contents = {
            member.name.split("/", 1)[1]: archive.extractfile(member).read()
            for member in archive.getmembers()
        }
    assert {"status.json", "versions.json", "config/kiosk.toml", "config/tls.json",
            "journal.txt", "selftest.json", "README.txt"} <= set(contents)  # fmt: skip
    everything = b"\n".join(contents.values())
    assert b"PRIVATE KEY" not in everything
    assert not any(line in everything for line in key_body)
    assert token.encode() not in everything
    assert b"SQLite format 3" not in everything  # never the database: residents' data
    database_key = (root / "var/lib/kiosk/database.key").read_bytes()
    assert database_key not in everything and database_key.hex().encode() not in everything
    # The key's path is kept: where it is, not what it is.
    assert b'key_file = "/etc/kiosk/kiosk.key"' in contents["config/kiosk.toml"]
    assert json.loads(contents["selftest.json"])["ok"] is True
    assert json.loads(contents["status.json"])["database"]["outbox"]["depth"] == 2
    assert json.loads(contents["versions.json"])["kiosk"]


def test_collect_dry_run_writes_nothing(tmp_path: Path, root: Path, env: dict[str, str]) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = provision(["collect", "--root", str(root), "--output", str(out_dir), "--dry-run"], env)

    assert result.returncode == 0, result.stderr
    assert "would write" in result.stdout
    assert list(out_dir.iterdir()) == []


def test_secret_values_are_removed_wherever_they_appear() -> None:
    config = (
        '[cloud]\nkey_file = "/etc/kiosk/kiosk.key"\nclaim_token = "tok-123"\n'
        'badge_key = "c2VjcmV0"\npassword="hunter2"\n'
    )
    redacted = redact_config(config)
    assert 'key_file = "/etc/kiosk/kiosk.key"' in redacted
    for secret in ("tok-123", "c2VjcmV0", "hunter2"):
        assert secret not in redacted

    journal = (
        "07:00 kiosk-provision enroll --token tok-456 --facility f1\n"
        "07:01 -----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMG\n-----END PRIVATE KEY-----\n"
        '07:02 {"token": "tok-789"} KIOSK_CLAIM_TOKEN=tok-000\n'
    )
    scrubbed = scrub(journal)
    for secret in ("tok-456", "MIGHAgEAMBMG", "tok-789", "tok-000", "PRIVATE KEY-----"):
        assert secret not in scrubbed
    assert "--facility f1" in scrubbed


def test_selftest_tests_the_devices_of_the_configuration_under_the_root(
    root: Path, env: dict[str, str], previous: dict
) -> None:
    result = provision(["selftest", "--root", str(root), "--json"], env)

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    # The previous configuration asks the camera for 640x480 (the simulated one ignores it).
    assert report["ok"] is True and set(report["hardware"]) == {"camera", "handset", "badge_reader"}
    dry = provision(["selftest", "--root", str(root), "--dry-run"], env)
    assert dry.returncode == 0 and dry.stdout.startswith("would test: camera simulated")
