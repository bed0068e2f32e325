"""Run a Kivy program unchanged and note when its window first draws a frame with a root widget.

    python bench/probe.py -m launch run --demo
    python bench/probe.py bench/bare_kivy_app.py --kivy-home /tmp/x

The target runs as ``python -m MODULE`` or ``python SCRIPT`` would run it; nothing in its logic
is patched. The probe only adds an import hook that, right after ``kivy.core.window`` has been
imported (by then the target has made its own Kivy settings: the kiosk makes them in
``kiosk.ui.kivy_setup.configure`` before it imports Kivy's window), binds ``Window.on_flip``.
The first ``on_flip`` while the window has a child (the app's root widget) is the first drawn
frame; its drawing commands have been issued and the buffer swap follows in the same call.

Environment (all optional):

``BENCH_PROBE_OUT``     write the timings there as JSON (atomically), else print them to stderr
``BENCH_PROBE_EXIT``    ``1``: end the process right after the first frame (startup runs);
                        the target's own shutdown is not part of the measurement
``BENCH_SPAWN_TIME``    the parent's ``time.time()`` just before it spawned this process
"""

from __future__ import annotations

import time

PROBE_START = time.time()  # first statement: as close to interpreter start as a script gets

import importlib.abc  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import runpy  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

WINDOW_MODULE = "kivy.core.window"
_timings: dict[str, Any] = {"pid": os.getpid(), "probe_start": PROBE_START}


def _spawn_time() -> float | None:
    try:
        return float(os.environ["BENCH_SPAWN_TIME"])
    except (KeyError, ValueError):
        return None


def _report() -> None:
    spawn = _spawn_time()
    if spawn is not None:
        _timings["spawn_time"] = spawn
        _timings["elapsed_s"] = _timings["first_frame"] - spawn
    text = json.dumps(_timings)
    out = os.environ.get("BENCH_PROBE_OUT")
    if not out:
        print(f"probe: {text}", file=sys.stderr, flush=True)
        return
    partial = f"{out}.{os.getpid()}.tmp"
    with open(partial, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(partial, out)  # the parent never reads half a file


def _window_imported(module: Any) -> None:
    _timings["window_created"] = time.time()
    window = getattr(module, "Window", None)
    if window is None:  # no window provider could start: the target will fail on its own
        return

    def on_flip(*_args: Any) -> None:
        if not _root_on(window):
            return
        _timings["first_frame"] = time.time()
        window.unbind(on_flip=on_flip)  # no cost at all on later frames
        _report()
        if os.environ.get("BENCH_PROBE_EXIT") == "1":
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)

    window.bind(on_flip=on_flip)


def _root_on(window: Any) -> bool:
    """Whether the running app's root widget (any widget, without an App) is on the window."""
    app_module = sys.modules.get("kivy.app")
    app = app_module.App.get_running_app() if app_module is not None else None
    if app is None:
        return bool(window.children)
    return app.root is not None and app.root in window.children


class _Loader(importlib.abc.Loader):
    """The real loader of ``kivy.core.window``, plus a call once the module has run."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def create_module(self, spec: Any) -> Any:
        return self._inner.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self._inner.exec_module(module)
        _window_imported(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _WatchWindowImport(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != WINDOW_MODULE:
            return None
        sys.meta_path.remove(self)  # one use; the real finders locate the module
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)
        return spec


def main(argv: list[str]) -> None:
    if not argv or (argv[0] == "-m" and len(argv) < 2):
        sys.exit("usage: probe.py (-m MODULE | SCRIPT) [ARGS...]")
    sys.meta_path.insert(0, _WatchWindowImport())
    if argv[0] == "-m":
        # As `python -m`: the current folder first on sys.path, argv[0] set by runpy.
        sys.path[0] = os.getcwd()
        sys.argv = [argv[1], *argv[2:]]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    else:
        script = os.path.abspath(argv[0])
        sys.path[0] = os.path.dirname(script)
        sys.argv = [argv[0], *argv[1:]]
        runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
