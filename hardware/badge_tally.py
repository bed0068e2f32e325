"""What a badge reader counts, and the log lines that go with the counts: never a badge."""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReaderStats:
    """Counts since the reader was built, for telemetry and tests; never a badge."""

    badges: int = 0  # events emitted
    repeats: int = 0  # reads of a badge still on the reader, not emitted
    bad_frames: int = 0  # cards that were not a badge of the format, or ran too long
    dropped_partials: int = 0  # half-read cards dropped: the line went quiet or a new one began
    reconnects: int = 0  # times the device was opened again after it was lost


class BadgeTally:
    """One reader's counts (written by its thread only; ``stats`` is a consistent snapshot)."""

    def __init__(self, reader: str, card_format: str) -> None:
        self._reader = reader  # "badge reader /dev/kiosk-badge", for the log
        self._format = card_format
        self.stats = ReaderStats()

    def count(self, **increments: int) -> None:
        s = self.stats
        self.stats = ReaderStats(
            **{f.name: getattr(s, f.name) + increments.get(f.name, 0) for f in fields(s)}
        )

    def bad(self, n: int = 1) -> None:
        """``n`` cards that were no badge of the format (their content is never logged)."""
        self.count(bad_frames=n)
        total = self.stats.bad_frames
        # A reader at the wrong speed or format makes a bad card per read: warn on the first
        # and then every hundredth, not on each.
        first_or_hundredth = total == n or total // 100 > (total - n) // 100
        log.log(
            logging.WARNING if first_or_hundredth else logging.DEBUG,
            "%s: ignored a card that is not a %s badge (%d so far)",
            self._reader,
            self._format,
            total,
        )

    def dropped(self, n: int) -> None:
        """``n`` half-read cards dropped."""
        if n:
            self.count(dropped_partials=n)
            log.debug("%s: dropped a half-read card", self._reader)
