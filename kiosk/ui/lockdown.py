"""What keeps a resident or visitor inside the kiosk: keys and requests that would leave it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

KEY_ESCAPE = 27
KEY_F1 = 282  # opens Kivy's settings panel by default

BLOCKED_KEYS = {KEY_ESCAPE: "escape", KEY_F1: "f1"}


class Lockdown:
    """Swallows Escape, F1 and close requests, and reports each attempt."""

    def __init__(self, window: Any, on_attempt: Callable[[str], None]) -> None:
        self._window = window
        self._on_attempt = on_attempt
        # Handlers bound last run first: these see the keys before Kivy's own (quit, settings).
        window.bind(on_request_close=self._on_request_close, on_keyboard=self._on_keyboard)

    def release(self) -> None:
        self._window.unbind(on_request_close=self._on_request_close, on_keyboard=self._on_keyboard)

    def _on_request_close(self, *args: Any, **kwargs: Any) -> bool:
        self._on_attempt("window_close")
        return True  # True keeps the window open

    def _on_keyboard(self, window: Any, key: int, *args: Any) -> bool:
        attempt = BLOCKED_KEYS.get(key)
        if attempt is None:
            return False
        self._on_attempt(attempt)
        return True
