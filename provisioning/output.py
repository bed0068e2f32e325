"""What the technician sees: each step as it runs and how long it took (rich), and failures
on stderr. Nothing here is interpreted as rich markup: names and paths may hold brackets."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from rich.console import Console
from rich.text import Text


def make_console(*, stderr: bool = False) -> Console:
    # soft_wrap: a long message stays one line in a log or a pipe instead of breaking at 80.
    return Console(stderr=stderr, soft_wrap=True, highlight=False)


class Step:
    """A step under way; ``detail`` is added to its line when it ends."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.detail = ""


class Out:
    """Progress on ``console``; errors on ``err``; every step's duration in ``timings``."""

    def __init__(self, console: Console | None = None, err: Console | None = None) -> None:
        self.console = console or make_console()
        self.err = err or make_console(stderr=True)
        self.timings: dict[str, float] = {}

    @contextlib.contextmanager
    def step(self, title: str) -> Iterator[Step]:
        step = Step(title)
        began = time.monotonic()
        try:
            # A spinner while it runs, on a terminal only; nothing in a pipe or a log.
            with self.console.status(Text(f"{title}…")):
                yield step
        except BaseException:
            self.console.print(Text.assemble(("✗ ", "bold red"), title))
            raise
        finally:
            self.timings[title] = time.monotonic() - began
        line = Text.assemble(("✓ ", "bold green"), title)
        if step.detail:
            line.append(f": {step.detail}")
        line.append(f" ({self.timings[title]:.1f} s)", style="dim")
        self.console.print(line)

    def info(self, text: str) -> None:
        self.console.print(Text(text))

    def ok(self, text: str) -> None:
        self.console.print(Text.assemble(("✓ ", "bold green"), text))

    def skip(self, text: str) -> None:
        self.console.print(Text.assemble(("– ", "yellow"), text))

    def warn(self, text: str) -> None:
        self.err.print(Text.assemble(("warning: ", "bold yellow"), text))

    def error(self, text: str) -> None:
        self.err.print(Text.assemble(("kiosk-provision: ", "bold red"), text))
