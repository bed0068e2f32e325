"""Birth, retained status, will and goodbye, against a real Mosquitto."""

from __future__ import annotations

import time

import paho.mqtt.client as mqtt

from cloudsim.sim import CloudSim
from tests.sync.conftest import FACILITY
from tests.waiting import wait_until


def _late_subscriber_sees(broker, topic: str) -> list[tuple[bytes, bool]]:
    """What a client that subscribes only now receives on ``topic``: its retained message."""
    seen: list[tuple[bytes, bool]] = []
    client = mqtt.Client(
        callback_api_version=mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5
    )
    client.on_message = lambda _c, _u, message: seen.append((message.payload, message.retain))
    client.connect("127.0.0.1", broker.port)
    client.subscribe(topic, qos=1)
    client.loop_start()
    wait_until(lambda: seen, 5.0, f"the retained message on {topic}")
    client.loop_stop()
    client.disconnect()
    return seen


def test_birth_is_retained_and_a_clean_stop_says_offline_not_lost(broker, cloud, kiosk_process):
    kiosk = kiosk_process("hu-01").start()
    birth = cloud.wait_for(lambda r: r.kind == "status" and r["state"] == "online", timeout=20)[0]
    assert birth["v"] == 1 and birth["type"] == "status"
    assert birth["role"] == "housing" and birth["reason"] == "connected"
    assert birth["version"] and birth["started_at"].endswith("Z")
    # A console that connects later still learns the kiosk is online (retained).
    seen = _late_subscriber_sees(broker, f"kiosk/v1/{FACILITY}/hu-01/up/status")
    assert seen and seen[-1][1] is True and b'"online"' in seen[-1][0]

    assert kiosk.terminate() == 0
    goodbye = cloud.wait_for(lambda r: r.kind == "status" and r["state"] == "offline")[0]
    assert goodbye["reason"] == "shutdown"
    time.sleep(1.0)  # had the broker sent the will, it would arrive now
    states = [(r["state"], r["reason"]) for r in cloud.received("status", "hu-01")]
    assert ("offline", "lost") not in states
    seen = _late_subscriber_sees(broker, f"kiosk/v1/{FACILITY}/hu-01/up/status")
    assert b'"shutdown"' in seen[-1][0] and seen[-1][1] is True


def test_kill_9_leaves_the_will_retained(broker, cloud, kiosk_process):
    kiosk = kiosk_process("hu-02").start()
    cloud.wait_for(lambda r: r.kind == "status" and r["state"] == "online", timeout=20)
    kiosk.kill()
    will = cloud.wait_for(lambda r: r.kind == "status" and r["state"] == "offline", timeout=10)[0]
    assert dict(will) == {"v": 1, "type": "status", "state": "offline", "reason": "lost"}
    seen = _late_subscriber_sees(broker, f"kiosk/v1/{FACILITY}/hu-02/up/status")
    assert seen[-1] == (b'{"v":1,"type":"status","state":"offline","reason":"lost"}', True)


def test_the_kiosk_resumes_its_session_and_gets_what_was_queued_while_off(
    broker, cloud: CloudSim, kiosk_process
):
    """clean_start=False with a week's session expiry: commands sent while the kiosk was off
    are delivered when it returns."""
    kiosk = kiosk_process("hu-03").start()
    cloud.wait_for(lambda r: r.kind == "status" and r["state"] == "online", timeout=20)
    assert kiosk.terminate() == 0
    command_id = cloud.send_command("hu-03", "lock", {"reason": "count time"})
    kiosk.start()
    result = cloud.wait_for(
        lambda r: r.kind == "cmd-result" and r["command_id"] == command_id, timeout=20
    )[0]
    assert result["ok"] is True
