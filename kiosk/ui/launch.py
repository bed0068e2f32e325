"""Start the window for a kiosk core: Kivy configured first, then the app on one asyncio loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from kiosk.core.kiosk import Kiosk
from kiosk.runtime import EarlyStop, start_sync
from kiosk.ui.kivy_setup import configure

# Long enough for the first frame to be on the glass before the cloud link and the demo's
# broker start competing for the CPU (bench/startup.py).
BACKGROUND_START_DELAY_S = 1.0


def run_ui(
    kiosk: Kiosk, early_stop: EarlyStop, background: Callable[[], None] | None = None
) -> int:
    """``background``: work that waits until the idle screen is drawn (the demo's cloud)."""
    config = kiosk.config
    configure(
        fullscreen=config.fullscreen,
        width=config.width,
        height=config.height,
        kivy_home=config.data_dir / "kivy",
    )
    from kivy.clock import Clock

    from kiosk.ui.app import KioskApp

    app = KioskApp(kiosk)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        # systemd stops the kiosk with SIGTERM: close the window cleanly, exit 0. The app can
        # only stop once it has started, so the signals are handed over then.
        app.bind(on_start=lambda *_: early_stop.hand_to(loop, app.stop))
        kiosk.restart = app.stop  # a `reboot` command: exit, and systemd starts the kiosk again
        started: list = []

        def after_first_frame(_dt: float) -> None:
            if background is not None:
                background()
            started.append(start_sync(kiosk))

        def on_start(*_args: object) -> None:
            # Returns nothing on purpose: a truthy return would stop Kivy dispatching on_start
            # to the handlers bound before this one (the signal hand-over above).
            Clock.schedule_once(after_first_frame, BACKGROUND_START_DELAY_S)

        app.bind(on_start=on_start)
        await app.async_run(async_lib="asyncio")
        for sync in started:
            if sync is not None:
                await sync.stop()

    asyncio.run(main())
    return 0
