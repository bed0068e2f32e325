"""``kiosk-provision enroll`` into a scratch root, against a real Mosquitto with the shipped ACL
and the cloud simulator's enrollment service."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from paho.mqtt.enums import CallbackAPIVersion

from cloudsim.broker import LocalBroker, free_port
from cloudsim.enroll import ClaimGate, EnrollmentService, Facility, server_context
from kiosk.config import check_tls_files
from tests.provisioning.conftest import (
    FACILITY,
    PROVISION,
    RETURNED_BROKERS,
    enroll_args,
    provision,
    rooted_config,
    snapshot,
    token_file,
)
from tests.waiting import wait_until

KIOSK_FILES = ("etc/kiosk/kiosk.toml", "etc/kiosk/kiosk.key", "etc/kiosk/kiosk.pem",
               "etc/kiosk/ca.pem")  # fmt: skip


def no_leftovers(root: Path) -> None:
    """No temporary file of an unfinished write is left beside the targets."""
    folder = root / "etc" / "kiosk"
    if folder.exists():
        assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []


def test_enrolls_a_kiosk_into_a_scratch_root(
    tmp_path: Path, root: Path, service: EnrollmentService, env: dict[str, str], pki: dict
) -> None:
    token = service.issue_token()
    result = provision(
        enroll_args(root, service.url, "--token-file", token_file(tmp_path, token)), env
    )

    assert result.returncode == 0, result.stderr
    assert "✓ Self-test of the devices" in result.stdout
    assert "✓ Enrolling with the facility cloud: at " in result.stdout
    etc = root / "etc" / "kiosk"
    modes = {name: (etc / name).stat().st_mode & 0o777 for name in os.listdir(etc)}
    assert modes == {"kiosk.key": 0o600, "kiosk.pem": 0o644, "ca.pem": 0o644, "kiosk.toml": 0o644}

    # The certificate chains to the facility CA, is for this kiosk, and belongs to the key.
    ca = x509.load_pem_x509_certificate(pki["ca_file"].read_bytes())
    certificate = x509.load_pem_x509_certificate((etc / "kiosk.pem").read_bytes())
    certificate.verify_directly_issued_by(ca)
    key = serialization.load_pem_private_key((etc / "kiosk.key").read_bytes(), None)
    assert key.public_key() == certificate.public_key()
    assert (etc / "ca.pem").read_bytes() == pki["ca_file"].read_bytes()

    # The configuration loads as the kiosk loads it and names what the cloud returned.
    config, here = rooted_config(root)
    assert (config.kiosk_id, config.facility_id, config.role, config.housing_unit) == (
        "hu-01", FACILITY, "housing", "B",
    )  # fmt: skip
    assert list(config.brokers) == RETURNED_BROKERS
    assert str(config.key_file) == "/etc/kiosk/kiosk.key"  # the kiosk's own paths
    check_tls_files(here)  # the files are there, the certificate's CN is the kiosk id

    # What the cloud received: the contract's enroll payload with the self-test summary.
    (request,) = service.responder.requests
    assert request["kiosk_id"] == "hu-01" and request["role"] == "housing"
    assert request["housing_unit"] == "B"
    assert set(request["hardware"]) == {"camera", "handset", "badge_reader"}
    assert all(device["state"] == "ok" for device in request["hardware"].values())
    assert service.tokens.is_spent(token)
    no_leftovers(root)


def test_the_enrolled_certificate_logs_in_at_a_broker_that_requires_it(
    tmp_path: Path, root: Path, service: EnrollmentService, env: dict[str, str], pki: dict
) -> None:
    """A real TLS handshake with client certificate, against a Mosquitto that trusts the
    facility CA only."""
    token = service.issue_token()
    assert provision(enroll_args(root, service.url, f"--token={token}"), env).returncode == 0
    _config, here = rooted_config(root)
    port = free_port()
    listener = [
        f"listener {port} 127.0.0.1",
        f"cafile {pki['ca_file']}",
        f"certfile {pki['server_cert']}",
        f"keyfile {pki['server_key']}",
        "require_certificate true",
        "use_identity_as_username true",
        "allow_anonymous false",
    ]
    with LocalBroker(tmp_path / "tls-broker", port, listener_config=listener, tls=True):
        answered = threading.Event()
        codes = []
        client = mqtt.Client(CallbackAPIVersion.VERSION2, "hu-01", protocol=mqtt.MQTTv5)
        client.tls_set(
            ca_certs=str(here.ca_file),
            certfile=str(here.cert_file),
            keyfile=str(here.key_file),
            tls_version=ssl.PROTOCOL_TLS_CLIENT,
        )
        client.on_connect = lambda *a: (codes.append(a[3]), answered.set())
        client.connect("127.0.0.1", port)
        client.loop_start()
        try:
            assert answered.wait(10)
        finally:
            client.disconnect()
            client.loop_stop()
    assert not codes[0].is_failure, codes


def test_enrolling_again_keeps_the_other_settings_and_replaces_the_key(
    tmp_path: Path, root: Path, service: EnrollmentService, env: dict[str, str], previous: dict
) -> None:
    result = provision(enroll_args(root, service.url, f"--token={service.issue_token()}"), env)

    assert result.returncode == 0, result.stderr
    config, _here = rooted_config(root)
    assert (config.camera_width, config.camera_height) == (640, 480)
    assert config.timezone == "America/Chicago" and config.kiosk_name == "Unit A kiosk"
    assert config.housing_unit == "B"  # the new answer
    assert list(config.brokers) == RETURNED_BROKERS
    assert (root / "etc/kiosk/kiosk.key").read_bytes() != previous["etc/kiosk/kiosk.key"][0]


def test_a_bad_token_is_refused_and_changes_nothing(
    root: Path, service: EnrollmentService, env: dict[str, str], previous: dict
) -> None:
    service.issue_token()
    result = provision(enroll_args(root, service.url, "--token=not-the-token"), env)

    assert result.returncode == 1
    assert "refused the claim token" in result.stderr
    assert "check the token" in result.stderr
    assert "nothing was written" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(root) == previous  # byte for byte, modes too
    assert service.responder.requests == []  # it never got past the login


def test_a_token_enrolls_one_kiosk_only(
    tmp_path: Path, service: EnrollmentService, env: dict[str, str]
) -> None:
    token = service.issue_token()
    first, second = tmp_path / "first", tmp_path / "second"
    assert provision(enroll_args(first, service.url, f"--token={token}"), env).returncode == 0

    result = provision(enroll_args(second, service.url, f"--token={token}", kiosk_id="hu-02"), env)

    assert result.returncode == 1
    assert "refused the claim token" in result.stderr
    assert not second.exists()


def test_a_broker_that_is_down_is_named_with_its_port(
    root: Path, env: dict[str, str], previous: dict
) -> None:
    port = free_port()  # nothing listens there
    result = provision(enroll_args(root, f"mqtt://127.0.0.1:{port}", "--token=t"), env)

    assert result.returncode == 1
    assert f"broker unreachable at mqtt://127.0.0.1:{port}" in result.stderr
    assert f"firewall allows {port}" in result.stderr
    assert snapshot(root) == previous


def test_a_broker_without_an_enrollment_service_says_so(
    root: Path, enroll_broker: LocalBroker, facility: Facility, env: dict[str, str]
) -> None:
    service = EnrollmentService(enroll_broker.url, facility)
    with ClaimGate(enroll_broker.url, service.tokens) as gate:  # the login, but no cloud
        result = provision(enroll_args(root, gate.url, f"--token={service.issue_token()}"), env)

    assert result.returncode == 1
    assert "nothing at" in result.stderr and "takes enrollment requests" in result.stderr
    assert not (root / "etc").exists()


def test_a_cloud_that_never_answers_times_out_and_changes_nothing(
    root: Path, service: EnrollmentService, env: dict[str, str], previous: dict
) -> None:
    service.responder.answer = False
    token = service.issue_token()
    began = time.monotonic()
    result = provision(enroll_args(root, service.url, f"--token={token}", "--timeout", "2"), env)

    assert result.returncode == 1
    assert "no answer from the facility cloud within 2 s" in result.stderr
    assert time.monotonic() - began < 60
    assert snapshot(root) == previous
    assert len(service.responder.requests) == 1 and not service.tokens.is_spent(token)


def test_the_cloud_refusing_says_why_and_changes_nothing(
    root: Path, service: EnrollmentService, env: dict[str, str], previous: dict
) -> None:
    service.responder.enrolled["hu-01"] = FACILITY  # the id is taken
    token = service.issue_token()
    result = provision(enroll_args(root, service.url, f"--token={token}"), env)

    assert result.returncode == 1
    assert "the facility cloud refused the enrollment: kiosk id 'hu-01' is enrolled" in (
        result.stderr
    )
    assert snapshot(root) == previous
    assert not service.tokens.is_spent(token)


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_a_run_stopped_while_waiting_for_the_cloud_changes_nothing(
    signum: int, root: Path, service: EnrollmentService, env: dict[str, str], previous: dict
) -> None:
    """Stopped with the new key made and the CSR sent: the key dies with the process."""
    service.responder.answer = False
    process = subprocess.Popen(
        [*PROVISION, *enroll_args(root, service.url, f"--token={service.issue_token()}")],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def csr_came() -> bool:
            assert process.poll() is None, process.communicate()
            return bool(service.responder.requests)

        wait_until(csr_came, 60, "the CSR")
        process.send_signal(signum)
        _stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert snapshot(root) == previous
    no_leftovers(root)
    if signum != signal.SIGKILL:
        assert process.returncode == 130
        assert "enroll interrupted" in stderr and "nothing was written" in stderr
        assert "Traceback" not in stderr


def test_enrolls_over_tls_with_the_enrollment_ca(
    tmp_path: Path, root: Path, enroll_broker: LocalBroker, facility: Facility,
    env: dict[str, str], pki: dict,
) -> None:  # fmt: skip
    tls = server_context(pki["server_cert"], pki["server_key"])
    with EnrollmentService(enroll_broker.url, facility, tls=tls) as service:
        assert service.url.startswith("mqtts://127.0.0.1:")
        untrusted = provision(
            enroll_args(tmp_path / "other", service.url, f"--token={service.issue_token()}"), env
        )
        result = provision(
            enroll_args(
                root, service.url, f"--token={service.issue_token()}",
                "--enroll-ca", str(pki["ca_file"]),
            ),
            env,
        )  # fmt: skip

    assert untrusted.returncode == 1
    assert "presented a certificate the kiosk does not trust" in untrusted.stderr
    assert "--enroll-ca" in untrusted.stderr
    assert result.returncode == 0, result.stderr
    assert list(rooted_config(root)[0].brokers) == RETURNED_BROKERS


def test_takes_certificate_files_instead_of_enrolling(
    tmp_path: Path, root: Path, env: dict[str, str], pki: dict
) -> None:
    files = pki["client_cert"]("lobby-01")
    result = provision(
        [
            "enroll", "--root", str(root), "--non-interactive",
            "--facility", FACILITY, "--kiosk-id", "lobby-01", "--role", "lobby",
            "--broker", "mqtts://broker.facility.example:8883",
            "--cert", str(files["cert"]), "--key", str(files["key"]), "--ca", str(pki["ca_file"]),
        ],
        env,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    etc = root / "etc" / "kiosk"
    assert (etc / "kiosk.pem").read_bytes() == files["cert"].read_bytes()
    assert (etc / "kiosk.key").read_bytes() == files["key"].read_bytes()
    assert (etc / "kiosk.key").stat().st_mode & 0o777 == 0o600
    config, here = rooted_config(root)
    assert config.role == "lobby" and config.housing_unit is None
    assert list(config.brokers) == ["mqtts://broker.facility.example:8883"]
    check_tls_files(here)


def test_certificate_files_of_another_kiosk_are_refused(
    root: Path, env: dict[str, str], pki: dict, previous: dict
) -> None:
    files = pki["client_cert"]("hu-99")
    result = provision(
        [
            "enroll", "--root", str(root), "--non-interactive",
            "--kiosk-id", "hu-01", "--broker", "mqtts://broker.facility.example:8883",
            "--cert", str(files["cert"]), "--key", str(files["key"]), "--ca", str(pki["ca_file"]),
        ],
        env,
    )  # fmt: skip

    assert result.returncode == 1
    assert "the certificate is for 'hu-99', not for kiosk 'hu-01'" in result.stderr
    assert snapshot(root) == previous


def test_dry_run_changes_nothing_and_spends_nothing(
    root: Path, service: EnrollmentService, env: dict[str, str], previous: dict
) -> None:
    token = service.issue_token()
    result = provision(enroll_args(root, service.url, f"--token={token}", "--dry-run"), env)

    assert result.returncode == 0, result.stderr
    assert "Dry run" in result.stdout
    assert f"Would write {root}/etc/kiosk/kiosk.key" in result.stdout
    assert "mode 0600" in result.stdout
    assert snapshot(root) == previous
    assert service.responder.requests == [] and not service.tokens.is_spent(token)


def test_a_missing_answer_without_a_terminal_names_its_flag(
    root: Path, env: dict[str, str]
) -> None:
    result = provision(
        ["enroll", "--root", str(root), "--non-interactive", "--kiosk-id", "hu-01"], env
    )

    assert result.returncode == 2
    assert "--facility is needed" in result.stderr
    assert not (root / "etc").exists()


def test_a_reserved_kiosk_id_is_refused_before_anything_is_sent(
    root: Path, service: EnrollmentService, env: dict[str, str]
) -> None:
    result = provision(enroll_args(root, service.url, "--token=t", kiosk_id="provision"), env)

    assert result.returncode == 2
    assert "'provision' is reserved" in result.stderr
    assert service.responder.requests == []
