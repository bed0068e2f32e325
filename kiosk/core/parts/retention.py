"""Kept only as long as needed: once a day, and at start, what the facility's retention no
longer allows is purged from the kiosk (``kiosk.store.retention``), never during a session."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta

from kiosk.contract.times import utc_text
from kiosk.core.context import KioskContext
from kiosk.store.retention import purge

log = logging.getLogger(__name__)


class RetentionPurges:
    """Purges at the first tick of each (UTC) day on which nobody is using the kiosk."""

    def __init__(self, context: KioskContext, *, in_use: Callable[[], bool]) -> None:
        self._context = context
        self._in_use = in_use
        self._purged_on: date | None = None

    def tick(self) -> None:
        now = self._context.clock.now()
        if self._purged_on == now.date() or self._in_use():
            return
        self._purged_on = now.date()
        kept = self._context.settings.retention
        purged = purge(
            self._context.database,
            messages_before=utc_text(now - timedelta(days=kept.messages_days)),
            photos_before=utc_text(now - timedelta(days=kept.photos_days)),
            events_before=utc_text(now - timedelta(days=kept.events_days)),
        )
        if not purged:
            return
        log.info("retention: purged %s", purged)
        self._context.event(
            "retention_purged",
            {
                "messages": purged.messages,
                "photos": purged.photos,
                "events": purged.events,
                "messages_days": kept.messages_days,
                "photos_days": kept.photos_days,
                "events_days": kept.events_days,
            },
        )
        self._context.changed()
