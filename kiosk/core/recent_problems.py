"""The newest warnings and errors of the log, for the maintenance screen's "last errors".

Logs hold no resident data (the kiosk never logs a badge, a PIN or a message), so a technician
may read them on the screen. One keeper per kiosk, attached while the kiosk runs. The kiosk's own
records carry its id (``kiosk.core.kiosk_log``); a keeper takes those of its kiosk, and the
records of shared code (adapters' threads, libraries) only when it is the only kiosk in the
process, as on a real kiosk: two kiosks in one process never see each other's warnings.
"""

from __future__ import annotations

import collections
import logging
import time

from kiosk.core.kiosk_log import KIOSK_ID

KEPT = 20


class RecentProblems(logging.Handler):
    """Keeps the last :data:`KEPT` records of WARNING and above, as one short line each."""

    def __init__(self, kiosk_id: str, kept: int = KEPT) -> None:
        super().__init__(logging.WARNING)
        self.kiosk_id = kiosk_id
        self._lines: collections.deque[str] = collections.deque(maxlen=kept)

    def filter(self, record: logging.LogRecord) -> bool:
        owner = getattr(record, KIOSK_ID, None)
        if owner is not None:
            return owner == self.kiosk_id
        return not any(
            isinstance(handler, RecentProblems) and handler is not self
            for handler in logging.getLogger().handlers
        )

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
