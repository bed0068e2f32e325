"""The kiosk's devices started and stopped, their events handed to the kiosk on its loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from hardware.interfaces import BadgeEvent, DeviceEvent, HookEvent
from kiosk.core.context import KioskContext


class DeviceEvents:
    """Adapters call from their own threads; the core's state is touched only on the loop.

    The handlers are called, not kept bound: a wrapper put on the kiosk (a benchmark's timer)
    is the one used."""

    def __init__(
        self,
        context: KioskContext,
        *,
        badge: Callable[[BadgeEvent], None],
        hook: Callable[[HookEvent], None],
        device: Callable[[DeviceEvent], None],
    ) -> None:
        self._context = context
        self._badge, self._hook, self._device = badge, hook, device
        self._unsubscribes: list[Callable[[], None]] = []

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._unsubscribes:
            return
        devices = self._context.devices
        self._unsubscribes = [
            devices.badge_reader.subscribe(lambda e: loop.call_soon_threadsafe(self._badge, e)),
            devices.handset.subscribe(lambda e: loop.call_soon_threadsafe(self._hook, e)),
            devices.hotplug.subscribe(lambda e: loop.call_soon_threadsafe(self._device, e)),
        ]
        self._context.devices_started = True
        # The camera stays off until a visit or a capture needs it: an idle kiosk films nobody.
        for device in (devices.handset, devices.badge_reader, devices.hotplug):
            device.start()

    def stop(self) -> None:
        for unsubscribe in self._unsubscribes:
            unsubscribe()
        self._unsubscribes = []
        self._context.devices_started = False
        devices = self._context.devices
        for shared in (devices.camera, devices.microphone, devices.earpiece):
            if shared is not None:
                shared.close()
        for device in (devices.handset, devices.badge_reader, devices.hotplug):
            device.stop()
