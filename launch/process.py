"""What running a kiosk process takes besides the kiosk: signals, start-up, the cloud link.

Shared by the headless runner (launch.cli) and the window (launch.window).
"""

from __future__ import annotations

import asyncio
import gc
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiosk.core.kiosk import Kiosk
    from kiosk.sync.service import SyncService

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class EarlyStop:
    """Stop signals that arrive before the event loop can take them, kept for it."""

    def __init__(self) -> None:
        self.received: list[int] = []
        for signum in STOP_SIGNALS:
            signal.signal(signum, lambda received, _frame: self.received.append(received))

    def hand_to(self, loop: asyncio.AbstractEventLoop, stop: Callable[[], object]) -> None:
        """From now on the loop calls ``stop`` on a signal; one that came early stops at once."""
        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, stop)
        if self.received:
            loop.call_soon(stop)


def start_sync(kiosk: Kiosk) -> SyncService | None:
    """The cloud connection, when the configuration names a broker; None offline. It sends
    from the kiosk's own outbox (built with the kiosk by kiosk.assembly)."""
    if not kiosk.config.brokers:
        return None
    from kiosk.sync.service import SyncService

    sync = SyncService(kiosk, kiosk.outbox)
    sync.start()
    return sync


def startup_done() -> None:
    """The kiosk is up: what start-up built stays, so the collector need not walk it again."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
