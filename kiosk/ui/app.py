"""The Kivy app: builds the screens, shows the core's view, and runs on the core's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from kivy.app import App
from kivy.core.text import DEFAULT_FONT, LabelBase
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import ObjectProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.core.kiosk import Kiosk, KioskView
from kiosk.paths import FONTS_DIR
from kiosk.runtime import startup_done
from kiosk.ui.demo_keys import DemoKeys
from kiosk.ui.idle_screen import IdleScreen
from kiosk.ui.lockdown import Lockdown
from kiosk.ui.theme import Theme
from kiosk.ui.widgets.header import Header  # noqa: F401  (registers the kv rule's class)

log = logging.getLogger(__name__)
UI_DIR = Path(__file__).parent


def kv_files() -> list[Path]:
    """Widgets first (screens use their classes), then one .kv file per screen."""
    return sorted(UI_DIR.glob("widgets/*.kv")) + sorted(UI_DIR.glob("*.kv"))


class KioskApp(App):
    """One window showing one kiosk core."""

    theme = ObjectProperty(None)
    use_kivy_settings = False

    def __init__(self, kiosk: Kiosk, **kwargs) -> None:
        super().__init__(**kwargs)
        self.kiosk = kiosk
        self.theme = Theme()
        self.title = f"{kiosk.config.facility_name} · {kiosk.config.kiosk_name}"
        self._core_task: asyncio.Task | None = None
        self._unsubscribe = None
        self._lockdown: Lockdown | None = None
        self._demo_keys: DemoKeys | None = None

    def build(self) -> ScreenManager:
        LabelBase.register(
            DEFAULT_FONT,
            fn_regular=str(FONTS_DIR / "NotoSans-Regular.ttf"),
            fn_bold=str(FONTS_DIR / "NotoSans-Bold.ttf"),
        )
        for path in kv_files():
            Builder.unload_file(str(path))  # a second app in one process reloads cleanly
            Builder.load_file(str(path))
        self._lockdown = Lockdown(Window, self.kiosk.record_tamper)
        if self.kiosk.config.fullscreen:
            Window.show_cursor = False
        if self.kiosk.config.demo:
            self._demo_keys = DemoKeys(Window, self.kiosk.devices)
        screens = ScreenManager(transition=NoTransition())
        idle = IdleScreen()
        screens.add_widget(idle)
        idle.show(self.kiosk.view)
        self._unsubscribe = self.kiosk.subscribe(self.show)
        return screens

    def on_start(self) -> None:
        startup_done()
        self._core_task = asyncio.get_running_loop().create_task(self.kiosk.run())

    def on_stop(self) -> None:
        if self._core_task is not None:
            self._core_task.cancel()
        if self._unsubscribe is not None:
            self._unsubscribe()
        for guard in (self._lockdown, self._demo_keys):
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

    def show(self, view: KioskView) -> None:
        self.root.get_screen("idle").show(view)

    def choose_language(self, code: str) -> None:
        self.kiosk.set_language(code)
