"""Start the window for a kiosk core: Kivy configured first, then the app on one asyncio loop."""

from __future__ import annotations

import asyncio
import signal

from kiosk.core.kiosk import Kiosk
from kiosk.ui.kivy_setup import configure


def run_ui(kiosk: Kiosk) -> int:
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
        # systemd stops the kiosk with SIGTERM: close the window cleanly, exit 0.
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, app.stop)
        await app.async_run(async_lib="asyncio")

    asyncio.run(main())
    return 0
