"""The kiosk's data folder is its owner's alone, however the kiosk was started.

Under its systemd unit (``UMask=0077``) everything is made private; started any other way (a
developer's ``kiosk run`` with the usual umask 022) SQLite and Kivy would make files any local
user could read. At each start the folder is checked: a folder open to others becomes 0700, a
file 0600, and what was changed is logged, once.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

logger = logging.getLogger(__name__)

OTHERS = stat.S_IRWXG | stat.S_IRWXO


def make_private(folder: Path, *, log: bool = True) -> list[Path]:
    """Take every permission of group and others off ``folder`` and all it holds (symbolic
    links are not followed); the paths changed. ``log=False``: what the kiosk itself just
    made, not something found open."""
    changed: list[Path] = []
    if not folder.is_dir():
        return changed
    _restrict(folder, 0o700, changed)
    for parent, folders, files in os.walk(folder):
        for name in folders:
            _restrict(Path(parent) / name, 0o700, changed)
        for name in files:
            _restrict(Path(parent) / name, 0o600, changed)
    if changed and log:
        logger.warning(
            "%d of the kiosk's files were readable by others; now the owner's alone: %s",
            len(changed),
            ", ".join(str(path.relative_to(folder.parent)) for path in changed[:5])
            + (", ..." if len(changed) > 5 else ""),
        )
    return changed


def _restrict(path: Path, mode: int, changed: list[Path]) -> None:
    try:
        info = path.lstat()
    except FileNotFoundError:  # gone meanwhile (SQLite's shared memory, a temporary file)
        return
    if stat.S_ISLNK(info.st_mode) or not info.st_mode & OTHERS:
        return
    try:
        os.chmod(path, stat.S_IMODE(info.st_mode) & mode)
    except FileNotFoundError:
        return
    changed.append(path)
