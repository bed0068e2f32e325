"""A message from the broker as the inbox takes it: no MQTT library needed to read one."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Incoming:
    """A message from the broker, with what ``ack`` needs to acknowledge it later."""

    topic: str
    payload: bytes
    retain: bool
    mid: int
    qos: int
    generation: int
