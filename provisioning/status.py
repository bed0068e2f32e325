"""``kiosk-provision status``: what can be read of the kiosk's state, and "unknown" for the rest.

Read only: the database is opened read-only (no migration, no lock held), the journal and
systemctl are asked, nothing is changed. A running kiosk writes its health (devices, broker
connection, outbox, versions) to ``status.json`` beside its database every 10 s
(kiosk/store/status_file.py): that is read first. Without it (a kiosk that never ran, or an
older one) the connection and device changes are read from its log lines in the journal.
"""

from __future__ import annotations

import argparse
import json
import pwd
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text
from sqlcipher3 import dbapi2 as sqlcipher

from kiosk.config import ConfigError, KioskConfig, load
from kiosk.store.connection import Connection
from kiosk.store.database import StoreError, connect
from kiosk.store.database_key import KEY_FILE_NAME, NO_KEY, SEALED, DatabaseKey, find_key
from kiosk.store.encrypt_in_place import is_plain
from kiosk.store.status_file import STATUS_FILE, read_status
from provisioning import layout
from provisioning.layout import Root
from provisioning.output import Out
from provisioning.sealed_key import CREDENTIAL, SealError, tpm_or_host, unseal
from provisioning.versions import versions

UNKNOWN = "unknown"
# kiosk/sync/service.py's lines: "connected to URL", "disconnected from URL: reason".
_CONNECTION = re.compile(r"(connected to|disconnected from) (mqtts?://\S+?)(?::? |$)(.*)")
# kiosk/sync/link.py's line for a failed attempt: "broker URL: reason; next try in 2.0 s".
_RETRY = re.compile(r"broker (mqtts?://\S+): (.*); next try in")
_DEVICE = re.compile(r"\b(camera|handset|badge_reader) is now (ok|missing|error)(?:: (.*))?$")
# The kiosk writes its status file every 10 s: much older than this, it is not running.
STATUS_STALE_S = 60
JOURNAL_LINES = 2000
_ACTIVE_STATES = ("active", "inactive", "failed", "activating", "deactivating", "reloading")


def add_parser(commands: Any) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "status",
        help="the kiosk's service, broker connection, outbox, devices and versions",
        description=(
            "Show what can be read of the kiosk's state: its configuration and certificate, "
            "the service (systemctl), the broker connection and device changes (the journal), "
            "the outbox and snapshots (its database, read-only), and the software versions. "
            "What cannot be read is shown as unknown. Changes nothing (--dry-run changes nothing "
            "either)."
        ),
    )
    parser.add_argument("--json", action="store_true", help="the status as JSON on stdout")
    return parser


def run(args: argparse.Namespace, out: Out) -> int:
    report = gather(Root(Path(args.root)))
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        _print(out, report)
    return 0 if report["config"]["state"] == "ok" else 1


def gather(
    root: Root,
    *,
    journal: str | None = None,
    loaded: KioskConfig | ConfigError | None = None,
) -> dict[str, Any]:
    """Everything ``status`` shows, as plain data; ``journal``: the kiosk's recent log lines
    when already read (collect reads them once for both); ``loaded``: what
    :func:`try_load_config` gave when already called (collect loads the configuration once)."""
    config, config_report = _config(root, loaded)
    report: dict[str, Any] = {"config": config_report}
    report["certificate"] = _certificate(root, config)
    report["service"] = _service(root)
    report["database"] = _database(root, config)
    kiosk = _kiosk_status(root, config)
    report["kiosk"] = kiosk
    if kiosk["state"] == "ok":
        report["broker"] = _broker_from_status(kiosk["status"])
        report["hardware"] = {
            device: {**health, "source": "status file"}
            for device, health in kiosk["status"]["hardware"].items()
        }
    else:
        if journal is None:
            journal = read_journal(root, ["-n", str(JOURNAL_LINES)])
        report["broker"] = _broker(config, journal)
        report["hardware"] = _hardware(journal, report["database"])
    report["versions"] = versions(root)
    return report


def _kiosk_status(root: Root, config: KioskConfig | None) -> dict[str, Any]:
    """The kiosk's own status file: ``ok`` (fresh), ``stale`` (not running?) or ``missing``."""
    data_dir = config.data_dir if config is not None else Path(str(layout.DATA_DIR))
    path = root(data_dir) / STATUS_FILE
    status = read_status(path)
    if status is None or not isinstance(status.get("hardware"), dict):
        return {"state": "missing", "path": str(path)}
    try:
        written = datetime.fromisoformat(str(status.get("at")))
        age_s = (datetime.now(UTC) - written).total_seconds()
    except (TypeError, ValueError):
        return {"state": "missing", "path": str(path), "detail": "unreadable time"}
    state = "ok" if age_s <= STATUS_STALE_S else "stale"
    return {"state": state, "path": str(path), "age_s": int(age_s), "status": status}


def _broker_from_status(status: dict[str, Any]) -> dict[str, Any]:
    configured = list(status.get("brokers") or [])
    if not configured:
        return {"state": "offline", "configured": [], "detail": "no broker configured"}
    return {
        "state": "connected" if status.get("connected") else "disconnected",
        "configured": configured,
        "detail": f"outbox {status.get('outbox_depth', '?')} waiting",
        "source": "status file",
    }


def load_config(root: Root) -> KioskConfig:
    return load(argparse.Namespace(config=str(root(layout.CONFIG)), demo=False), environ={})


def try_load_config(root: Root) -> KioskConfig | ConfigError:
    """The configuration, or the error that says why it cannot be loaded."""
    try:
        return load_config(root)
    except ConfigError as error:
        return error


def _config(
    root: Root, loaded: KioskConfig | ConfigError | None = None
) -> tuple[KioskConfig | None, dict[str, Any]]:
    path = root(layout.CONFIG)
    if not path.exists():
        return None, {"state": "missing", "path": str(path), "detail": "not enrolled"}
    config = try_load_config(root) if loaded is None else loaded
    if isinstance(config, ConfigError):
        return None, {"state": "error", "path": str(path), "detail": str(config)}
    return config, {
        "state": "ok",
        "path": str(path),
        "kiosk_id": config.kiosk_id,
        "role": config.role,
        "housing_unit": config.housing_unit,
        "facility_id": config.facility_id,
        "brokers": list(config.brokers),
        "data_dir": str(config.data_dir),
        "hardware": config.device_kinds,
    }


def file_facts(path: Path) -> dict[str, Any]:
    """Whether a file is there, its mode and owner: never its content."""
    try:
        stat = path.stat()
    except OSError:
        return {"path": str(path), "exists": False}
    try:
        owner = pwd.getpwuid(stat.st_uid).pw_name
    except KeyError:
        owner = str(stat.st_uid)
    return {
        "path": str(path),
        "exists": True,
        "mode": f"{stat.st_mode & 0o7777:04o}",
        "owner": owner,
    }


def _certificate(root: Root, config: KioskConfig | None) -> dict[str, Any]:
    if config is None or config.cert_file is None:
        return {"state": UNKNOWN, "detail": "no certificate in the configuration"}
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from provisioning.keys import common_name

    cert_path = root(config.cert_file)
    result: dict[str, Any] = {"file": file_facts(cert_path)}
    if config.key_file is not None:
        result["key_file"] = file_facts(root(config.key_file))
    if config.ca_file is not None:
        result["ca_file"] = file_facts(root(config.ca_file))
    try:
        certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (OSError, ValueError) as error:
        result.update(state="error", detail=f"cannot read the certificate: {error}")
        return result
    expires = certificate.not_valid_after_utc
    days_left = (expires - datetime.now(UTC)).days
    result.update(
        state="ok" if days_left >= 0 else "expired",
        subject=common_name(certificate),
        issuer=certificate.issuer.rfc4514_string(),
        expires=expires.isoformat(),
        days_left=days_left,
    )
    if config.key_file is not None:
        try:
            key = serialization.load_pem_private_key(root(config.key_file).read_bytes(), None)
            result["key_matches"] = key.public_key() == certificate.public_key()
        except (OSError, ValueError, TypeError) as error:
            result["key_matches"] = f"{UNKNOWN} ({type(error).__name__})"
    return result


def _service(root: Root) -> dict[str, Any]:
    if not root.live:
        return {"state": UNKNOWN, "detail": "not asked under --root"}
    if shutil.which("systemctl") is None:
        return {"state": UNKNOWN, "detail": "systemctl is not available"}
    answers = {}
    for verb in ("is-active", "is-enabled"):
        result = subprocess.run(
            ["systemctl", verb, layout.SERVICE], capture_output=True, text=True, check=False
        )
        # Without a running systemd (a container, a chroot) systemctl answers on stderr only.
        answers[verb] = result.stdout.strip() or (result.stderr.strip().splitlines() or ["?"])[0]
    if answers["is-active"] in _ACTIVE_STATES:
        return {"state": answers["is-active"], "enabled": answers["is-enabled"]}
    return {"state": UNKNOWN, "detail": answers["is-active"]}


def read_journal(root: Root, extra: list[str]) -> str | None:
    """The kiosk service's journal lines, or None when there is no journal to read."""
    if not root.live or shutil.which("journalctl") is None:
        return None
    try:
        result = subprocess.run(
            ["journalctl", "-u", layout.SERVICE, "--no-pager", "-o", "short-iso", *extra],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode == 0 else None


def _broker(config: KioskConfig | None, journal: str | None) -> dict[str, Any]:
    configured = list(config.brokers) if config is not None else []
    if not journal:
        return {
            "state": UNKNOWN,
            "configured": configured,
            "detail": "the kiosk's journal cannot be read here; its database keeps no record "
            "of the connection",
        }
    for line in reversed(journal.splitlines()):
        found = _CONNECTION.search(line)
        retrying = _RETRY.search(line)
        if found or retrying:
            if found:
                state = "connected" if found.group(1) == "connected to" else "disconnected"
                endpoint, detail = found.group(2), found.group(3).strip()
            else:
                state, endpoint, detail = "disconnected", retrying.group(1), retrying.group(2)
            return {
                "state": state,
                "endpoint": endpoint,
                "since": line.split(" ", 1)[0],
                "configured": configured,
                "detail": detail,
            }
    return {"state": UNKNOWN, "configured": configured, "detail": "no connection in the journal"}


def _database(root: Root, config: KioskConfig | None) -> dict[str, Any]:
    if config is not None:
        path = root(config.database_path)
    else:
        path = root(layout.DATA_DIR) / "kiosk.sqlite3"
    if not path.exists():
        return {"state": "missing", "path": str(path)}
    # Read-only: status must neither migrate nor create the database, nor wait on the kiosk.
    # Without a WAL file nobody is writing it: opened as immutable, SQLite then creates no
    # -wal or -shm file beside it either. With one, the kiosk may be writing: plain read-only.
    wal = path.with_name(path.name + "-wal").exists()
    mode = "mode=ro" if wal else "immutable=1"
    key, encryption = _database_key(root, config, path)
    found = {"path": str(path), "encryption": encryption}
    if key is None:
        return {"state": "encrypted", **found}
    try:
        connection = connect(path, key, query=mode, timeout=2)
    except (sqlcipher.Error, StoreError) as error:
        return {"state": "error", **found, "detail": str(error)}
    try:
        return {"state": "ok", **found, **_database_facts(connection)}
    except sqlcipher.Error as error:
        return {"state": "error", **found, "detail": str(error)}
    finally:
        connection.close()


def _database_key(
    root: Root, config: KioskConfig | None, path: Path
) -> tuple[DatabaseKey | None, str]:
    """The key that opens the database here, if any, and how the database is protected."""
    if is_plain(path):
        return NO_KEY, "none: plain SQLite, readable by whoever holds the disk"
    credential = root(CREDENTIAL)
    if credential.exists():
        how = f"sealed with systemd-creds {tpm_or_host()}"
        if not root.live:
            return None, f"{how}; opened only on the kiosk itself"
        try:
            return DatabaseKey(unseal(credential), SEALED), how
        except SealError as error:
            return None, f"{how}, but it cannot be unsealed here: {error}"
    key_file = path.parent / KEY_FILE_NAME
    if key_file.exists():
        try:
            return find_key(path.parent, {}), (
                f"a key file beside the data ({key_file}): not sealed, as outside systemd"
            )
        except StoreError as error:
            return None, str(error)
    return None, "encrypted, and no key for it on this kiosk"


def _database_facts(connection: Connection) -> dict[str, Any]:
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    facts: dict[str, Any] = {
        "schema_version": connection.execute("PRAGMA user_version").fetchone()[0]
    }
    if "outbox" in tables:
        depth, size, oldest = connection.execute(
            "SELECT COUNT(*), COALESCE(SUM(size), 0), MIN(created_at) FROM outbox"
        ).fetchone()
        by_topic = dict(
            connection.execute(
                "SELECT topic, COUNT(*) FROM outbox GROUP BY topic ORDER BY topic"
            ).fetchall()
        )
        facts["outbox"] = {
            "depth": depth,
            "bytes": size,
            "oldest": oldest,
            "by_topic": {topic.rsplit("/", 1)[-1]: count for topic, count in by_topic.items()},
        }
        facts["queued_hardware"] = _queued_hardware(connection)
    if "snapshots" in tables:
        facts["snapshots"] = {
            kind: {"version": version, "applied_at": applied_at}
            for kind, version, applied_at in connection.execute(
                "SELECT kind, version, applied_at FROM snapshots ORDER BY kind"
            )
        }
    return facts


def _queued_hardware(connection: Connection) -> dict[str, Any]:
    """Device states from the newest unsent hardware events (sent ones are gone from disk)."""
    found: dict[str, Any] = {}
    rows = connection.execute(
        "SELECT payload FROM outbox WHERE topic LIKE '%/up/events' ORDER BY seq DESC LIMIT 500"
    )
    for (payload,) in rows:
        try:
            event = json.loads(payload)
        except ValueError:
            continue
        detail = event.get("detail") or {}
        if event.get("kind") == "hardware_changed" and detail.get("device") not in found:
            found[detail.get("device")] = {
                "state": detail.get("state"),
                "detail": detail.get("detail", ""),
                "at": event.get("at"),
            }
        elif event.get("kind") == "selftest":
            for device, health in (detail.get("hardware") or {}).items():
                found.setdefault(
                    device,
                    {
                        "state": health.get("state"),
                        "detail": health.get("detail", ""),
                        "at": event.get("at"),
                    },
                )
    return found


def _hardware(journal: str | None, database: dict[str, Any]) -> dict[str, Any]:
    devices: dict[str, Any] = {}
    for line in (journal or "").splitlines():
        found = _DEVICE.search(line)
        if found:
            devices[found.group(1)] = {
                "state": found.group(2),
                "detail": found.group(3),
                "at": line.split(" ", 1)[0],
                "source": "journal",
            }
    for device, health in (database.get("queued_hardware") or {}).items():
        devices.setdefault(device, {**health, "source": "unsent event"})
    result = {}
    for device in ("camera", "handset", "badge_reader"):
        result[device] = devices.get(
            device,
            {
                "state": UNKNOWN,
                "detail": "no change in the journal and no unsent hardware event "
                "(devices fine since the kiosk started report nothing)",
            },
        )
    return result


def _print(out: Out, report: dict[str, Any]) -> None:
    table = Table(show_header=False, title="Kiosk status", title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    config = report["config"]
    if config["state"] == "ok":
        unit = f", unit {config['housing_unit']}" if config["housing_unit"] else ""
        table.add_row("kiosk", Text(f"{config['kiosk_id']} ({config['role']}{unit})"))
        table.add_row("facility", Text(config["facility_id"]))
    table.add_row(
        "configuration", Text(f"{config['state']}: {config.get('detail', config['path'])}")
    )
    cert = report["certificate"]
    if cert.get("state") in ("ok", "expired"):
        key = cert.get("key_file", {})
        table.add_row(
            "certificate",
            Text(
                f"{cert['state']}: CN={cert['subject']}, {cert['days_left']} days left; key "
                f"{key.get('mode', '?')} {key.get('owner', '?')}, "
                f"matches: {cert.get('key_matches')}"
            ),
        )
    else:
        table.add_row("certificate", Text(f"{cert['state']}: {cert.get('detail', '')}"))
    service = report["service"]
    table.add_row(
        "service",
        Text(
            f"{service['state']}"
            + (f", {service['enabled']}" if "enabled" in service else "")
            + (f" ({service['detail']})" if "detail" in service else "")
        ),
    )
    broker = report["broker"]
    where = f" {broker['endpoint']} since {broker['since']}" if "endpoint" in broker else ""
    table.add_row(
        "broker",
        Text(f"{broker['state']}{where}; configured: {', '.join(broker['configured']) or 'none'}"),
    )
    database = report["database"]
    if database["state"] == "ok" and "outbox" in database:
        outbox = database["outbox"]
        table.add_row(
            "outbox",
            Text(
                f"{outbox['depth']} records, {outbox['bytes']} bytes"
                + (f", oldest {outbox['oldest']}" if outbox["oldest"] else "")
            ),
        )
        for kind, snapshot in database.get("snapshots", {}).items():
            version = f"version {snapshot['version']}, " if snapshot["version"] is not None else ""
            table.add_row(kind, Text(f"{version}applied {snapshot['applied_at']}"))
    else:
        table.add_row("database", Text(f"{database['state']}: {database['path']}"))
    if "encryption" in database:
        table.add_row("encryption", Text(database["encryption"]))
    for device, health in report["hardware"].items():
        table.add_row(device, Text(f"{health['state']}: {health['detail']}"))
    kiosk = report["kiosk"]
    if kiosk["state"] == "missing":
        table.add_row("running kiosk", Text(f"{UNKNOWN}: no status file at {kiosk['path']}"))
    else:
        status = kiosk["status"]
        table.add_row(
            "running kiosk",
            Text(
                f"{'reported' if kiosk['state'] == 'ok' else 'STALE: last reported'} "
                f"{kiosk['age_s']} s ago; up {status.get('uptime_s', '?')} s, "
                f"session {'open' if status.get('session_active') else 'none'}"
            ),
        )
        for line in status.get("errors") or []:
            table.add_row("recent error", Text(line))
    table.add_row("versions", Text(", ".join(f"{k} {v}" for k, v in report["versions"].items())))
    out.console.print(table)
