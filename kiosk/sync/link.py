"""The kiosk's one MQTT connection: paho-mqtt 2.x, MQTT 5, in a thread of its own.

One paho client per connection attempt: paho keeps unacknowledged messages in memory and
would resend them itself after a reconnect, beside the outbox that already does so durably.
The thread runs paho's socket through its own ``poll`` so that work handed over from other
threads (``call``) wakes it at once instead of at the next keepalive tick. ``poll``, not
``select``: select() refuses a descriptor of 1024 or more, which a process holding many
kiosks (bench/fleet.py) or many open files soon hands out.
"""

from __future__ import annotations

import contextlib
import logging
import math
import queue
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kiosk.contract.connection import KEEPALIVE_S, QOS, SESSION_EXPIRY_S
from kiosk.contract.endpoints import Endpoint
from kiosk.sync.backoff import Backoff
from kiosk.sync.incoming import Incoming

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class TlsFiles:
    ca_file: Path
    cert_file: Path
    key_file: Path


class LinkHandler:
    """What the link tells its owner; every method runs on the link's thread."""

    def connected(self, link: MqttLink, generation: int) -> None: ...
    def disconnected(self, link: MqttLink, generation: int, reason: str) -> None: ...
    def message(self, link: MqttLink, incoming: Incoming) -> None: ...
    def published(self, link: MqttLink, generation: int, mid: int) -> None: ...
    def refused(self, link: MqttLink, generation: int, mid: int, reason: str) -> None:
        """The broker answered a publish with a failure: not delivered."""

    def idle(self, link: MqttLink) -> None:
        """Called after every turn of the thread's loop: the place to publish more."""


class MqttLink:
    """Connects to the endpoints in turn, with full-jitter backoff, until stopped."""

    def __init__(
        self,
        *,
        client_id: str,
        endpoints: list[Endpoint],
        handler: LinkHandler,
        subscriptions: tuple[str, ...],
        will: tuple[str, bytes],
        tls: TlsFiles | None = None,
        backoff: Backoff | None = None,
        max_inflight: int = 100,
        turns: threading.Lock | None = None,
    ) -> None:
        """``turns``: a lock shared by the links of one process, so that they take turns at
        their work (not at waiting for it). A kiosk process has one link and needs none. A
        process holding hundreds (bench/fleet.py) would otherwise have them all runnable at once
        when the cloud publishes to every kiosk, and CPython's threads then spend more time
        handing the GIL round than working (fleet p95 at 1,000 kiosks: 20 s without, 2 s with).
        A plain Lock: its waiters sleep in C."""
        if not endpoints:
            raise ValueError("no broker to connect to")
        self.client_id = client_id
        self.endpoints = endpoints
        self.handler = handler
        self.subscriptions = subscriptions
        self.will = will
        self.tls = tls
        self.backoff = backoff or Backoff()
        self.max_inflight = max_inflight
        self._turns = turns or threading.Lock()
        self.generation = 0
        self.endpoint: Endpoint | None = None
        self.connect_count = 0
        self._client: mqtt.Client | None = None
        self._connected = False
        self._last_reason = ""
        self._stopping = threading.Event()
        self._calls: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._thread: threading.Thread | None = None

    # --- from any thread -------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._run, name=f"mqtt-{self.client_id}", daemon=True
        )
        self._thread.start()

    def call(self, work: Callable[[], None]) -> None:
        """Run ``work`` on the link's thread, soon."""
        self._calls.put(work)
        self._wake()

    def stop(self, last_words: tuple[str, bytes] | None = None, timeout: float = 5.0) -> None:
        """Publish ``last_words`` (the retained offline status) if connected, then disconnect
        normally so the broker does not send the will."""
        if self._thread is None:
            return
        done = threading.Event()

        def farewell() -> None:
            client = self._client
            try:
                if client is not None and self._connected and last_words is not None:
                    topic, payload = last_words
                    info = client.publish(topic, payload, qos=QOS, retain=True)
                    deadline = time.monotonic() + min(timeout, 3.0)
                    # A failed rc: paho already knows the connection is gone (the link learns
                    # it at its next turn) and is_published() would raise. No goodbye then.
                    while (
                        info.rc == mqtt.MQTT_ERR_SUCCESS
                        and not info.is_published()
                        and time.monotonic() < deadline
                    ):
                        if not self._exchange(client, 0.05):
                            break
                if client is not None:
                    client.disconnect(reasoncode=None)
                    self._exchange(client, 0.1)
            finally:
                # Whatever happened above, the link stops now: not after stop()'s timeout, on a
                # connection made meanwhile and then dropped without DISCONNECT.
                self._stopping.set()
                done.set()

        self.call(farewell)
        done.wait(timeout)
        self._stopping.set()
        self._wake()
        self._thread.join(timeout)
        self._thread = None

    @property
    def connected(self) -> bool:
        return self._connected

    # --- on the link's thread ---------------------------------------------------------------

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> int | None:
        """QoS 1 publish on the current connection; its mid, or None when not connected."""
        client = self._client
        if client is None or not self._connected:
            return None
        info = client.publish(topic, payload, qos=QOS, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            return None
        return info.mid

    def ack(self, incoming: Incoming) -> None:
        """Acknowledge a message once it is committed; stale connections are not acked."""
        client = self._client
        if client is not None and incoming.generation == self.generation and self._connected:
            client.ack(incoming.mid, incoming.qos)

    def drop_connection(self) -> None:
        """Close the socket without DISCONNECT (tests; a resync): reconnects as after a fault."""
        client = self._client
        if client is not None and client.socket() is not None:
            client.socket().close()

    def _run(self) -> None:
        index = 0
        while not self._stopping.is_set():
            endpoint = self.endpoints[index % len(self.endpoints)]
            reason = self._session(endpoint)
            if self._stopping.is_set():
                break
            index += 1
            delay = self.backoff.next_delay()
            log.info("broker %s: %s; next try in %.1f s", endpoint, reason, delay)
            self._sleep(delay)
        self._wake_r.close()
        self._wake_w.close()

    def _session(self, endpoint: Endpoint) -> str:
        """One connection from connect to loss; returns why it ended."""
        self.generation += 1
        generation = self.generation
        self._last_reason = ""
        client = self._new_client(endpoint)
        self.endpoint = endpoint
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = SESSION_EXPIRY_S
        try:
            client.connect(
                endpoint.host,
                endpoint.port,
                keepalive=KEEPALIVE_S,
                clean_start=False,
                properties=properties,
            )
        except (OSError, ssl.SSLError, ValueError) as error:
            return f"cannot connect ({error.__class__.__name__}: {error})"
        self._client = client
        connect_deadline = time.monotonic() + CONNECT_TIMEOUT_S
        reason = "connection lost"
        try:
            while not self._stopping.is_set():
                if not self._connected and time.monotonic() > connect_deadline:
                    reason = "no CONNACK in time"
                    break
                if not self._turn(client):
                    reason = self._last_reason or "connection lost"
                    break
        finally:
            was_connected = self._connected
            self._connected = False
            self._client = None
            try:
                sock = client.socket()
                if sock is not None:
                    sock.close()
            except OSError:
                pass
            if was_connected:
                self.handler.disconnected(self, generation, reason)
        return reason

    def _turn(self, client: mqtt.Client) -> bool:
        """One turn: wait for the socket or a wake-up, let paho work, run handed-over calls."""
        sock = client.socket()
        if sock is None:
            return False
        try:
            fd, wake = sock.fileno(), self._wake_r.fileno()
            writers = (fd,) if client.want_write() else ()
            readable, writable = _wait((fd, wake), writers, 1.0)
        except (OSError, ValueError):
            return False
        with self._turns:
            return self._work(client, fd, readable, writable)

    def _work(self, client: mqtt.Client, fd: int, readable: set[int], writable: set[int]) -> bool:
        """The turn's work, once the socket or a wake-up is ready: paho, calls, the outbox."""
        if self._wake_r.fileno() in readable:
            try:
                while self._wake_r.recv(4096):
                    pass
            except BlockingIOError:
                pass
        if fd in readable and client.loop_read() != mqtt.MQTT_ERR_SUCCESS:
            return False
        if (fd in writable or client.want_write()) and client.loop_write() not in (
            mqtt.MQTT_ERR_SUCCESS,
            mqtt.MQTT_ERR_AGAIN,
        ):
            return False
        if client.loop_misc() != mqtt.MQTT_ERR_SUCCESS:
            return False
        while True:
            try:
                work = self._calls.get_nowait()
            except queue.Empty:
                break
            try:
                work()
            except Exception:
                log.exception("sync work failed")
        if self._connected:
            self.handler.idle(self)
        if client.want_write() and client.loop_write() not in (
            mqtt.MQTT_ERR_SUCCESS,
            mqtt.MQTT_ERR_AGAIN,
        ):
            return False
        return client.socket() is not None

    def _exchange(self, client: mqtt.Client, timeout: float) -> bool:
        """Wait on the socket alone, then let paho read and write: the goodbye, which runs as a
        call inside a turn; other links take their turns while it waits."""
        sock = client.socket()
        if sock is None:
            return False
        try:
            fd = sock.fileno()
            self._turns.release()
            try:
                readable, _ = _wait((fd,), (fd,) if client.want_write() else (), timeout)
            finally:
                self._turns.acquire()
        except (OSError, ValueError):
            return False
        if fd in readable and client.loop_read() != mqtt.MQTT_ERR_SUCCESS:
            return False
        return not client.want_write() or client.loop_write() in (
            mqtt.MQTT_ERR_SUCCESS,
            mqtt.MQTT_ERR_AGAIN,
        )

    def _new_client(self, endpoint: Endpoint) -> mqtt.Client:
        client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=mqtt.MQTTv5,
        )
        client.manual_ack_set(True)
        client.max_inflight_messages_set(self.max_inflight)
        client.max_queued_messages_set(0)
        topic, payload = self.will
        client.will_set(topic, payload, qos=QOS, retain=True)
        if endpoint.tls:
            if self.tls is None:
                raise ValueError(
                    f"{endpoint}: TLS needs cloud.ca_file, cloud.cert_file, cloud.key_file"
                )
            client.tls_set(
                ca_certs=str(self.tls.ca_file),
                certfile=str(self.tls.cert_file),
                keyfile=str(self.tls.key_file),
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )
        generation = self.generation

        def on_connect(
            _client: Any, _userdata: Any, _flags: Any, reason_code: Any, _props: Any
        ) -> None:
            if reason_code.is_failure:
                self._last_reason = f"refused: {reason_code}"
                return
            self._connected = True
            self.connect_count += 1
            self.backoff.reset()
            for topic_filter in self.subscriptions:
                client.subscribe(topic_filter, qos=QOS)
            self.handler.connected(self, generation)

        def on_disconnect(
            _client: Any, _userdata: Any, _flags: Any, reason_code: Any, _props: Any
        ) -> None:
            self._last_reason = f"disconnected: {reason_code}"

        def on_message(_client: Any, _userdata: Any, message: mqtt.MQTTMessage) -> None:
            self.handler.message(
                self,
                Incoming(
                    topic=message.topic,
                    payload=message.payload,
                    retain=bool(message.retain),
                    mid=message.mid,
                    qos=message.qos,
                    generation=generation,
                ),
            )

        def on_publish(_client: Any, _userdata: Any, mid: int, reason: Any, _props: Any) -> None:
            # Mosquitto answers a publish its ACL refuses with a PUBACK of "Not authorized":
            # that record was not delivered and must stay in the outbox.
            if reason is not None and getattr(reason, "is_failure", False):
                self.handler.refused(self, generation, mid, str(reason))
                return
            self.handler.published(self, generation, mid)

        client.on_connect = on_connect
        client.on_disconnect = on_disconnect
        client.on_message = on_message
        client.on_publish = on_publish
        return client

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            _wait((self._wake_r.fileno(),), (), left)
            try:
                while self._wake_r.recv(4096):
                    pass
            except (BlockingIOError, OSError):
                pass

    def _wake(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):  # already awake, or closed
            self._wake_w.send(b"\0")


_READ_EVENTS = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP | select.POLLNVAL
_WRITE_EVENTS = select.POLLOUT | select.POLLERR | select.POLLHUP | select.POLLNVAL


def _wait(
    readers: tuple[int, ...], writers: tuple[int, ...], timeout: float
) -> tuple[set[int], set[int]]:
    """``select.select`` for descriptors of any number, through poll(2): the readable and the
    writable descriptors (an error or a hang-up counts as both, as select reports it)."""
    masks: dict[int, int] = {}
    for fd in readers:
        masks[fd] = masks.get(fd, 0) | select.POLLIN
    for fd in writers:
        masks[fd] = masks.get(fd, 0) | select.POLLOUT
    poller = select.poll()
    for fd, mask in masks.items():
        poller.register(fd, mask)  # ValueError for a closed socket's -1, as select raised
    events = poller.poll(max(0, math.ceil(timeout * 1000)))
    readable = {fd for fd, event in events if event & _READ_EVENTS}
    writable = {fd for fd, event in events if event & _WRITE_EVENTS}
    return readable, writable
