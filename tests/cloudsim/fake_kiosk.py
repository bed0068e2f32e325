"""A plain paho client playing a kiosk: what the cloud's tests see from the other side."""

from __future__ import annotations

import json
import queue
import threading
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from kiosk.contract.topics import Topics


class FakeKiosk:
    """The kiosk's side, bare: subscribes as the ACL allows, publishes uplinks at QoS 1."""

    def __init__(self, port: int, facility: str, kiosk_id: str) -> None:
        self.topics = Topics(facility, kiosk_id)
        self.inbox: queue.Queue[tuple[str, dict[str, Any], bool]] = queue.Queue()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=kiosk_id,
            protocol=mqtt.MQTTv5,
        )
        self.client.on_connect = lambda c, *_: c.subscribe(
            [(t, 1) for t in self.topics.subscriptions]
        )
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self._subscribed.wait(5), "kiosk client did not subscribe"

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        kind = self.topics.downlink_kind(message.topic) or message.topic
        try:
            payload: Any = json.loads(message.payload) if message.payload else {}
        except ValueError:
            payload = bytes(message.payload)  # bad input sent on purpose
        self.inbox.put((kind, payload, bool(message.retain)))

    def publish(self, kind: str, payload: dict[str, Any], retain: bool = False) -> None:
        """Publish, and return once the broker has it (its PUBACK): retained, if asked."""
        sent = self.client.publish(self.topics.up(kind), json.dumps(payload), qos=1, retain=retain)
        sent.wait_for_publish(5)
        assert sent.is_published(), f"no PUBACK for {kind} within 5 s"

    def next(self, timeout: float = 5.0) -> tuple[str, dict[str, Any], bool]:
        return self.inbox.get(timeout=timeout)

    def take(self, count: int, timeout: float = 5.0) -> list[tuple[str, dict[str, Any], bool]]:
        return [self.next(timeout) for _ in range(count)]

    def nothing_more(self, wait: float = 0.3) -> bool:
        try:
            self.inbox.get(timeout=wait)
        except queue.Empty:
            return True
        return False

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
