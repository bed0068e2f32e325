"""The database at rest: nothing of it readable from the disk without its key, a plain database
encrypted where it lies even when killed halfway, and files nobody else may read."""

from __future__ import annotations

import logging
import os
import random
import shutil
import sqlite3 as plain_sqlite
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kiosk.assembly import build_kiosk
from kiosk.core.clock import FakeClock
from kiosk.store import MessagesRepository, StoreError, open_database
from kiosk.store.database_key import KEY_FILE, KEY_FILE_NAME, NO_KEY, find_key
from kiosk.store.encrypt_in_place import PLAIN_HEADER
from tests.conftest import make_config

MESSAGE = "MESSAGE-FOR-LUIS-5d1c7e"
PHOTO = b"PHOTO-OF-THE-BABY-0c93aa" * 50


def plant(db, clock: FakeClock, count: int = 1, photo: bytes = PHOTO) -> None:
    messages = MessagesRepository(db, now=clock.now)
    for n in range(count):
        messages.add_incoming(
            f"m-{n:06d}",
            "i-100",
            "c-1",
            "Rosa",
            "2024-05-01T08:00:00Z",
            f"{MESSAGE} #{n}",
            [(f"p-{n:06d}", "image/jpeg", photo)],
        )


def every_byte(folder: Path) -> bytes:
    """All the folder holds, file by file, as someone holding the disk would read it."""
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def test_nothing_planted_is_in_the_files_the_database_and_its_wal_leave(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "data" / "kiosk.sqlite3"
    db = open_database(path)
    try:
        plant(db, clock, 20)
        assert path.with_name(path.name + "-wal").stat().st_size > 0  # the WAL holds them now
        on_disk = every_byte(path.parent)
    finally:
        db.close()
    assert MESSAGE.encode() not in on_disk and PHOTO[:24] not in on_disk
    assert not path.read_bytes().startswith(PLAIN_HEADER)
    assert MESSAGE.encode() not in every_byte(path.parent)  # after the close's checkpoint too
    again = open_database(path)
    try:
        assert MessagesRepository(again).get("m-000003").body == f"{MESSAGE} #3"
    finally:
        again.close()


def test_a_copy_without_its_key_does_not_open(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "kiosk" / "kiosk.sqlite3"
    db = open_database(path)
    plant(db, clock)
    db.close()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(path, elsewhere / path.name)  # the disk, not the key beside it
    with pytest.raises(StoreError, match="encrypted with a key that is not here"):
        open_database(elsewhere / path.name)
    # No key made for it (only the empty lock file its opening takes), the database untouched.
    assert {p.name for p in elsewhere.iterdir()} == {path.name, f"{path.name}.lock"}
    assert (elsewhere / path.name).read_bytes() == path.read_bytes()
    (elsewhere / KEY_FILE_NAME).write_bytes(os.urandom(32))  # a guess, or another kiosk's
    with pytest.raises(StoreError, match="not a kiosk database this key opens"):
        open_database(elsewhere / path.name)
    with pytest.raises(plain_sqlite.DatabaseError):
        plain_sqlite.connect(elsewhere / path.name).execute("SELECT * FROM messages")


def test_the_key_file_is_made_once_and_a_credential_comes_first(tmp_path: Path) -> None:
    key = find_key(tmp_path)
    assert key.protection == KEY_FILE
    assert stat.S_IMODE((tmp_path / KEY_FILE_NAME).stat().st_mode) == 0o600
    assert find_key(tmp_path).raw == key.raw
    assert key.raw.hex() not in repr(key)
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "kiosk-database-key").write_bytes(bytes(range(32)))
    sealed = find_key(tmp_path, {"CREDENTIALS_DIRECTORY": str(credentials)})
    assert sealed.raw == bytes(range(32)) and sealed.protection != KEY_FILE
    (tmp_path / KEY_FILE_NAME).write_bytes(b"short")
    with pytest.raises(StoreError, match="not a database key"):
        find_key(tmp_path)


def test_a_plain_database_is_encrypted_where_it_lies_with_all_it_held(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "kiosk.sqlite3"
    old = open_database(path, key=NO_KEY)  # a kiosk from before encryption
    plant(old, clock, 5)
    old.close()
    assert MESSAGE.encode() in every_byte(tmp_path)
    db = open_database(path)
    try:
        assert MessagesRepository(db).get("m-000004").body == f"{MESSAGE} #4"
        assert db.execute("PRAGMA user_version").fetchone()[0] > 0
    finally:
        db.close()
    assert MESSAGE.encode() not in every_byte(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "database.key",
        "kiosk.sqlite3",
        "kiosk.sqlite3.lock",
    ]


KILLED_CHILD = """
import sys
from pathlib import Path
from kiosk.store import open_database
print("ready", flush=True)
open_database(Path(sys.argv[1])).close()
print("done", flush=True)
"""


def test_encrypting_in_place_killed_at_any_moment_leaves_one_whole_database(
    tmp_path: Path, clock: FakeClock
) -> None:
    original = tmp_path / "original" / "kiosk.sqlite3"
    old = open_database(original, key=NO_KEY)
    plant(old, clock, 400, PHOTO * 20)  # 10 MB: the copy takes a while to write
    old.close()
    key = original.parent / KEY_FILE_NAME
    key.write_bytes(os.urandom(32))  # made by the kiosk before it begins, as find_key does
    key.chmod(0o600)
    env = {**os.environ, "PYTHONPATH": str(Path.cwd())}

    def encrypt(folder: Path) -> subprocess.Popen:
        if folder.exists():
            shutil.rmtree(folder)
        shutil.copytree(original.parent, folder)
        return subprocess.Popen(
            [sys.executable, "-c", KILLED_CHILD, str(folder / original.name)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )

    whole = encrypt(tmp_path / "timing")
    assert whole.stdout is not None and whole.stdout.readline().strip() == "ready"
    started = time.monotonic()
    assert whole.communicate(timeout=60)[0].strip() == "done"
    duration = time.monotonic() - started
    rng = random.Random(7)
    outcomes = {"plain": 0, "encrypted": 0}
    for trial in range(24):
        folder = tmp_path / f"trial-{trial}"
        child = encrypt(folder)
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0, 1.1 * duration))  # a random moment of the encryption
        child.kill()
        child.communicate()
        path = folder / original.name
        assert path.exists(), f"trial {trial}: no database at all"
        outcomes["plain" if path.read_bytes().startswith(PLAIN_HEADER) else "encrypted"] += 1
        db = open_database(path)  # finishes the work, or begins it again
        try:
            messages = MessagesRepository(db)
            assert db.execute("SELECT count(*) FROM messages").fetchone()[0] == 400
            assert messages.get("m-000399").body == f"{MESSAGE} #399", f"trial {trial}"
        finally:
            db.close()
        assert MESSAGE.encode() not in every_byte(folder), f"trial {trial}: plain text left"
        assert {p.name for p in folder.iterdir()} <= {
            "database.key",
            "kiosk.sqlite3",
            "kiosk.sqlite3.lock",
            "kiosk.sqlite3-wal",
            "kiosk.sqlite3-shm",
        }
    print(f"\nkilled during {duration:.2f} s of encryption: {outcomes}")


def test_the_files_are_the_owners_alone_under_a_usual_umask(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = make_config(tmp_path)
    data = config.data_dir
    data.mkdir(mode=0o755, parents=True)
    data.chmod(0o755)
    (data / "left-open.txt").write_text("x")
    (data / "left-open.txt").chmod(0o644)
    previous = os.umask(0o022)
    try:
        with caplog.at_level(logging.WARNING, logger="kiosk.store.file_modes"):
            kiosk = build_kiosk(config, FakeClock(datetime(2026, 12, 7, 12, tzinfo=UTC)))
            kiosk.database.execute("CREATE TABLE IF NOT EXISTS note (x)")
            files = {p.name: stat.S_IMODE(p.stat().st_mode) for p in data.iterdir()}
            kiosk.database.close()
            # The next start finds nothing to fix, and says nothing.
            build_kiosk(config, FakeClock(datetime(2026, 12, 7, 12, tzinfo=UTC))).database.close()
    finally:
        os.umask(previous)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert "kiosk.sqlite3-wal" in files
    assert files == dict.fromkeys(files, 0o600), files
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and "left-open.txt" in said[0], said
