"""The baseline for bench/startup.py: one Label, Kivy configured the way the kiosk configures it.

    python bench/bare_kivy_app.py [--kivy-home DIR] [--async] [--maxfps N]

Same environment and Config as ``kiosk.ui.kivy_setup.configure`` in windowed mode (1280x800,
KIVY_NO_ARGS, KIVY_HOME in a scratch folder, maxfps 20, no multisampling, Kivy logging through
``logging``), but none of the kiosk's code is imported. ``--async`` runs the app on an asyncio
loop with ``App.async_run`` as the kiosk does; by default it runs with the plain ``App.run``.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
from pathlib import Path

WIDTH, HEIGHT, MAXFPS = 1280, 800, 20


def configure(kivy_home: Path, maxfps: int = MAXFPS) -> None:
    """Mirror of kiosk.ui.kivy_setup.configure(fullscreen=False, width=1280, height=800)."""
    kivy_home.mkdir(parents=True, exist_ok=True)
    os.environ["KIVY_HOME"] = str(kivy_home)
    os.environ["KIVY_NO_ARGS"] = "1"
    os.environ["KIVY_LOG_MODE"] = "PYTHON"
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    # The kiosk's image providers too (SDL2 only): Kivy's default list would load Pillow and
    # numpy at the first image, a quarter of a second the kiosk does not pay.
    os.environ.setdefault("KIVY_IMAGE", "tex,dds,sdl2")

    from kivy.config import Config

    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "pause_on_minimize", "0")
    Config.set("kivy", "keyboard_mode", "system")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("graphics", "fullscreen", "0")
    Config.set("graphics", "borderless", "0")
    Config.set("graphics", "show_cursor", "1")
    Config.set("graphics", "resizable", "0")
    Config.set("graphics", "width", str(WIDTH))
    Config.set("graphics", "height", str(HEIGHT))
    Config.set("graphics", "maxfps", str(maxfps))
    Config.set("graphics", "multisamples", "0")  # as the kiosk: no multisampling in software


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--kivy-home", type=Path, help="Kivy's home folder [a new temp folder, left behind]"
    )
    parser.add_argument(
        "--async",
        dest="use_async",
        action="store_true",
        help="run with App.async_run on asyncio, like the kiosk",
    )
    parser.add_argument(
        "--maxfps", type=int, default=MAXFPS, help=f"Kivy's frame cap [{MAXFPS}, the kiosk's]"
    )
    args = parser.parse_args(argv)
    # Like `kiosk run`: logging configured before Kivy, which then logs through it.
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    configure(args.kivy_home or Path(tempfile.mkdtemp(prefix="bare-kivy-home-")), args.maxfps)

    from kivy.app import App
    from kivy.uix.label import Label

    class BareApp(App):
        title = "bare kivy"

        def build(self) -> Label:
            return Label(text="Hello from a bare Kivy app", font_size="32sp")

    app = BareApp()
    if args.use_async:
        import asyncio

        asyncio.run(app.async_run(async_lib="asyncio"))
    else:
        app.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
