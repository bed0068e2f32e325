"""The listener list every adapter keeps, real or simulated.

One bad listener must not silence the others: a kiosk whose badge listener raised once and
then stopped hearing badges would look dead to the resident standing in front of it.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

E = TypeVar("E")


class Listeners(Generic[E]):
    """Subscribers of one device's events, called in subscription order on the emitting thread.

    With ``redact=True`` a failing listener is logged without its exception message, which may
    quote the event (a badge id must never reach the logs); the stack is kept for debugging.
    """

    def __init__(self, device: str, *, redact: bool = False) -> None:
        self._device = device
        self._redact = redact
        self._lock = threading.Lock()
        # Copy-on-write tuple: emit() iterates a snapshot without holding the lock, so a
        # listener may subscribe or unsubscribe (itself included) while it is being called.
        self._entries: tuple[tuple[object, Callable[[E], None]], ...] = ()

    def subscribe(self, listener: Callable[[E], None]) -> Callable[[], None]:
        """Add ``listener``; returns a function that removes it (calling it twice is harmless)."""
        # A token per subscription, so subscribing the same callable twice is two subscriptions
        # and each unsubscribe removes only its own.
        token = object()
        with self._lock:
            self._entries = (*self._entries, (token, listener))

        def unsubscribe() -> None:
            with self._lock:
                self._entries = tuple(e for e in self._entries if e[0] is not token)

        return unsubscribe

    def emit(self, event: E) -> None:
        """Call every listener with ``event``; a listener that raises is logged and skipped."""
        for _, listener in self._entries:
            try:
                listener(event)
            except Exception as exc:
                self._report(listener, exc)

    def __len__(self) -> int:
        return len(self._entries)

    def _report(self, listener: Callable[[E], None], exc: Exception) -> None:
        # The qualname, never repr(): a bound method's repr includes its object's repr.
        name = getattr(listener, "__qualname__", type(listener).__qualname__)
        if self._redact:
            stack = "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)))
            log.error(
                "%s listener %s raised %s (message withheld: it may quote personal data)\n%s",
                self._device,
                name,
                type(exc).__name__,
                stack.rstrip(),
            )
        else:
            log.error("%s listener %s raised", self._device, name, exc_info=exc)
