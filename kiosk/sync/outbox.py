"""Draining the durable outbox over the link: in order, a window in flight, deleted on PUBACK.

Runs on the link's thread. Acknowledged records are deleted in batches (one transaction per
batch): with ``synchronous=FULL`` every commit is a disk flush, and a crash between PUBACK and
delete only means the cloud sees that record twice, which the contract allows (ids dedupe).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from kiosk.store.outbox import OutboxRepository

RECHECK_S = 5.0


class OutboxSender:
    def __init__(
        self,
        repository: OutboxRepository,
        *,
        window: int = 100,
        flush_every: int = 200,
        flush_after_s: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        on_messages_sent: Callable[[list[str]], None] | None = None,
    ) -> None:
        """``on_messages_sent``: residents' messages the broker now has (their ids)."""
        self.repository = repository
        self.on_messages_sent = on_messages_sent
        self.window = window
        self.flush_every = flush_every
        self.flush_after_s = flush_after_s
        self._clock = clock
        self._inflight: dict[int, int] = {}  # mid -> seq, on the current connection only
        self._last_sent = 0
        self._acked: list[int] = []
        self._first_ack_at = 0.0
        self.delivered = 0  # records the broker acknowledged since start
        self.refusals = 0  # records the broker answered with a failure since start
        # Whether the outbox may hold records this connection has not sent: an idle kiosk
        # then does not query it every turn. Writers elsewhere (another process) are caught
        # by a look every RECHECK_S.
        self._more = True
        self._looked_at = 0.0

    def connected(self) -> None:
        """A new connection: everything not yet deleted goes again, from the oldest."""
        self._inflight.clear()
        self._last_sent = 0
        self._more = True

    def wake(self) -> None:
        """Something was appended: look again."""
        self._more = True

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

    def refused(self, mid: int) -> None:
        """The broker would not take it: it stays in the outbox and goes again on the next
        connection (a broker's ACL fixed, a certificate replaced), never deleted unsent."""
        if self._inflight.pop(mid, None) is not None:
            self.refusals += 1

    def flush(self) -> None:
        if self._acked:
            sent = self.repository.delete_acknowledged(self._acked)
            self._acked = []
            if sent and self.on_messages_sent is not None:
                self.on_messages_sent(sent)

    def pump(self, publish: Callable[[str, bytes], int | None]) -> None:
        """Delete what was acknowledged (when a batch is due) and fill the window again."""
        if self._acked and (
            len(self._acked) >= self.flush_every
            or self._clock() - self._first_ack_at >= self.flush_after_s
            or not self._inflight
        ):
            self.flush()
        now = self._clock()
        if now - self._looked_at >= RECHECK_S:
            self._more = True
        while self._more and len(self._inflight) < self.window:
            limit = self.window - len(self._inflight)
            records = self.repository.pending(after_seq=self._last_sent, limit=limit)
            self._looked_at = now
            if len(records) < limit:
                self._more = False  # all there is, for now
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
