"""Draining the durable outbox over the link: in order, a window in flight, deleted on PUBACK.

Runs on the link's thread. Acknowledged records are deleted in batches (one transaction per
batch): with ``synchronous=FULL`` every commit is a disk flush, and a crash between PUBACK and
delete only means the cloud sees that record twice, which the contract allows (ids dedupe).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from kiosk.store.outbox import OutboxRepository


class OutboxSender:
    def __init__(
        self,
        repository: OutboxRepository,
        *,
        window: int = 100,
        flush_every: int = 200,
        flush_after_s: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.repository = repository
        self.window = window
        self.flush_every = flush_every
        self.flush_after_s = flush_after_s
        self._clock = clock
        self._inflight: dict[int, int] = {}  # mid -> seq, on the current connection only
        self._last_sent = 0
        self._acked: list[int] = []
        self._first_ack_at = 0.0
        self.delivered = 0  # records the broker acknowledged since start

    def connected(self) -> None:
        """A new connection: everything not yet deleted goes again, from the oldest."""
        self._inflight.clear()
        self._last_sent = 0

    def disconnected(self) -> None:
        self.flush()
        self._inflight.clear()
        self._last_sent = 0

    def published(self, mid: int) -> None:
        seq = self._inflight.pop(mid, None)
        if seq is None:
            return
        if not self._acked:
            self._first_ack_at = self._clock()
        self._acked.append(seq)
        self.delivered += 1

    def flush(self) -> None:
        if self._acked:
            self.repository.delete(self._acked)
            self._acked = []

    def pump(self, publish: Callable[[str, bytes], int | None]) -> None:
        """Delete what was acknowledged (when a batch is due) and fill the window again."""
        if self._acked and (
            len(self._acked) >= self.flush_every
            or self._clock() - self._first_ack_at >= self.flush_after_s
            or not self._inflight
        ):
            self.flush()
        while len(self._inflight) < self.window:
            records = self.repository.pending(
                after_seq=self._last_sent, limit=self.window - len(self._inflight)
            )
            if not records:
                return
            for record in records:
                mid = publish(record.topic, record.payload)
                if mid is None:
                    return  # not connected any more: the next connection starts over
                self._inflight[mid] = record.seq
                self._last_sent = record.seq

    @property
    def inflight(self) -> int:
        return len(self._inflight)
