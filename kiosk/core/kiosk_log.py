"""A kiosk's own log: each record carries the kiosk's id, so that the maintenance screen of one
kiosk shows its own warnings and never another's in the same process."""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

KIOSK_ID = "kiosk_id"  # the LogRecord attribute


class KioskLog(logging.LoggerAdapter):
    """``kiosk.core``'s logger, with the kiosk's id on every record."""

    def __init__(self, kiosk_id: str, name: str = "kiosk.core") -> None:
        super().__init__(logging.getLogger(name), {KIOSK_ID: kiosk_id})

    def process(
        self, msg: Any, kwargs: MutableMapping[str, Any]
    ) -> tuple[Any, MutableMapping[str, Any]]:
        kwargs["extra"] = {**self.extra, **kwargs.get("extra", {})}
        return msg, kwargs

    def child(self, name: str) -> KioskLog:
        return KioskLog(self.extra[KIOSK_ID], name)
