"""Writing files so that a failed or interrupted run changes nothing.

Every new file is first written in full to a temporary file beside its target and flushed to
disk; only when all of them are there are they renamed into place, one after the other, with
SIGINT, SIGTERM and SIGHUP held back meanwhile. A failure before the renames removes the
temporary files and leaves every target as it was. Several files cannot be replaced in one
atomic step: a power cut within the few microseconds of the renames can still mix old and new.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

_HELD_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


@dataclass(frozen=True)
class PlannedFile:
    """One file to write: where, what, its mode, and its owner (None: whoever writes it)."""

    path: Path
    data: bytes
    mode: int
    owner: tuple[int, int] | None = None
    label: str = ""


def write_all(files: Sequence[PlannedFile], dir_mode: int = 0o755) -> None:
    """Write ``files`` all or nothing; they are renamed into place in the order given."""
    staged: list[tuple[Path, PlannedFile]] = []
    try:
        for planned in files:
            planned.path.parent.mkdir(parents=True, exist_ok=True, mode=dir_mode)
            staged.append((_stage(planned), planned))
        with _signals_held():
            for temporary, planned in staged:
                os.replace(temporary, planned.path)
            staged.clear()
    finally:
        for temporary, _planned in staged:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
    for folder in {planned.path.parent for planned in files}:
        _fsync_dir(folder)


def _stage(planned: PlannedFile) -> Path:
    # mkstemp creates the file 0600, so a key is never readable by others, even for an instant.
    fd, name = tempfile.mkstemp(prefix=f".{planned.path.name}.", dir=planned.path.parent)
    temporary = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(planned.data)
            handle.flush()
            if planned.owner is not None:
                os.fchown(handle.fileno(), *planned.owner)
            os.fchmod(handle.fileno(), planned.mode)  # after chown, which may clear mode bits
            os.fsync(handle.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """An interrupt during the renames is delivered after them, not between two of them."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _fsync_dir(folder: Path) -> None:
    """The renames themselves reach the disk only with the folder's own flush."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def nearest_existing(path: Path) -> Path:
    """``path`` or its closest ancestor that exists: where a new file's folders would begin."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def can_write(folder: Path) -> bool:
    """Whether files can be created in ``folder`` (or the folders that would lead to it)."""
    return os.access(nearest_existing(folder), os.W_OK | os.X_OK)
