"""The out-of-order screen: what a kiosk that keeps failing shows instead of a console.

    python -m kiosk.ui.out_of_order [--windowed]

Run by kiosk-out-of-order.service (systemd/) in a cage session of its own once kiosk.service
or its display has hit its start limit. It imports nothing of the kiosk but Kivy's settings
and the font: no configuration, database, devices or network, so whatever broke the kiosk
does not break this. Both languages at once, since the kiosk's own language is in the
configuration it may not have been able to read. Escape, F1 and the close request do nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import tempfile
from pathlib import Path

from kiosk.ui.kivy_setup import configure, register_fonts

WIDTH, HEIGHT = 1280, 800
# A screen that never changes needs few frames; touches need no answer.
MAXFPS = 5
WORDS = (
    ("Out of order", "Staff have been notified."),
    ("Fuera de servicio", "El personal ha sido avisado."),
)
# ui.md: dark text on a light background, far above 7:1.
BACKGROUND = (0.96, 0.96, 0.96, 1)
TEXT = (0.1, 0.1, 0.1, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windowed", action="store_true", help="a window (development)")
    args = parser.parse_args(argv)
    # The unit's /tmp is private; Kivy writes its config.ini there and nowhere else.
    configure(
        fullscreen=not args.windowed,
        width=WIDTH,
        height=HEIGHT,
        kivy_home=Path(tempfile.mkdtemp(prefix="kiosk-out-of-order-")),
        maxfps=MAXFPS,
    )
    asyncio.run(_run())
    return 0


async def _run() -> None:
    # systemd stops the screen with SIGTERM. The handlers go in before Kivy opens its window:
    # SDL takes over only signals nobody handles, and would turn SIGTERM into a close request,
    # which this screen refuses.
    loop = asyncio.get_running_loop()
    asked_to_stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, asked_to_stop.set)
    app = _build_app()

    async def stop_when_asked() -> None:
        await asked_to_stop.wait()
        app.stop()

    watcher = asyncio.create_task(stop_when_asked())
    await app.async_run(async_lib="asyncio")
    watcher.cancel()


def _build_app():  # -> kivy.app.App, imported only once Kivy is configured
    from kivy.app import App
    from kivy.core.window import Window
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.label import Label

    class OutOfOrderApp(App):
        title = "Out of order"
        use_kivy_settings = False

        def build(self) -> BoxLayout:
            register_fonts()
            Window.clearcolor = BACKGROUND
            Window.bind(on_request_close=lambda *_args, **_kwargs: True)
            root = BoxLayout(orientation="vertical", padding="48dp", spacing="24dp")
            for heading, line in WORDS:
                root.add_widget(Label(text=heading, font_size="56sp", bold=True, color=TEXT))
                root.add_widget(Label(text=line, font_size="36sp", color=TEXT))
            return root

        def open_settings(self, *_args: object) -> bool:
            return False  # F1 opens nothing

    return OutOfOrderApp()


if __name__ == "__main__":
    raise SystemExit(main())
