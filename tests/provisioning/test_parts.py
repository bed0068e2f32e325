"""The parts of kiosk-provision and of the simulated enrollment service, one at a time."""

from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from paho.mqtt.enums import CallbackAPIVersion

from cloudsim.broker import LocalBroker
from cloudsim.enroll import ClaimGate, EnrollmentService, Facility
from provisioning import status
from provisioning.config_file import check, render
from provisioning.files import PlannedFile, write_all
from provisioning.keys import make_csr, new_key
from provisioning.layout import Root

# --- writing files ---------------------------------------------------------------------------


def test_files_are_written_with_their_modes_and_owners(tmp_path: Path) -> None:
    nobody = (65534, 65534)
    write_all(
        [
            PlannedFile(tmp_path / "etc" / "a.pem", b"A", 0o644),
            PlannedFile(tmp_path / "etc" / "a.key", b"K", 0o600, owner=nobody),
        ]
    )
    key = (tmp_path / "etc" / "a.key").stat()
    assert (key.st_mode & 0o7777, (key.st_uid, key.st_gid)) == (0o600, nobody)
    assert (tmp_path / "etc" / "a.pem").stat().st_mode & 0o7777 == 0o644
    assert sorted(os.listdir(tmp_path / "etc")) == ["a.key", "a.pem"]


def test_a_failed_write_leaves_every_target_as_it_was(tmp_path: Path) -> None:
    (tmp_path / "a.pem").write_bytes(b"old")
    (tmp_path / "blocker").write_bytes(b"a file where a folder would go")

    with pytest.raises(OSError):
        write_all(
            [
                PlannedFile(tmp_path / "a.pem", b"new", 0o644),
                PlannedFile(tmp_path / "blocker" / "b.key", b"K", 0o600),
            ]
        )

    assert (tmp_path / "a.pem").read_bytes() == b"old"
    assert sorted(os.listdir(tmp_path)) == ["a.pem", "blocker"]  # no temporary file left


# --- the configuration file ------------------------------------------------------------------


def test_the_configuration_written_loads_back_as_it_was_given() -> None:
    values: dict[str, Any] = {
        "kiosk.id": "hu-01",
        "kiosk.role": "housing",
        "kiosk.name": 'Unit "B" · Kiosk\t1 \\ ñ \x7f',
        "kiosk.housing_unit": None,  # left out
        "facility.id": "f1",
        "display.fullscreen": False,
        "display.languages": ("en", "es"),
        "cloud.brokers": ("mqtts://a.example:8883", "mqtts://b.example"),
        "hardware.camera_fps": 29.97,
        "hardware.camera_width": 640,
        "storage.data_dir": Path("/var/lib/kiosk"),
    }
    config = check(render(values, written_by="a test"))

    assert config.kiosk_name == values["kiosk.name"]
    assert config.housing_unit is None and config.fullscreen is False
    assert config.brokers == values["cloud.brokers"] and config.languages == ("en", "es")
    assert (config.camera_fps, config.camera_width) == (29.97, 640)


# --- what status reads of the journal --------------------------------------------------------


def journal_line(at: str, text: str) -> str:
    return f"2026-11-23T{at}+0000 kiosk kiosk[12]: INFO kiosk[hu-01] kiosk.sync: {text}"


JOURNAL = "\n".join(
    [
        journal_line(
            "07:00:00", "broker mqtts://b.example:8883: connection refused; next try in 1.0 s"
        ),
        journal_line("07:00:02", "connected to mqtts://b.example:8883"),
        journal_line("07:05:00", "camera is now missing: unplugged"),
        journal_line("07:06:00", "disconnected from mqtts://b.example:8883: keepalive timeout"),
    ]
)


def test_status_reads_the_connection_and_devices_from_the_journal(tmp_path: Path) -> None:
    report = status.gather(Root(tmp_path), journal=JOURNAL)

    broker = report["broker"]
    assert (broker["state"], broker["endpoint"], broker["detail"]) == (
        "disconnected", "mqtts://b.example:8883", "keepalive timeout",
    )  # fmt: skip
    assert broker["since"] == "2026-11-23T07:06:00+0000"
    assert report["hardware"]["camera"]["state"] == "missing"
    assert report["hardware"]["camera"]["source"] == "journal"
    assert report["hardware"]["handset"]["state"] == "unknown"

    connected = status.gather(Root(tmp_path), journal="\n".join(JOURNAL.splitlines()[:2]))
    assert connected["broker"]["state"] == "connected"
    retrying = status.gather(Root(tmp_path), journal=JOURNAL.splitlines()[0])
    assert retrying["broker"]["state"] == "disconnected"
    assert retrying["broker"]["detail"] == "connection refused"


# --- the simulated enrollment service --------------------------------------------------------


@pytest.fixture
def plain_broker(tmp_path: Path):
    with LocalBroker(tmp_path / "plain") as running:
        yield running


def connack(url: str, *, client_id: str, password: str, v311: bool) -> int:
    """The CONNACK's code for one login through the gate, with a will, as MQTT 3.1.1 or 5."""
    host, port = url.removeprefix("mqtt://").split(":")
    protocol = mqtt.MQTTv311 if v311 else mqtt.MQTTv5
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id, protocol=protocol)
    client.username_pw_set("claim", password)
    client.will_set("kiosk/v1/provision/x/up/csr", b"gone", qos=1)
    answered = threading.Event()
    codes: list[Any] = []
    client.on_connect = lambda *args: (codes.append(args[3]), answered.set())
    client.connect(host, int(port))
    client.loop_start()
    try:
        assert answered.wait(10), "no CONNACK"
    finally:
        client.disconnect()
        client.loop_stop()
    return codes[0].value


@pytest.mark.parametrize("v311", [False, True], ids=["mqtt5", "mqtt311"])
def test_the_gate_checks_token_and_client_id_then_joins_the_broker(
    plain_broker: LocalBroker, facility: Facility, v311: bool
) -> None:
    service = EnrollmentService(plain_broker.url, facility)
    token = service.issue_token()
    with ClaimGate(plain_broker.url, service.tokens) as gate:
        good = f"claim-{uuid.uuid4()}"
        assert connack(gate.url, client_id=good, password=token, v311=v311) == 0
        assert service.tokens.token_for(good.removeprefix("claim-"))[0] == token
        refused = connack(gate.url, client_id=f"claim-{uuid.uuid4()}", password="x", v311=v311)
        assert refused == 134  # bad user name or password (3.1.1's 4, as paho reports it)
        assert connack(gate.url, client_id="hu-01", password=token, v311=v311) == 133


def csr_payload(request_id: str, kiosk_id: str, key: Any = None, cn: str | None = None) -> dict:
    key = key or new_key()
    if cn is None:
        csr_pem = make_csr(key, kiosk_id).decode()
    else:
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        csr = (
            x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
        )
        csr_pem = csr.public_bytes(serialization.Encoding.PEM).decode()
    return {
        "v": 1, "type": "enroll", "request_id": request_id, "csr_pem": csr_pem,
        "kiosk_id": kiosk_id, "role": "housing", "housing_unit": "B", "hardware": {},
    }  # fmt: skip


def test_the_responder_signs_only_a_sound_csr_from_an_unspent_login(facility: Facility) -> None:
    service = EnrollmentService("mqtt://127.0.0.1:1", facility)  # never started: decide() only
    decide = service.responder.decide

    def login() -> tuple[str, str]:
        token = service.issue_token()
        request_id = str(uuid.uuid4())
        assert service.tokens.login(f"claim-{request_id}", "claim", token.encode()) == 0
        return request_id, token

    request_id, token = login()
    assert decide(request_id, csr_payload(request_id, "hu-01", cn="hu-02"))["error"] == (
        "the CSR's CN must be the kiosk id 'hu-01'"
    )
    request_id, token = login()
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert decide(request_id, csr_payload(request_id, "hu-01", key=rsa_key))["error"] == (
        "the CSR's key must be EC P-256"
    )
    request_id, token = login()
    assert "reserved" in decide(request_id, csr_payload(request_id, "all"))["error"]
    assert not service.tokens.is_spent(token)

    request_id, token = login()
    key = new_key()
    answer = decide(request_id, csr_payload(request_id, "hu-01", key=key))
    assert answer["ok"] is True and answer["facility_id"] == "f1"
    certificate = x509.load_pem_x509_certificate(answer["certificate_pem"].encode())
    assert certificate.public_key() == key.public_key()
    certificate.verify_directly_issued_by(facility.ca_cert)
    assert service.tokens.is_spent(token)
    # The same request again, another request with the spent token, a taken kiosk id.
    assert decide(request_id, csr_payload(request_id, "hu-01"))["error"] == (
        "this request was answered already"
    )
    other = str(uuid.uuid4())
    assert service.tokens.login(f"claim-{other}", "claim", token.encode()) == 0x86
    assert decide(other, csr_payload(other, "hu-03"))["ok"] is False
    request_id, _token = login()
    assert "enrolled already" in decide(request_id, csr_payload(request_id, "hu-01"))["error"]
