"""The kiosk's state as a small JSON file beside its database, for `kiosk-provision status`.

A technician's command must not open the kiosk's database while it runs, nor wait for the
cloud: the kiosk writes what the maintenance screen would show every few seconds, atomically
(a reader never sees half a file). Nothing of a resident is in it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

STATUS_FILE = "status.json"
WRITE_EVERY_S = 10.0


def write_status(path: Path, status: dict[str, Any]) -> None:
    """Replace ``path`` with ``status`` as JSON, whole or not at all."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        json.dump(status, handle, indent=1, sort_keys=True)
        handle.write("\n")
    os.replace(temporary, path)


def read_status(path: Path) -> dict[str, Any] | None:
    """The last status written, or None if there is none (or it cannot be read)."""
    try:
        with path.open(encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
