"""Kivy's process-wide settings, made before Kivy is imported: the kiosk's lockdown starts here."""

from __future__ import annotations

import logging
import os
from pathlib import Path


def configure(
    *, fullscreen: bool, width: int, height: int, kivy_home: Path, maxfps: int | None = None
) -> None:
    """Set Kivy's environment and Config for a kiosk window (or a test window); ``maxfps``:
    the frame cap, CALM_FPS unless said."""
    kivy_home.mkdir(parents=True, exist_ok=True)
    os.environ["KIVY_HOME"] = str(kivy_home)  # never the technician's ~/.kivy
    os.environ["KIVY_NO_ARGS"] = "1"  # our flags are ours, not Kivy's
    os.environ["KIVY_LOG_MODE"] = "PYTHON"  # Kivy logs through logging, like the rest
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    # SDL2 reads every picture Kivy loads for us (its theme's PNG atlas; our photos and video
    # reach Kivy as pixels). Kivy's default list also loads Pillow, which imports numpy, and
    # tries ffpyplayer, at its first image: in a bare Kivy app 0.25 s and 14 MiB of every start.
    os.environ.setdefault("KIVY_IMAGE", "tex,dds,sdl2")

    # The X cut buffer (middle-click paste, through xclip or xsel) is something a kiosk must
    # not have; Kivy says CRITICAL when it finds none, on every start, and a technician would
    # read it at the top of the maintenance screen's last errors.
    kivy_log = logging.getLogger("kivy")
    if not any(isinstance(f, _NoCutBufferComplaint) for f in kivy_log.filters):
        kivy_log.addFilter(_NoCutBufferComplaint())

    from kivy.config import Config

    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "pause_on_minimize", "0")
    Config.set("kivy", "keyboard_mode", "system")
    # A right click must not leave Kivy's red multitouch-emulation dots on screen.
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("graphics", "borderless", "1" if fullscreen else "0")
    Config.set("graphics", "show_cursor", "0" if fullscreen else "1")
    Config.set("graphics", "resizable", "0")
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    # Kivy polls input once a frame even when nothing changes: 20 frames a second answer a
    # touch within 50 ms (ui.md asks for 100) and keep an idle kiosk under 2 % of a core
    # (bench/startup.py: 1.9 % at 30 on asyncio, 1.5 % at 20).
    Config.set("graphics", "maxfps", str(maxfps or CALM_FPS))
    # No multisampling: without a GPU (llvmpipe draws in software) Kivy's default 2x cost a
    # visit's screen half its frame rate (8.6 frames a second against 14.6 with two kiosks
    # on two cores, tests/drawn_visit.py). Text and pictures are textures, untouched by it.
    Config.set("graphics", "multisamples", "0")


CALM_FPS = 20
VIDEO_FPS = 30  # a visit's picture: the cameras send 30 frames a second
# The frame cap while video shows: twice the pictures' rate, so that each picture finds a frame
# of its own although they come unevenly (at 30, one in ten was never shown). A frame with no
# new picture and nothing else changed draws nothing: Kivy only checks for input and timers.
VIDEO_FRAME_CAP = 2 * VIDEO_FPS


def set_frame_rate(fps: int) -> None:
    """Kivy's frame cap, changed while running (30 during a visit, 20 otherwise).

    Kivy has no public setter; its clock reads ``_max_fps`` afresh every frame.
    """
    from kivy.clock import Clock

    Clock._max_fps = float(fps)


class _NoCutBufferComplaint(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Cutbuffer: Unable to find")


def register_fonts() -> None:
    """Noto Sans as Kivy's default font: Latin with every accent the catalogs use."""
    from kivy.core.text import DEFAULT_FONT, LabelBase

    from kiosk.paths import FONTS_DIR

    LabelBase.register(
        DEFAULT_FONT,
        fn_regular=str(FONTS_DIR / "NotoSans-Regular.ttf"),
        fn_bold=str(FONTS_DIR / "NotoSans-Bold.ttf"),
    )
