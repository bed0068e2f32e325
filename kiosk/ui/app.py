"""The Kivy app: builds the screens, shows the core's view, and runs on the core's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from kivy.app import App
from kivy.core.window import Window
from kivy.metrics import dp
from kivy.properties import BooleanProperty, ObjectProperty

from kiosk.core.kiosk import Kiosk, KioskView
from kiosk.ui.kivy_setup import register_fonts
from kiosk.ui.lazy_screens import KvRules, LazyScreens, screen_class, widget_kv_files
from kiosk.ui.lockdown import Lockdown
from kiosk.ui.theme import Theme
from kiosk.ui.widgets.header import Header  # noqa: F401  (registers the kv rule's class)

if TYPE_CHECKING:
    from kiosk.ui.widgets.still_there import StillThere

log = logging.getLogger(__name__)
# Screens that show a resident's data: built anew after every session (nothing survives it).
SESSION_SCREEN_NAMES = ("sign_in", "inbox", "message", "photo", "compose", "contacts")
# Screens that show a visitor's code, name or photos: built anew once the visitor is done.
LOBBY_SCREEN_NAMES = ("check_in", "capture", "photo_review")
LOBBY_STAGES = frozenset({"check_in", "capture", "photo_review"})


def __getattr__(name: str) -> tuple[type, ...]:
    """SESSION_SCREENS and LOBBY_SCREENS: the classes, for code that tells screens apart by
    type. Asked for, they import every screen module the app itself imports only on need."""
    names = {"SESSION_SCREENS": SESSION_SCREEN_NAMES, "LOBBY_SCREENS": LOBBY_SCREEN_NAMES}
    if name not in names:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return tuple(screen_class(screen) for screen in names[name])


class WindowKeys(Protocol):
    """Keys bound to the window that stand in for hardware (the demo's)."""

    def release(self) -> None: ...


class KioskApp(App):
    """One window showing one kiosk core."""

    theme = ObjectProperty(None)
    # Under 900 px the screens after the idle one use the compact header (see header.kv).
    short_display = BooleanProperty(False)
    use_kivy_settings = False

    def __init__(
        self, kiosk: Kiosk, keys: Callable[[Any], WindowKeys] | None = None, **kwargs
    ) -> None:
        """``keys``: called with the window once the lockdown is bound (so its keys are seen
        first); whoever launches a demo hands the demo's in."""
        super().__init__(**kwargs)
        self.kiosk = kiosk
        self._make_keys = keys
        self.theme = Theme()
        self.title = f"{kiosk.config.facility_name} · {kiosk.config.kiosk_name}"
        self._core_task: asyncio.Task | None = None
        self._unsubscribe = None
        self._lockdown: Lockdown | None = None
        self._keys: WindowKeys | None = None
        self._still_there: StillThere | None = None
        self._showing = "idle"  # the view's screen last shown

    def build(self) -> LazyScreens:
        register_fonts()
        kv = KvRules()
        for path in widget_kv_files():
            kv.need(path)
        self._lockdown = Lockdown(Window, self.kiosk.record_tamper, time.monotonic)
        if self.kiosk.config.fullscreen:
            Window.show_cursor = False
        if self._make_keys is not None:
            self._keys = self._make_keys(Window)
        # Only the idle screen now; every other one when it is first shown (LazyScreens).
        screens = LazyScreens(kv)
        screens.get_screen("idle")
        self.root = screens
        self.show(self.kiosk.view)
        self._unsubscribe = self.kiosk.subscribe(self.show)
        Window.bind(on_touch_down=self._touched, size=self._resized)
        self._resized(Window, Window.size)
        return screens

    def on_start(self) -> None:
        self._core_task = asyncio.get_running_loop().create_task(self.kiosk.run())

    def on_stop(self) -> None:
        visit = self.root.built("visit") if self.root is not None else None
        if visit is not None:
            visit.unfollow()
        Window.unbind(on_touch_down=self._touched, size=self._resized)
        if self._still_there is not None:
            self._still_there.dismiss(animation=False)
        if self._core_task is not None:
            self._core_task.cancel()
        if self._unsubscribe is not None:
            self._unsubscribe()
        for guard in (self._lockdown, self._keys):
            if guard is not None:
                guard.release()

    async def async_run(self, async_lib: str | None = "asyncio") -> None:
        await super().async_run(async_lib=async_lib)
        if self._core_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._core_task

    def open_settings(self, *args) -> bool:
        return False  # F1 must never open Kivy's settings panel on a kiosk

    def _install_settings_keys(self, window) -> None:
        # Kivy binds F1 to its settings panel here, ahead of our lockdown; a kiosk binds nothing.
        pass

    # --- showing the core's view ----------------------------------------------------------

    def show(self, view: KioskView) -> None:
        screens = self.root
        if view.screen != "session" and self._showing == "session":
            self._forget_the_session()
        if view.screen != "visit" and self._showing == "visit":
            screens.get_screen("visit").unfollow()
            screens.renew(("visit",))  # no trace of the visit stays on screen
            if view.role == "lobby":
                self.theme.reset()  # the visitor's display choices end with their visit
        if view.screen != "technician" and self._showing == "technician":
            screens.renew(("technician",))  # no PIN dots, no maintenance rows stay behind
            self.theme.reset()  # the technician's display choices end with the visit
        if view.screen != self._showing and self._showing in ("capture", "photo_review"):
            screens.get_screen(self._showing).hide()
        if view.screen not in LOBBY_STAGES and self._showing in LOBBY_STAGES:
            self._forget_the_visitor(reset_theme=view.screen != "visit")
        elif self._showing == "check_in" and view.screen != "check_in":
            screens.renew(("check_in",))  # on to the photos: the code and name are done
        self._showing = view.screen
        if view.screen == "session":
            target = view.session.page
            if target == "message" and screens.current == "photo":
                target = "photo"  # the photo stays open over its message
        else:
            target = view.screen
        screen = screens.get_screen(target)
        if target == "compose" and screens.current != "compose":
            screen.clear()
        if target in ("capture", "photo_review"):
            screen.show(view, self.kiosk.lobby.capture)
        else:
            screen.show(view)
        if screens.current != target:
            screens.current = target
        if target == "visit" and self.kiosk.visit is not None:
            screen.follow(self.kiosk.visit.media)
        self._show_still_there(view)

    def _show_still_there(self, view: KioskView) -> None:
        warning = view.session.still_there if view.session is not None else ""
        if view.lobby is not None and view.screen in LOBBY_STAGES:
            warning = view.lobby.still_there
        if warning:
            if self._still_there is None:
                from kiosk.ui.widgets.still_there import StillThere

                self._still_there = StillThere()
            self._still_there.show(view)
            if self._still_there.parent is None:
                self._still_there.open(animation=False)
        elif self._still_there is not None and self._still_there.parent is not None:
            self._still_there.dismiss(animation=False)

    def _forget_the_session(self) -> None:
        """Every screen that showed the resident is thrown away and built anew, empty."""
        self.root.renew(SESSION_SCREEN_NAMES)
        if self._still_there is not None:
            self._still_there.dismiss(animation=False)
            self._still_there = None
        self.theme.reset()

    def _forget_the_visitor(self, reset_theme: bool) -> None:
        """The visitor is done or gone: their screens are built anew, empty."""
        self.root.renew(LOBBY_SCREEN_NAMES)
        if self._still_there is not None:
            self._still_there.dismiss(animation=False)
            self._still_there = None
        if reset_theme:
            self.theme.reset()

    # --- what the person did -------------------------------------------------------------

    def _resized(self, _window, size) -> None:
        self.short_display = size[1] < dp(900)

    def _touched(self, _window, _touch) -> None:
        if self._still_there is not None and self._still_there.parent is not None:
            # The warning answers its own touches: dismissed here, before the window hands the
            # touch on, the touch would fall through to the screen beneath (a key typed, "Sign
            # out now" lost).
            return
        if self.kiosk.session is not None:
            self.kiosk.session_intent("touched")
        elif self.kiosk.lobby is not None:
            self.kiosk.lobby_intent("touched")

    def choose_language(self, code: str) -> None:
        self.kiosk.set_language(code)

    def begin_sign_in(self) -> None:
        """The idle screen's button: sign in (housing) or check in (lobby)."""
        if self.kiosk.lobby is not None:
            self.kiosk.begin_check_in()
        else:
            self.kiosk.begin_sign_in()

    def lobby_intent(self, name: str, *args) -> None:
        self.kiosk.lobby_intent(name, *args)

    def still_here(self) -> None:
        """The walk-away warning's "I'm still here"."""
        if self.kiosk.session is not None:
            self.kiosk.session_intent("touched")
        else:
            self.kiosk.lobby_intent("touched")

    def leave_now(self) -> None:
        """The walk-away warning's other button: sign out, or start over with nothing kept."""
        if self.kiosk.session is not None:
            self.kiosk.sign_out("user")
        else:
            self.kiosk.lobby_intent("leave")

    def sign_in_back(self) -> None:
        sign_in = self.kiosk.sign_in
        if sign_in is not None and sign_in.step == "pin":
            self.kiosk.sign_in_intent("cancel")
        else:
            self.kiosk.leave_sign_in()

    def session_intent(self, name: str, *args) -> None:
        self.kiosk.session_intent(name, *args)

    def send_message(self) -> None:
        self.kiosk.session_intent("send")

    def sign_out(self) -> None:
        self.kiosk.sign_out("user")

    def hang_up(self) -> None:
        self.kiosk.hang_up()

    def open_photo(self, texture) -> None:
        photo = self.root.get_screen("photo")
        photo.show(self.kiosk.view)
        self.root.current = "photo"
        photo.open(texture)

    def close_photo(self) -> None:
        self.root.get_screen("photo").clear()
        self.root.current = "message"
        self.show(self.kiosk.view)
