"""What someone holding a kiosk's disk would find: every byte of its data folder, searched."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any


def readable_on_disk(folder: Path, planted: Mapping[str, bytes]) -> list[str]:
    """The names of the ``planted`` byte strings found anywhere in ``folder``'s files (the
    database, its WAL and journal, whatever else is there)."""
    files = [path for path in folder.rglob("*") if path.is_file()]
    assert any(path.suffix == ".sqlite3" for path in files), f"no database in {folder}"
    on_disk = b"".join(path.read_bytes() for path in files)
    return [name for name, needle in planted.items() if needle in on_disk]


def everything_in(db: Any) -> str:
    """Every row of every table of an open database, as text: what someone holding its key
    would read."""
    tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    return "\n".join(repr(row) for table in tables for row in db.execute(f"SELECT * FROM {table}"))
