"""A kiosk provisioned from nothing: ``kiosk-provision enroll`` then ``install``, timed from
process start to exit, against baselines measured in the same run.

    python bench/provision.py [--runs 5]

One Mosquitto (the shipped ACL) with the cloud simulator's enrollment service (claim gate and
responder, cloudsim/enroll.py) on loopback. Each run, in its own scratch root:

* kiosk: ``kiosk-provision enroll --non-interactive`` with every answer as a flag (the
  technician's typing is not timed), then ``kiosk-provision install --root``; each timed from
  process start to exit. Enroll's own ``--json`` summary gives its steps' times.
* bare exchange: a process that imports paho, logs in through the same gate with a token,
  subscribes, publishes one message and waits for the answer of a bare echo worker (no
  checks, no signing): the enrollment's network part and nothing else.
* bare key: a process that imports cryptography and makes an EC P-256 key and a CSR.
* bare python: ``python -c pass``.

Runs alternate; medians. The goal (the "Appliance" issue): enroll plus install under 2 minutes.
Figures go to bench/results/provision.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
if str(REPO_DIR) not in sys.path:
    sys.path.insert(0, str(REPO_DIR))

import paho.mqtt.client as mqtt  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402

from cloudsim.broker import LocalBroker, free_port  # noqa: E402
from cloudsim.enroll import CSR_FILTER, EnrollmentService, Facility  # noqa: E402
from cloudsim.tls import make_test_pki  # noqa: E402

GOAL_S = 120.0
BARE_EXCHANGE = """
import sys, threading, time, uuid
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
host, port, token = sys.argv[1], int(sys.argv[2]), sys.argv[3]
request = str(uuid.uuid4())
done = threading.Event()
client = mqtt.Client(CallbackAPIVersion.VERSION2, f"claim-{request}", protocol=mqtt.MQTTv5)
client.username_pw_set("claim", token)
client.on_connect = lambda c, *a: c.subscribe(f"kiosk/v1/provision/{request}/down/result", 1)
client.on_subscribe = lambda c, *a: c.publish(f"kiosk/v1/provision/{request}/up/csr", b"{}", 1)
client.on_message = lambda *a: done.set()
client.connect(host, port, 30, clean_start=True)
client.loop_start()
if not done.wait(30):
    sys.exit("no answer")
client.disconnect()
client.loop_stop()
"""
BARE_KEY = """
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
key = ec.generate_private_key(ec.SECP256R1())
csr = x509.CertificateSigningRequestBuilder().subject_name(
    x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hu-01")])).sign(key, hashes.SHA256())
csr.public_bytes(serialization.Encoding.PEM)
"""


def timed(argv: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    began = time.monotonic()
    result = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    elapsed = time.monotonic() - began
    if result.returncode != 0:
        raise SystemExit(f"{argv[:4]} failed ({result.returncode}):\n{result.stderr}")
    return elapsed, result


class EchoWorker:
    """The bare exchange's other side: every CSR answered at once with its own bytes."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("mqtt://").split(":")
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            f"bench-echo-{uuid.uuid4().hex[:6]}",
            protocol=mqtt.MQTTv5,
        )
        self.client.username_pw_set("facility-cloud")
        self.client.on_connect = lambda c, *a: c.subscribe(CSR_FILTER, 1)
        self.client.on_message = self._echo
        self.client.connect(host, int(port), 30, clean_start=True)
        self.client.loop_start()

    def _echo(self, client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        topic = message.topic.removesuffix("/up/csr") + "/down/result"
        client.publish(topic, message.payload, 1)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-provision-"))
    samples: dict[str, list[float]] = {
        name: []
        for name in ("enroll", "install", "total", "bare_exchange", "bare_key", "bare_python")
    }
    steps: dict[str, list[float]] = {}
    broker = None
    try:
        pki = make_test_pki(workdir / "pki")
        shutil.copyfile(REPO_DIR / "systemd/mosquitto/acl", workdir / "acl")
        port = free_port()
        broker = LocalBroker(
            workdir / "broker",
            port,
            listener_config=[
                f"listener {port} 127.0.0.1",
                "allow_anonymous true",
                f"acl_file {workdir / 'acl'}",
            ],
        ).start()
        facility = Facility.from_files(
            "f1", pki["ca_file"], pki["ca_key"], ["mqtts://broker.facility.example:8883"]
        )
        provision = [sys.executable, "-m", "provisioning.cli"]
        with EnrollmentService(broker.url, facility) as service:
            for run in range(args.runs):
                root = workdir / f"root-{run}"
                enroll_s, result = timed(
                    [
                        *provision,
                        "enroll",
                        "--root",
                        str(root),
                        "--non-interactive",
                        "--json",
                        "--facility",
                        "f1",
                        "--kiosk-id",
                        f"hu-{run:02d}",
                        "--role",
                        "housing",
                        "--housing-unit",
                        "B",
                        "--broker",
                        service.url,
                        f"--token={service.issue_token()}",
                    ]
                )
                for step, seconds in json.loads(result.stdout)["timings_s"].items():
                    steps.setdefault(step, []).append(seconds)
                install_s, _ = timed([*provision, "install", "--root", str(root)])
                samples["enroll"].append(enroll_s)
                samples["install"].append(install_s)
                samples["total"].append(enroll_s + install_s)
                # The echo worker answers beside the responder, which refuses the empty CSR
                # (the token stays unspent): whichever answer comes first ends the exchange,
                # one round trip either way.
                echo = EchoWorker(broker.url)
                try:
                    host, gate_port = service.url.removeprefix("mqtt://").split(":")
                    bare_s, _ = timed(
                        [
                            sys.executable,
                            "-c",
                            BARE_EXCHANGE,
                            host,
                            gate_port,
                            service.issue_token(),
                        ]
                    )
                finally:
                    echo.stop()
                samples["bare_exchange"].append(bare_s)
                samples["bare_key"].append(timed([sys.executable, "-c", BARE_KEY])[0])
                samples["bare_python"].append(timed([sys.executable, "-c", "pass"])[0])
                print(
                    f"run {run + 1}/{args.runs}: enroll {enroll_s:.2f} s, install "
                    f"{install_s:.2f} s; bare exchange {bare_s:.2f} s",
                    flush=True,
                )
    finally:
        if broker is not None:
            broker.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    medians = {name: statistics.median(values) for name, values in samples.items()}
    step_medians = {name: statistics.median(values) for name, values in steps.items()}
    print()
    print(f"| figure (median of {args.runs}) | kiosk-provision | baseline, same run | goal |")
    print("| --- | --- | --- | --- |")
    print(
        f"| enroll, process start to exit | **{medians['enroll']:.2f} s** | bare exchange "
        f"process {medians['bare_exchange']:.2f} s; bare key + CSR process "
        f"{medians['bare_key']:.2f} s; `python -c pass` {medians['bare_python']:.3f} s | |"
    )
    print(f"| install --root | **{medians['install']:.2f} s** | | |")
    print(
        f"| enroll + install | **{medians['total']:.2f} s** | | under {GOAL_S:.0f} s: "
        f"{'met' if medians['total'] < GOAL_S else 'missed'} |"
    )
    for step, seconds in step_medians.items():
        print(f"| enroll step: {step} | {seconds:.3f} s | | |")
    result = {
        "bench": "provision",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": _cpus()},
        "runs": args.runs,
        "samples_s": samples,
        "medians_s": medians,
        "enroll_steps_median_s": step_medians,
        "goal_s": GOAL_S,
    }
    out = BENCH_DIR / "results" / "provision.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"\nfigures written to {out.relative_to(REPO_DIR)}")
    return 0


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    sys.exit(main())
