"""WebRTC signalling for one visit, carried by the kiosk's sync layer (MQTT via the cloud).

The idea is aiortc's ``contrib.signaling``: a small object with ``send`` and ``receive`` that a
peer connection drives, whatever carries the messages. Here the carrier is the contract's
``signal`` payload: ``send`` builds one with :func:`kiosk.contract.builders.signal` and hands it to
``publish`` (the sync service's ``up/signal``); the core calls :meth:`VisitSignalling.deliver`
with every ``down/signal`` it receives, and :meth:`VisitSignalling.receive` hands the next one
for this visit to the call.

What travels (``protocol.md``, ``signal``):

- :data:`READY` (``ready``): this side's participant has joined, again after any reconnect.
- :class:`RTCSessionDescription` (``offer`` / ``answer``): the whole SDP, every candidate in it
  (aiortc gathers them all in ``setLocalDescription``; it has no trickle ICE).
- :class:`RTCIceCandidate` (``candidate``): optional in the contract; understood if a peer (the
  cloud's media gateway) trickles them, never needed between two kiosks.
- :class:`Bye` (``bye``, with a ``reason``): the call is over.

Signals for another visit, and our own signals echoed back by the relay, are ignored.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiortc import RTCIceCandidate, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp, candidate_to_sdp

from kiosk.contract import builders as uplink

log = logging.getLogger(__name__)

# Signals waiting for the call beyond this many are dropped oldest first: a flood from a broken
# relay must not grow without bound, and a call only ever needs the last few.
_QUEUE_LIMIT = 64


@dataclass(frozen=True)
class Ready:
    """``ready``: the participant on that side has joined the visit (again)."""


READY = Ready()


@dataclass(frozen=True)
class Bye:
    """``bye``: the call is over; ``reason`` says why (``hangup``, ``schedule``, ...)."""

    reason: str | None = None


SignalObject = RTCSessionDescription | RTCIceCandidate | Ready | Bye


class VisitSignalling:
    """Signalling for one visit: ``send`` publishes, ``deliver`` feeds, ``receive`` waits.

    ``publish`` receives a contract ``signal`` payload (a dict) to send on ``up/signal``; it may
    return an awaitable, which :meth:`send` awaits. :meth:`deliver` and :meth:`receive` run on
    the kiosk's event loop.
    """

    def __init__(
        self, visit_id: str, kiosk_id: str, publish: Callable[[dict[str, Any]], object]
    ) -> None:
        self._visit_id = visit_id
        self._kiosk_id = kiosk_id
        self._publish = publish
        self._queue: asyncio.Queue[SignalObject] = asyncio.Queue()

    @property
    def visit_id(self) -> str:
        return self._visit_id

    @property
    def kiosk_id(self) -> str:
        return self._kiosk_id

    async def send(self, obj: SignalObject) -> None:
        """Publish ``obj`` as a ``signal`` payload from this kiosk for this visit."""
        payload = self._payload(obj)
        log.debug("visit %s: sending %s", self._visit_id, payload["kind"])
        result = self._publish(payload)
        if inspect.isawaitable(result):
            await result

    def deliver(self, payload: Mapping[str, Any] | Any) -> bool:
        """Hand a received ``signal`` (its dict, or the validated pydantic model) to the call.

        Returns whether it was queued: signals for another visit, from this kiosk itself, or
        that make no sense (an offer without SDP) are dropped.
        """
        fields = _fields(payload)
        if fields is None:
            log.warning("visit %s: a signal that is not a mapping was dropped", self._visit_id)
            return False
        if fields.get("visit_id") != self._visit_id or fields.get("from_kiosk_id") in (
            None,
            self._kiosk_id,
        ):
            return False
        if fields.get("type", "signal") != "signal":
            return False
        obj = _decode(fields)
        if obj is None:
            log.warning(
                "visit %s: a %r signal was dropped (malformed)", self._visit_id, fields.get("kind")
            )
            return False
        if self._queue.qsize() >= _QUEUE_LIMIT:
            dropped = self._queue.get_nowait()
            log.warning("visit %s: signal queue full, dropped a %s", self._visit_id, dropped)
        self._queue.put_nowait(obj)
        return True

    async def receive(self) -> SignalObject:
        """The next signal from the peer, in the order they arrived."""
        return await self._queue.get()

    def pending(self) -> int:
        """How many signals wait to be received."""
        return self._queue.qsize()

    def _payload(self, obj: SignalObject) -> dict[str, Any]:
        visit, me = self._visit_id, self._kiosk_id
        if isinstance(obj, RTCSessionDescription):
            if obj.type not in ("offer", "answer"):
                raise ValueError(f"only offers and answers are signalled, not {obj.type!r}")
            return uplink.signal(visit, me, obj.type, sdp=obj.sdp)
        if isinstance(obj, RTCIceCandidate):
            return uplink.signal(
                visit,
                me,
                "candidate",
                candidate="candidate:" + candidate_to_sdp(obj),
                sdp_mid=obj.sdpMid,
                sdp_mline_index=obj.sdpMLineIndex,
            )
        if isinstance(obj, Ready):
            return uplink.signal(visit, me, "ready")
        if isinstance(obj, Bye):
            return uplink.signal(visit, me, "bye", reason=obj.reason)
        raise TypeError(f"cannot signal a {type(obj).__name__}")


def _fields(payload: Mapping[str, Any] | Any) -> Mapping[str, Any] | None:
    if isinstance(payload, Mapping):
        return payload
    dump = getattr(payload, "model_dump", None)  # a pydantic SignalPayload
    if callable(dump):
        fields = dump()
        return fields if isinstance(fields, Mapping) else None
    return None


def _decode(fields: Mapping[str, Any]) -> SignalObject | None:
    kind = fields.get("kind")
    if kind == "ready":
        return READY
    if kind == "bye":
        reason = fields.get("reason")
        return Bye(reason if isinstance(reason, str) else None)
    if kind in ("offer", "answer"):
        sdp = fields.get("sdp")
        return RTCSessionDescription(sdp=sdp, type=kind) if isinstance(sdp, str) and sdp else None
    if kind == "candidate":
        return _candidate(fields)
    return None


def _candidate(fields: Mapping[str, Any]) -> RTCIceCandidate | None:
    text = fields.get("candidate")
    if not isinstance(text, str) or not text.strip():
        return None  # an empty candidate means "end of candidates": nothing to add
    text = text.strip()
    if text.startswith("candidate:"):
        text = text[len("candidate:") :]
    try:
        candidate = candidate_from_sdp(text)
    except (ValueError, IndexError):
        return None
    mid, index = fields.get("sdp_mid"), fields.get("sdp_mline_index")
    candidate.sdpMid = mid if isinstance(mid, str) else None
    candidate.sdpMLineIndex = index if isinstance(index, int) else None
    return candidate
