"""The app's screens, each built (its module imported, its .kv loaded) the first time it is needed.

Building every screen at start cost the idle screen's first frame most of a second and the idle
kiosk tens of MiB (two touch keyboards, three keypads, the technician's rows): a kiosk may show
only its idle screen for hours.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from pathlib import Path
from types import MappingProxyType

from kivy.lang import Builder
from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager, ScreenManagerException

UI_DIR = Path(__file__).parent

# A screen's name: its module under kiosk/ui (beside it, the .kv of the same name) and its class.
SCREENS = MappingProxyType(
    {
        "idle": ("idle_screen", "IdleScreen"),
        "visit": ("visit_screen", "VisitScreen"),
        "technician": ("technician_screen", "TechnicianScreen"),
        "sign_in": ("sign_in_screen", "SignInScreen"),
        "inbox": ("inbox_screen", "InboxScreen"),
        "message": ("message_screen", "MessageScreen"),
        "photo": ("photo_screen", "PhotoScreen"),
        "compose": ("compose_screen", "ComposeScreen"),
        "contacts": ("contacts_screen", "ContactsScreen"),
        "check_in": ("check_in_screen", "CheckInScreen"),
        "capture": ("capture_screen", "CaptureScreen"),
        "photo_review": ("photo_review_screen", "PhotoReviewScreen"),
    }
)


def widget_kv_files() -> list[Path]:
    """The shared widgets' rules: small, and used by nearly every screen."""
    return sorted(UI_DIR.glob("widgets/*.kv"))


def screen_class(name: str) -> type[Screen]:
    """The class of the screen ``name``, its module imported now if it was not yet."""
    module_name, class_name = SCREENS[name]
    return getattr(importlib.import_module(f"kiosk.ui.{module_name}"), class_name)


class KvRules:
    """The .kv files one app has loaded, each once. A file an earlier app in this process
    loaded is unloaded first, so its rules are not applied twice."""

    def __init__(self) -> None:
        self._loaded: set[Path] = set()

    def need(self, path: Path) -> None:
        if path in self._loaded:
            return
        Builder.unload_file(str(path))
        Builder.load_file(str(path))
        self._loaded.add(path)


class LazyScreens(ScreenManager):
    """A ScreenManager that builds a screen when it is first asked for (``get_screen``, or
    ``current`` set to its name). Screens replace one another at once, with no transition."""

    def __init__(self, kv: KvRules, **kwargs) -> None:
        super().__init__(transition=NoTransition(), **kwargs)
        self._kv = kv
        # Kivy's ScreenManager clips its screens with the stencil buffer, for transitions that
        # slide one out past its edges. Screens here only replace one another and fill the
        # window, which clips anyway; in software the clipping was two passes over every pixel
        # at each frame, as much as a visit's picture costs to draw.
        self.canvas.before.clear()
        self.canvas.after.clear()

    def get_screen(self, name: str) -> Screen:
        if name in SCREENS and not self.has_screen(name):
            self.add_widget(self._build(name))
        return super().get_screen(name)

    def built(self, name: str) -> Screen | None:
        """The screen if it has been built, without building it."""
        return next((s for s in self.screens if s.name == name), None)

    def renew(self, names: Iterable[str], go_to: str = "idle") -> None:
        """Throw away those of the screens that have been built, the one on show left for
        ``go_to`` first, and build them anew, empty: nothing they showed stays, and the next
        person finds them ready (a touch keyboard takes a few hundred ms to build here)."""
        for name in names:
            old = self.built(name)
            if old is None:
                continue
            if self.current == name:
                self.current = go_to
            self.remove_widget(old)
            self.add_widget(self._build(name))

    def _build(self, name: str) -> Screen:
        module_name, _class_name = SCREENS[name]
        cls = screen_class(name)  # first: a .kv may import from its module
        self._kv.need(UI_DIR / f"{module_name}.kv")
        screen = cls()
        if screen.name != name:
            raise ScreenManagerException(f"{cls.__name__} is named {screen.name!r}, not {name!r}")
        return screen
