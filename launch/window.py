"""Start the window for a kiosk core: Kivy configured first, then the app on one asyncio loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kiosk import __version__
from kiosk.core.kiosk import Kiosk
from kiosk.store.file_modes import make_private
from kiosk.ui.kivy_setup import configure
from launch.notify import ServiceNotifier
from launch.process import EarlyStop, start_sync, startup_done

if TYPE_CHECKING:
    from kivy.app import App

    from kiosk.assembly import ProcessStop

log = logging.getLogger(__name__)

# Long enough for the first frame to be on the glass before the cloud link and the demo's
# broker start competing for the CPU (bench/startup.py).
BACKGROUND_START_DELAY_S = 1.0


def run_ui(
    kiosk: Kiosk,
    early_stop: EarlyStop,
    restart: ProcessStop | None = None,
    background: Callable[[], None] | None = None,
    keys: Callable[[Any], Any] | None = None,
    *,
    first_drawn: Callable[[], None] | None = None,
) -> int:
    """``restart``: the kiosk's Restart, which ends this window; ``background``: work that
    waits until the idle screen has been up a moment (the demo's cloud); ``first_drawn``: work
    done as soon as it is drawn (the demo's reseed); ``keys``: keys bound to the window that
    stand in for hardware (the demo's), handed to the app."""
    config = kiosk.config
    # Read before anything starts a child process, which must not inherit it.
    notifier = ServiceNotifier.from_environment()
    # One line a start in the journal: which kiosk, which version, whether systemd watches it.
    log.info(
        "kiosk %s (%s) %s starting its window%s",
        config.kiosk_id,
        config.role,
        __version__,
        ", supervised by the service manager" if notifier.enabled else "",
    )
    configure(
        fullscreen=config.fullscreen,
        width=config.width,
        height=config.height,
        kivy_home=config.data_dir / "kivy",
    )
    # Kivy copies its icons into its home with the package's modes, whatever the umask: made
    # the owner's alone now, quietly (the kiosk's own doing, not something found open).
    make_private(config.data_dir / "kivy", log=False)
    from kiosk.ui.app import KioskApp

    app = KioskApp(kiosk, keys=keys)
    # The kiosk is up once the app starts: what start-up built need not be collected again.
    app.bind(on_start=lambda *_: startup_done())
    notify_service(app, notifier, f"kiosk {config.kiosk_id} ({config.role}) is showing its screens")

    async def main() -> None:
        loop = asyncio.get_running_loop()
        # systemd stops the kiosk with SIGTERM: close the window cleanly, exit 0. The app can
        # only stop once it has started, so the signals are handed over then.
        app.bind(on_start=lambda *_: early_stop.hand_to(loop, app.stop))
        if restart is not None:
            restart.bind(app.stop)  # exit, and systemd starts the kiosk again
        started: list = []
        pending: list[asyncio.TimerHandle] = []

        def start_background() -> None:
            if background is not None:
                background()
            started.append(start_sync(kiosk))

        # Timed from the first frame on the glass, on the loop's clock: a Kivy Clock delay
        # counts from Kivy's last tick, which at start-up is from before the screens were
        # built, so it ran out before the first frame and the sync's imports delayed it.
        def on_first_frame() -> None:
            if first_drawn is not None:
                first_drawn()
            pending.append(loop.call_later(BACKGROUND_START_DELAY_S, start_background))

        stop_waiting = when_first_drawn(app, on_first_frame)
        try:
            await app.async_run(async_lib="asyncio")
        finally:
            notifier.stopping()  # also when the window ended some other way
            stop_waiting()
            for handle in pending:
                handle.cancel()
        for sync in started:
            if sync is not None:
                await sync.stop()

    asyncio.run(main())
    return 0


def notify_service(app: App, notifier: ServiceNotifier, status: str) -> None:
    """READY=1 once the app's first frame is on the glass, then WATCHDOG=1 from Kivy's clock,
    STOPPING=1 when the app stops; nothing without a service manager. Call it once the window
    exists, before the app runs (or, in a test, while it runs and a frame is due).

    The pings ride on Kivy's clock, which ticks on the asyncio loop that draws: when a frame
    never ends (a handler that blocks, a deadlock) they stop and systemd restarts the kiosk.
    A thread would keep pinging for a frozen screen.
    """
    if not notifier.enabled:
        return
    from kivy.clock import Clock

    pings = []

    def ready() -> None:
        notifier.ready(status)
        interval = notifier.watchdog_interval_s
        if interval is not None:
            notifier.watchdog()
            pings.append(Clock.schedule_interval(lambda _dt: notifier.watchdog(), interval))

    stop_waiting = when_first_drawn(app, ready)

    def on_stop(*_args: object) -> None:
        # Before the core stops and the sync says goodbye: systemd stops expecting pings,
        # and knows the exit that follows is meant (the `reboot` command's, or its own stop).
        stop_waiting()
        for event in pings:
            event.cancel()
        notifier.stopping()

    app.bind(on_stop=on_stop)


def when_first_drawn(app: App, then: Callable[[], None]) -> Callable[[], None]:
    """Call ``then`` on the running loop once the first frame showing the app's root is on the
    glass; returns what stops waiting for it."""
    from kivy.core.window import Window

    def on_flip(*_args: object) -> None:
        # Bound handlers run before the window's own on_flip, which swaps the buffers; the
        # loop runs what was handed to it once that frame is over (a Clock callback would
        # wait for the next frame). A flip before the app's root is on the window is not its
        # first screen.
        if app.root is None or app.root not in Window.children:
            return
        Window.unbind(on_flip=on_flip)
        asyncio.get_running_loop().call_soon(then)

    Window.bind(on_flip=on_flip)
    return lambda: Window.unbind(on_flip=on_flip)
