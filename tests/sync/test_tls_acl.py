"""TLS and the ACL, against a real Mosquitto run with the shipped systemd/mosquitto/ files.

The broker's configuration is systemd/mosquitto/kiosk-facility.conf with only its ports (free
loopback ports instead of 8883/8884/8885) and paths (the test PKI of cloudsim.tls, a copy of the
shipped acl) swapped; the acl is the shipped file, byte for byte.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from cloudsim.broker import LocalBroker, free_port
from cloudsim.tls import CLOUD_USER, make_test_pki
from tests.sync.conftest import FACILITY, KioskProcess
from tests.waiting import wait_until

SHIPPED = Path(__file__).resolve().parents[2] / "systemd" / "mosquitto"
UPLINKS = f"kiosk/v1/{FACILITY}/+/up/#"


@dataclass
class TlsBroker:
    broker: LocalBroker
    pki: dict[str, Any]
    kiosk_port: int
    cloud_port: int
    enroll_port: int

    @property
    def url(self) -> str:
        return f"mqtts://127.0.0.1:{self.kiosk_port}"

    def kiosk_files(self, kiosk_id: str) -> dict[str, Path]:
        return {"ca": self.pki["ca_file"], **self.pki["client_cert"](kiosk_id)}

    def log(self) -> str:
        return self.broker.log_path.read_text() if self.broker.log_path.exists() else ""


def shipped_config(ports: dict[int, int], paths: dict[str, Path]) -> list[str]:
    """kiosk-facility.conf without comments, its listeners on loopback at the given ports and its
    /etc/mosquitto paths replaced; a path left unreplaced fails here rather than in Mosquitto."""
    lines = []
    for raw in (SHIPPED / "kiosk-facility.conf").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        listener = re.fullmatch(r"listener (\d+)", line)
        if listener:
            line = f"listener {ports[int(listener.group(1))]} 127.0.0.1"
        for shipped, local in paths.items():
            line = line.replace(shipped, str(local))
        assert "/etc/mosquitto" not in line, f"no test stand-in for: {line}"
        lines.append(line)
    return lines


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[TlsBroker]:
    pki = make_test_pki(tmp_path / "pki")
    workdir = tmp_path / "broker"
    workdir.mkdir()
    acl = workdir / "acl"
    shutil.copyfile(SHIPPED / "acl", acl)
    kiosk_port, cloud_port, enroll_port = free_port(), free_port(), free_port()
    lines = shipped_config(
        {8883: kiosk_port, 8884: cloud_port, 8885: enroll_port},
        {
            "/etc/mosquitto/acl": acl,
            "/etc/mosquitto/certs/ca.pem": pki["ca_file"],
            "/etc/mosquitto/certs/cloud-ca.pem": pki["cloud_ca_file"],
            "/etc/mosquitto/certs/broker.pem": pki["server_cert"],
            "/etc/mosquitto/certs/broker.key": pki["server_key"],
        },
    )
    broker = LocalBroker(workdir, kiosk_port, listener_config=lines, tls=True)
    with broker:
        yield TlsBroker(broker, pki, kiosk_port, cloud_port, enroll_port)


# --- plain paho clients ---------------------------------------------------------------------------


@dataclass
class Client:
    """A paho MQTT 5 client on its own thread, keeping what it receives and its acks."""

    paho: mqtt.Client
    messages: list[tuple[str, bytes]] = field(default_factory=list)
    acks: dict[int, Any] = field(default_factory=dict)  # mid -> PUBACK reason code
    connack: Any = None
    error: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def topics(self) -> list[str]:
        with self.lock:
            return [topic for topic, _ in self.messages]

    def payloads(self, topic: str) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(data) for seen, data in self.messages if seen == topic]

    def publish(self, topic: str, payload: dict[str, Any] | bytes, *, retain: bool = False) -> int:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        info = self.paho.publish(topic, data, qos=1, retain=retain)
        return info.mid

    def subscribe(self, topic_filter: str) -> None:
        done = threading.Event()
        self.paho.on_subscribe = lambda *_args: done.set()
        self.paho.subscribe(topic_filter, qos=1)
        assert done.wait(5), f"no SUBACK for {topic_filter}"

    @property
    def connected(self) -> bool:
        return self.connack is not None and not self.connack.is_failure

    def close(self) -> None:
        self.paho.disconnect()
        self.paho.loop_stop()


def connect(
    port: int,
    *,
    ca: Path | None,
    cert: dict[str, Path] | None = None,
    client_id: str = "",
    username: str | None = None,
    wait: bool = True,
) -> Client:
    """Connect over TLS (``ca`` given) or plain TCP; ``wait``: until connected, or fail."""
    paho = mqtt.Client(
        callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv5,
    )
    client = Client(paho)
    if ca is not None:
        paho.tls_set(
            ca_certs=str(ca),
            certfile=str(cert["cert"]) if cert else None,
            keyfile=str(cert["key"]) if cert else None,
            tls_version=ssl.PROTOCOL_TLS_CLIENT,
        )
    if username is not None:
        paho.username_pw_set(username, "not-a-valid-token")
    answered = threading.Event()

    def on_connect(_c: Any, _u: Any, _flags: Any, reason: Any, _props: Any) -> None:
        client.connack = reason
        answered.set()

    def on_message(_c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        with client.lock:
            client.messages.append((message.topic, message.payload))

    def on_publish(_c: Any, _u: Any, mid: int, reason: Any, _props: Any) -> None:
        client.acks[mid] = reason

    paho.on_connect = on_connect
    paho.on_message = on_message
    paho.on_publish = on_publish
    paho.on_disconnect = lambda *_args: answered.set()
    try:
        paho.connect("127.0.0.1", port, keepalive=30)
    except (OSError, ssl.SSLError) as error:
        client.error = f"{error.__class__.__name__}: {error}"
        return client
    paho.loop_start()
    answered.wait(5)
    if wait:
        assert client.connected, f"not connected: {client.connack} {client.error}"
    else:
        paho.loop_stop()
    return client


def cloud_client(tls: TlsBroker) -> Client:
    """The facility cloud: certificate CN facility-cloud from the cloud CA, on its listener."""
    cloud = connect(
        tls.cloud_port,
        ca=tls.pki["ca_file"],
        cert=tls.pki["cloud_cert"](CLOUD_USER),
        client_id=f"cloud-{uuid.uuid4().hex[:8]}",
    )
    cloud.subscribe(UPLINKS)
    return cloud


def command(name: str, args: dict[str, Any]) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "v": 1,
        "type": "command",
        "command_id": f"cmd-{uuid.uuid4()}",
        "name": name,
        "args": args,
        "issued_at": now.isoformat().replace("+00:00", "Z"),
        "expires_at": (now + timedelta(minutes=5)).isoformat().replace("+00:00", "Z"),
    }


def event(kind: str) -> dict[str, Any]:
    return {
        "v": 1,
        "type": "event",
        "event_id": str(uuid.uuid4()),
        "at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "kind": kind,
        "detail": {},
    }


# --- (a) the kiosk over TLS ----------------------------------------------------------------------


def test_a_headless_kiosk_connects_over_tls_and_the_cloud_sees_its_birth(tmp_path, tls_broker):
    cloud = cloud_client(tls_broker)
    files = tls_broker.kiosk_files("hu-01")
    kiosk = KioskProcess(
        tmp_path / "hu-01",
        tls_broker.broker,
        "hu-01",
        extra_args=[
            "--ca-file", str(files["ca"]),
            "--cert-file", str(files["cert"]),
            "--key-file", str(files["key"]),
        ],
    )  # fmt: skip
    assert tls_broker.broker.url == tls_broker.url  # the kiosk is given --broker mqtts://...
    status_topic = f"kiosk/v1/{FACILITY}/hu-01/up/status"
    try:
        kiosk.start()
        wait_until(lambda: cloud.payloads(status_topic), 30, "the birth status")
        birth = cloud.payloads(status_topic)[0]
        assert birth["state"] == "online" and birth["reason"] == "connected"
        assert f"connected to {tls_broker.url}" in kiosk.log()

        # Both ways over TLS through the ACL: the cloud writes the kiosk's down/cmd, the kiosk
        # reads it and writes its answer on its own up/cmd-result.
        lock = command("lock", {"reason": "count time"})
        cloud.publish(f"kiosk/v1/{FACILITY}/hu-01/down/cmd", lock)
        result_topic = f"kiosk/v1/{FACILITY}/hu-01/up/cmd-result"
        wait_until(lambda: cloud.payloads(result_topic), 20, "the command result")
        result = cloud.payloads(result_topic)[0]
        assert result["command_id"] == lock["command_id"] and result["ok"] is True

        assert kiosk.terminate() == 0
        wait_until(lambda: len(cloud.payloads(status_topic)) >= 2, 15.0, "the goodbye")
        assert cloud.payloads(status_topic)[-1]["reason"] == "shutdown"
    finally:
        if kiosk.alive():
            kiosk.kill()
        cloud.close()


# --- (b) one kiosk's certificate, another kiosk's topics ------------------------------------------


def test_a_kiosk_certificate_cannot_write_another_kiosks_uplink(tls_broker):
    cloud = cloud_client(tls_broker)
    mine, theirs = f"kiosk/v1/{FACILITY}/hu-02/up/events", f"kiosk/v1/{FACILITY}/hu-01/up/events"
    # hu-02's certificate, first with its own client id, then posing as hu-01 by client id.
    for client_id in ("hu-02", "hu-01"):
        intruder = connect(
            tls_broker.kiosk_port,
            ca=tls_broker.pki["ca_file"],
            cert=tls_broker.pki["client_cert"]("hu-02"),
            client_id=client_id,
        )
        try:
            foreign = intruder.publish(theirs, event(f"forged_as_{client_id.replace('-', '_')}"))
            intruder.publish(theirs, event("forged_retained"), retain=True)
            control = intruder.publish(mine, event("control"))
            # Published in this order by one client: once the control arrives, the others
            # would have arrived before it.
            acks = intruder.acks
            wait_until(lambda c=control, a=acks: c in a, 15.0, "PUBACK of the control")
            wait_until(lambda: cloud.payloads(mine), 15.0, "the control event")
            # MQTT 5 tells the publisher; a kiosk must not take this PUBACK for a delivery.
            assert intruder.acks[foreign].is_failure, intruder.acks[foreign]
            assert str(intruder.acks[foreign]) == "Not authorized"
            assert theirs not in cloud.topics()
        finally:
            intruder.close()
        with cloud.lock:
            cloud.messages.clear()
    # Nor did a retained forgery stay for a later subscriber (a console connecting now).
    late = connect(
        tls_broker.cloud_port,
        ca=tls_broker.pki["ca_file"],
        cert=tls_broker.pki["cloud_cert"](CLOUD_USER),
        client_id="late-console",
    )
    late.subscribe(theirs)
    # A retained message follows the SUBACK at once; there is nothing to wait for but time.
    time.sleep(0.5)
    assert late.topics() == []
    late.close()
    cloud.close()


def test_a_kiosk_certificate_cannot_read_another_kiosks_downlink(tls_broker):
    cloud = cloud_client(tls_broker)
    theirs, mine = f"kiosk/v1/{FACILITY}/hu-01/down", f"kiosk/v1/{FACILITY}/hu-02/down"
    # A retained snapshot of hu-01's, there before anyone subscribes.
    cloud.publish(f"{theirs}/config", {"v": 1, "type": "config", "secret": "x"}, retain=True)
    # One after the other: both connections end up with client id hu-02 (the certificate's CN),
    # so the second would take the first one's place.
    for client_id in ("hu-02", "hu-01"):  # its own client id, then posing as hu-01
        intruder = connect(
            tls_broker.kiosk_port,
            ca=tls_broker.pki["ca_file"],
            cert=tls_broker.pki["client_cert"]("hu-02"),
            client_id=client_id,
        )
        try:
            # Mosquitto grants the SUBACK and filters each delivery: nothing may arrive.
            for topic_filter in (f"{theirs}/#", f"kiosk/v1/{FACILITY}/+/down/#", "kiosk/v1/#"):
                intruder.subscribe(topic_filter)
            intruder.subscribe("#")
            intruder.subscribe(f"{mine}/#")
            cloud.publish(f"{theirs}/cmd", command("lock", {"reason": "not for hu-02"}))
            cloud.publish(f"{theirs}/inbox", {"v": 1, "type": "message", "body": "private"})
            cloud.publish(f"{mine}/cmd", command("unlock", {}))  # the control, published last
            # Published last by the one cloud client: the others would have come before it.
            wait_until(lambda i=intruder: f"{mine}/cmd" in i.topics(), 15.0, "the control")
            assert not [topic for topic in intruder.topics() if topic.startswith(theirs)]
        finally:
            intruder.close()
    cloud.close()


def test_a_kiosk_certificate_is_refused_on_the_cloud_listener(tls_broker):
    """There the client id is free; a kiosk certificate must not get that far."""
    intruder = connect(
        tls_broker.cloud_port,
        ca=tls_broker.pki["ca_file"],
        cert=tls_broker.pki["client_cert"]("hu-02"),
        client_id="hu-01",
        wait=False,
    )
    assert not intruder.connected


def test_cloud_workers_share_the_uplink_through_a_shared_subscription(tls_broker):
    """Several cloud workers under the one cloud user split the kiosks' uplink between them
    (docs/protocol.md, "At 50,000 kiosks"); the ACL's read line covers the $share form."""
    workers = [
        connect(
            tls_broker.cloud_port,
            ca=tls_broker.pki["ca_file"],
            cert=tls_broker.pki["cloud_cert"](CLOUD_USER),
            client_id=f"cloud-worker-{index}",
        )
        for index in range(2)
    ]
    for worker in workers:
        worker.subscribe("$share/cloud/kiosk/v1/+/+/up/#")
    kiosk = connect(
        tls_broker.kiosk_port,
        ca=tls_broker.pki["ca_file"],
        cert=tls_broker.pki["client_cert"]("hu-01"),
        client_id="hu-01",
    )
    try:
        for _ in range(10):
            kiosk.publish(f"kiosk/v1/{FACILITY}/hu-01/up/events", event("shared"))
        wait_until(lambda: sum(len(w.topics()) for w in workers) == 10, 15.0, "10 events")
        time.sleep(0.3)  # a copy to a second worker would come within this: none may
        counts = [len(worker.topics()) for worker in workers]
        # Each event went to one worker only, and both had a share: per-topic order is then
        # the cloud's to restore (the events' ids and times), not one worker's arrival order.
        assert sum(counts) == 10 and min(counts) > 0, counts
    finally:
        kiosk.close()
        for worker in workers:
            worker.close()


# --- (c) no certificate, a foreign certificate, no TLS --------------------------------------------


def test_a_client_without_a_certificate_is_refused(tmp_path, tls_broker):
    ca = tls_broker.pki["ca_file"]
    rogue = make_test_pki(tmp_path / "rogue")  # a CA of its own, CN hu-01
    attempts = {
        "no certificate": connect(tls_broker.kiosk_port, ca=ca, client_id="hu-01", wait=False),
        "another CA": connect(
            tls_broker.kiosk_port,
            ca=ca,
            cert=rogue["client_cert"]("hu-01"),
            client_id="hu-01",
            wait=False,
        ),
        "the cloud CA": connect(
            tls_broker.kiosk_port,
            ca=ca,
            cert=tls_broker.pki["cloud_cert"](CLOUD_USER),
            wait=False,
        ),
        "plain TCP": connect(tls_broker.kiosk_port, ca=None, client_id="hu-01", wait=False),
        # Enrollment is shut until a token-checking plugin is configured.
        "claim without a token check": connect(
            tls_broker.enroll_port,
            ca=ca,
            client_id=f"claim-{uuid.uuid4()}",
            username="claim",
            wait=False,
        ),
    }
    assert {name: client.connected for name, client in attempts.items()} == dict.fromkeys(
        attempts, False
    )
    # The broker writes its log in its own time: a loaded machine may be a moment behind.
    wait_until(
        lambda: "peer did not return a certificate" in tls_broker.log(),
        10,
        lambda: f"'peer did not return a certificate' in the broker's log:\n{tls_broker.log()}",
    )


# --- (d) plain TCP off loopback is refused at start, never dialled --------------------------------


def _run_kiosk(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable, "-m", "launch", "run", "--headless",
            "--data-dir", str(tmp_path / "data"),
            *args,
        ],
        env={**os.environ, "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip


def test_plain_mqtt_off_loopback_stops_the_kiosk_at_start(tmp_path):
    # 10.1.2.3 is refused by the configuration check, before any socket is opened.
    flagged = _run_kiosk(
        tmp_path,
        "--broker", "mqtt://10.1.2.3:1883",
        "--facility", FACILITY,
        "--kiosk-id", "hu-01",
    )  # fmt: skip
    assert flagged.returncode == 2
    assert flagged.stderr.count("\n") == 1, flagged.stderr
    line = flagged.stderr.strip()
    assert line.startswith("kiosk: --broker: ") and "mqtt://10.1.2.3:1883" in line
    assert "loopback" in line and "mqtts://" in line
    assert "Traceback" not in flagged.stderr and flagged.stdout == ""

    config = tmp_path / "kiosk.toml"
    config.write_text(
        '[kiosk]\nid = "hu-01"\n[facility]\nid = "f1"\n'
        '[cloud]\nbrokers = ["mqtts://broker.example:8883", "mqtt://10.1.2.3:1883"]\n'
    )
    from_file = _run_kiosk(tmp_path, "--config", str(config))
    assert from_file.returncode == 2
    assert from_file.stderr.count("\n") == 1, from_file.stderr
    assert f"{config}: cloud.brokers: " in from_file.stderr
    assert "mqtt://10.1.2.3:1883" in from_file.stderr
