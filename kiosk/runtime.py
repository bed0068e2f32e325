"""What running a kiosk process takes besides the kiosk: signals, start-up, the cloud link.

Shared by the headless runner (kiosk.cli) and the window (kiosk.ui.launch).
"""

from __future__ import annotations

import asyncio
import gc
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiosk.core.kiosk import Kiosk
    from kiosk.core.visit import CallFactory
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
    """The cloud connection, when the configuration names a broker; None offline."""
    if not kiosk.config.brokers:
        return None
    from kiosk.sync.service import SyncService

    sync = SyncService(kiosk)
    sync.start()
    kiosk.call_factory = call_factory(kiosk)
    return sync


def call_factory(kiosk: Kiosk) -> CallFactory:
    """Visits with real WebRTC calls (kiosk.calls); aiortc is imported by the first call."""

    def make(visit, on_state):
        from kiosk.calls.visit_call import VisitCall

        picture_filter = None
        if kiosk.config.blur_without_face:
            from kiosk.calls.face_gate import FaceGate

            picture_filter = FaceGate()

        def publish(payload):
            if kiosk.uplink is not None:
                kiosk.uplink.publish("signal", payload)

        return VisitCall(
            visit.visit_id,
            kiosk_id=kiosk.config.kiosk_id,
            camera=kiosk.devices.camera,
            publish=publish,
            on_state=on_state,
            picture_filter=picture_filter,
            microphone=kiosk.devices.microphone,
            earpiece=kiosk.devices.earpiece,
        )

    return make


def startup_done() -> None:
    """The kiosk is up: what start-up built stays, so the collector need not walk it again."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
