"""A telephone handset driven by calls: lift it, hang it up, or toggle it from a demo key."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from hardware.interfaces import DeviceState, HookEvent, HookState
from hardware.listeners import Listeners


class SimulatedHandset:
    """Implements :class:`hardware.interfaces.Handset`; starts resting in its cradle (ON_HOOK).

    The hook position changes even while stopped or unplugged (it is physical); events are
    emitted only while started and plugged in, and only on a real change, as a debounced hook
    switch would report them. Plugging it back reports nothing by itself: like the real
    adapter, which does not read the key state on reconnect, the next change is the next event.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._listeners: Listeners[HookEvent] = Listeners("handset")
        # Held across the emit so listeners see changes in the order they happened; an RLock
        # so a listener may read hook_state (or lift/hang up) from inside its callback.
        self._lock = threading.RLock()
        self._running = False
        self._plugged = True
        self._hook = HookState.ON_HOOK
        self.tones: list[str] = []  # tones played into the earpiece, oldest first

    def start(self) -> None:
        with self._lock:
            self._running = True

    def stop(self) -> None:
        with self._lock:
            self._running = False

    @property
    def state(self) -> DeviceState:
        with self._lock:
            return DeviceState.OK if self._running and self._plugged else DeviceState.MISSING

    @property
    def hook_state(self) -> HookState:
        return self._hook

    def subscribe(self, listener: Callable[[HookEvent], None]) -> Callable[[], None]:
        """Call ``listener`` on every hook change; returns a function that unsubscribes."""
        return self._listeners.subscribe(listener)

    def play_tone(self, kind: str) -> None:
        """A tone in the earpiece (a visit's 5- and 1-minute warnings): recorded, since the
        simulated handset has no speaker."""
        with self._lock:
            self.tones.append(kind)

    def unplug(self) -> None:
        """Simulate pulling the cable: ``state`` becomes MISSING and hook changes go unreported."""
        with self._lock:
            self._plugged = False

    def replug(self) -> None:
        """Simulate plugging the cable back: hook changes are reported again."""
        with self._lock:
            self._plugged = True

    def lift(self) -> bool:
        """Take the handset off its cradle; returns whether an event was emitted."""
        return self._set(HookState.OFF_HOOK)

    def hang_up(self) -> bool:
        """Put the handset back in its cradle; returns whether an event was emitted."""
        return self._set(HookState.ON_HOOK)

    def toggle(self) -> bool:
        """Lift if resting, hang up if lifted; returns whether an event was emitted."""
        with self._lock:
            lifted = self._hook is HookState.OFF_HOOK
            return self._set(HookState.ON_HOOK if lifted else HookState.OFF_HOOK)

    def _set(self, hook: HookState) -> bool:
        with self._lock:
            if hook is self._hook:
                return False
            self._hook = hook
            if not (self._running and self._plugged):
                return False
            self._listeners.emit(HookEvent(state=hook, at=self._clock()))
            return True
