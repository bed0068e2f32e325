"""A real Mosquitto with the shipped ACL, the cloud simulator's enrollment service in front of
it, and ``kiosk-provision`` run as a real process against a scratch root."""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cloudsim.broker import LocalBroker, free_port
from cloudsim.enroll import EnrollmentService, Facility
from cloudsim.tls import make_test_pki
from kiosk.config import load

FACILITY = "f1"
# What the cloud names as the kiosk's brokers after enrollment (never dialled in these tests).
RETURNED_BROKERS = ["mqtts://127.0.0.1:18883", "mqtts://localhost:18884"]
SHIPPED_ACL = Path(__file__).resolve().parents[2] / "systemd" / "mosquitto" / "acl"
PROVISION = [sys.executable, "-m", "provisioning.cli"]


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Any]:
    return make_test_pki(tmp_path / "pki")


@pytest.fixture
def enroll_broker(tmp_path: Path) -> Iterator[LocalBroker]:
    """Mosquitto with the shipped ACL: user claim may only write .../up/csr and read
    .../down/result, the cloud's user the rest. Logins are the gate's to check (below), as the
    token plugin's would be at the facility's enrollment listener."""
    workdir = tmp_path / "broker"
    workdir.mkdir()
    acl = workdir / "acl"
    shutil.copyfile(SHIPPED_ACL, acl)
    port = free_port()
    listener = [f"listener {port} 127.0.0.1", "allow_anonymous true", f"acl_file {acl}"]
    with LocalBroker(workdir, port, listener_config=listener) as running:
        yield running


@pytest.fixture
def facility(pki: dict[str, Any]) -> Facility:
    return Facility.from_files(FACILITY, pki["ca_file"], pki["ca_key"], RETURNED_BROKERS)


@pytest.fixture
def service(enroll_broker: LocalBroker, facility: Facility) -> Iterator[EnrollmentService]:
    with EnrollmentService(enroll_broker.url, facility) as running:
        yield running


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "root"
    folder.mkdir()
    return folder


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "KIOSK_CLAIM_TOKEN")}
    environ.update(HOME=str(tmp_path), PYTHONUNBUFFERED="1", KIVY_NO_ARGS="1", COLUMNS="200")
    return environ


def provision(
    args: list[str], env: dict[str, str], timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    """``kiosk-provision`` as a technician's script runs it: no terminal."""
    return subprocess.run(
        [*PROVISION, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def enroll_args(root: Path, url: str, *more: str, kiosk_id: str = "hu-01") -> list[str]:
    return [
        "enroll", "--root", str(root), "--non-interactive",
        "--facility", FACILITY, "--kiosk-id", kiosk_id,
        "--role", "housing", "--housing-unit", "B",
        "--broker", url, *more,
    ]  # fmt: skip


def token_file(tmp_path: Path, token: str) -> str:
    path = tmp_path / f"token-{token[:6]}"
    path.write_text(token + "\n", encoding="utf-8")
    return str(path)


def rooted_config(root: Path) -> Any:
    """The written configuration as kiosk/config.py loads it, its key paths seen from here."""
    config = load(argparse.Namespace(config=str(root / "etc/kiosk/kiosk.toml"), demo=False), {})
    return config, dataclasses.replace(
        config,
        ca_file=root / str(config.ca_file).lstrip("/"),
        cert_file=root / str(config.cert_file).lstrip("/"),
        key_file=root / str(config.key_file).lstrip("/"),
    )


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder``: its bytes and mode."""
    return {
        str(path.relative_to(folder)): (path.read_bytes(), path.stat().st_mode & 0o7777)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def previous(root: Path, pki: dict[str, Any]) -> dict[str, tuple[bytes, int]]:
    """A kiosk enrolled before (kiosk hu-01 with its own key and certificate): what a failed
    run must leave byte for byte."""
    etc = root / "etc" / "kiosk"
    etc.mkdir(parents=True)
    files = pki["client_cert"]("hu-01")
    shutil.copyfile(pki["ca_file"], etc / "ca.pem")
    shutil.copyfile(files["cert"], etc / "kiosk.pem")
    shutil.copyfile(files["key"], etc / "kiosk.key")
    os.chmod(etc / "kiosk.key", 0o600)
    (etc / "kiosk.toml").write_text(
        "# the previous enrollment\n"
        '[kiosk]\nid = "hu-01"\nrole = "housing"\nhousing_unit = "A"\nname = "Unit A kiosk"\n'
        '[facility]\nid = "f1"\ntimezone = "America/Chicago"\n'
        '[cloud]\nbrokers = ["mqtts://old-broker.example:8883"]\n'
        'ca_file = "/etc/kiosk/ca.pem"\ncert_file = "/etc/kiosk/kiosk.pem"\n'
        'key_file = "/etc/kiosk/kiosk.key"\n'
        "[hardware]\ncamera_width = 640\ncamera_height = 480\n",
        encoding="utf-8",
    )
    return snapshot(root)
