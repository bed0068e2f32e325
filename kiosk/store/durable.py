"""Making a file's state outlive a power cut, and its old contents not outlive its removal."""

from __future__ import annotations

import os
from pathlib import Path

WIPE_CHUNK = 1 << 20


def fsync_path(path: Path) -> None:
    """Sync a file, or a folder (so that a rename or a new name in it is on the disk)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def wipe(path: Path) -> None:
    """Overwrite ``path`` with zeros, sync, and remove it: what it held is not left in its
    blocks for whoever reads the disk (a flash disk's own spare blocks are beyond reach)."""
    size = path.stat().st_size
    with path.open("r+b") as handle:
        written = 0
        while written < size:
            written += handle.write(bytes(min(WIPE_CHUNK, size - written)))
        handle.flush()
        os.fsync(handle.fileno())
    path.unlink()
    fsync_path(path.parent)
