"""Start the window for a kiosk core: Kivy configured first, then the app on one asyncio loop."""

from __future__ import annotations

import asyncio

from kiosk.cli import EarlyStop, start_sync
from kiosk.core.kiosk import Kiosk
from kiosk.ui.kivy_setup import configure


def run_ui(kiosk: Kiosk, early_stop: EarlyStop) -> int:
    config = kiosk.config
    configure(
        fullscreen=config.fullscreen,
        width=config.width,
        height=config.height,
        kivy_home=config.data_dir / "kivy",
    )
    from kiosk.ui.app import KioskApp

    app = KioskApp(kiosk)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        # systemd stops the kiosk with SIGTERM: close the window cleanly, exit 0. The app can
        # only stop once it has started, so the signals are handed over then.
        app.bind(on_start=lambda *_: early_stop.hand_to(loop, app.stop))
        kiosk.restart = app.stop  # a `reboot` command: exit, and systemd starts the kiosk again
        sync = start_sync(kiosk)
        await app.async_run(async_lib="asyncio")
        if sync is not None:
            await sync.stop()

    asyncio.run(main())
    return 0
