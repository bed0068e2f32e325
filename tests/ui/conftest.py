"""The real Kivy app under Xvfb, driven by touches through Kivy's input pipeline.

Xvfb is started when no DISPLAY is set. Kivy allows one window per process, so every UI test
runs its app on that window in turn, the way Kivy's own async tests do. The screens of a visit
talk to the facility cloud: its broker and cloud fixtures come from ``tests.facility_cloud``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from tests import facility_cloud
from tests.waiting import Described, until

SCREEN = (1280, 800)

broker = facility_cloud.broker
cloud = facility_cloud.cloud


@pytest.fixture(scope="session")
def display(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if os.environ.get("DISPLAY"):
        yield os.environ["DISPLAY"]
        return
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.fail("Xvfb is not installed: the UI tests need it (apt-get install xvfb)")
    read_fd, write_fd = os.pipe()
    process = subprocess.Popen(
        [
            xvfb,
            "-displayfd",
            str(write_fd),
            "-screen",
            "0",
            f"{SCREEN[0]}x{SCREEN[1]}x24",
            "-nolisten",
            "tcp",
        ],
        pass_fds=(write_fd,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    if not number:
        process.kill()
        pytest.fail("Xvfb did not start")
    os.environ["DISPLAY"] = f":{number}"
    try:
        yield os.environ["DISPLAY"]
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def kivy_window(display: str, tmp_path_factory: pytest.TempPathFactory):
    """Kivy configured as the kiosk configures it (windowed for the test screen) and its window."""
    from kiosk.ui.kivy_setup import configure

    configure(
        fullscreen=False,
        width=SCREEN[0],
        height=SCREEN[1],
        kivy_home=tmp_path_factory.mktemp("kivy"),
    )
    from kivy.core.window import Window

    return Window


class Driver:
    """What a person does at the kiosk: touch widgets, press keys, look at the screen."""

    def __init__(self, app) -> None:
        self.app = app

    async def frames(self, count: int = 2) -> None:
        from kivy.clock import Clock

        for _ in range(count):
            shown = Clock.frames_displayed
            await until(
                lambda shown=shown: Clock.frames_displayed != shown, 5, "a frame", every=1 / 120
            )

    async def tap(self, widget, hold: float = 0.05) -> None:
        """A finger down on the widget's centre, held, and lifted: through Kivy's input events."""
        from kivy.tests.common import UnitTestTouch

        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        await self.frames(1)
        await asyncio.sleep(hold)
        touch.touch_up()
        await self.frames(2)

    async def press_down(self, widget):
        """Finger down only (to look at the pressed state); returns the touch to lift."""
        from kivy.tests.common import UnitTestTouch

        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        await self.frames(1)
        return touch

    async def until(
        self, condition: Callable[[], object], timeout: float = 5.0, what: Described = None
    ) -> None:
        """Wait for ``condition`` (``tests.waiting.until``), then for the frame that shows it."""
        await until(condition, timeout, what)
        await self.frames(1)

    def screen(self, name: str = "idle"):
        return self.app.root.get_screen(name)

    def texts(self) -> list[str]:
        """Every text a person can see in the window, from the whole widget tree."""
        from kivy.core.window import Window

        found = []
        stack = list(Window.children)
        while stack:
            widget = stack.pop()
            text = getattr(widget, "text", "")
            if isinstance(text, str) and text and widget.opacity > 0:
                found.append(text)
            stack.extend(widget.children)
        return found

    def screenshot(self, path: Path) -> Path:
        from kivy.core.window import Window

        path.parent.mkdir(parents=True, exist_ok=True)
        saved = Window.screenshot(name=str(path))
        # Kivy numbers screenshots (name0001.png); keep the name asked for.
        Path(saved).replace(path)
        return path


def run_app(kiosk, scenario: Callable[[Driver], Awaitable[None]]) -> None:
    """Run the kiosk's real app with ``scenario`` as the person in front of it."""
    from kivy.core.window import Window

    from kiosk.ui.app import KioskApp

    async def main() -> None:
        if not Window.initialized:
            Window.create_window()
            Window.register()
            Window.initialized = True
        Window.canvas.clear()
        app = KioskApp(kiosk)
        started = asyncio.Event()
        app.bind(on_start=lambda *_: started.set())
        running = asyncio.create_task(app.async_run(async_lib="asyncio"))
        await asyncio.wait_for(started.wait(), timeout=20)
        driver = Driver(app)
        await driver.frames(3)
        try:
            await scenario(driver)
        finally:
            app.stop()
            await asyncio.wait_for(running, timeout=20)

    asyncio.run(main())


@pytest.fixture
def ui(kivy_window):
    """``ui(kiosk, scenario)`` runs the app; the test's assertions live in the scenario."""
    return run_app
