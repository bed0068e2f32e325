"""The newest warnings and errors of the log, for the maintenance screen's "last errors".

Logs hold no resident data (the kiosk never logs a badge, a PIN or a message), so a technician
may read them on the screen. One keeper per kiosk, attached while the kiosk runs.
"""

from __future__ import annotations

import collections
import logging
import time

KEPT = 20


class RecentProblems(logging.Handler):
    """Keeps the last :data:`KEPT` records of WARNING and above, as one short line each."""

    def __init__(self, kept: int = KEPT) -> None:
        super().__init__(logging.WARNING)
        self._lines: collections.deque[str] = collections.deque(maxlen=kept)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage().splitlines()[0] if record.msg else ""
        except Exception:  # a bad format must not break the logging of others
            message = str(record.msg)
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        self._lines.append(f"{stamp} {record.levelname.lower()} {record.name}: {message}"[:200])

    def newest_first(self) -> tuple[str, ...]:
        return tuple(reversed(self._lines))

    def attach(self) -> None:
        logging.getLogger().addHandler(self)

    def detach(self) -> None:
        logging.getLogger().removeHandler(self)
