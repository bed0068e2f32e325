"""OutboxRepository on real SQLite files: the durable uplink queue of delivery rule 1."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import threading

import pytest
from sqlcipher3 import dbapi2 as sqlite3

from kiosk.core.clock import FakeClock
from kiosk.store import OutboxFull, OutboxRecord, OutboxRepository, open_database
from kiosk.store.connection import Connection
from kiosk.store.database import connect
from kiosk.store.database_key import NO_KEY
from kiosk.store.transaction import transaction

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
BUDGET = 1_000


def payload(n: int, size: int = 0) -> bytes:
    text = f'{{"v":1,"type":"event","n":{n}'
    return (text + " " * max(0, size - len(text) - 1) + "}").encode()


@pytest.fixture
def outbox(db: Connection, clock: FakeClock) -> OutboxRepository:
    return OutboxRepository(db, budget_bytes=BUDGET, now=clock.now)


def rows(db: Connection) -> list[tuple[object, ...]]:
    return db.execute("SELECT * FROM outbox ORDER BY seq").fetchall()


def test_an_empty_outbox(outbox: OutboxRepository) -> None:
    assert outbox.pending() == []
    assert outbox.depth() == 0
    assert outbox.size_bytes() == 0
    assert outbox.fill_ratio() == 0.0
    assert outbox.budget_bytes == BUDGET


def test_pending_keeps_the_order_overall_and_per_topic(
    outbox: OutboxRepository, clock: FakeClock
) -> None:
    appended = []
    for n, topic in enumerate(["up/events", "up/outbox", "up/events", "up/captures", "up/events"]):
        appended.append((outbox.append(topic, f"r-{n}", payload(n)), topic, f"r-{n}"))
        clock.advance(1)

    seqs = [seq for seq, _, _ in appended]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)
    pending = outbox.pending()
    assert [(r.seq, r.topic, r.record_id) for r in pending] == appended
    assert [r.payload for r in pending] == [payload(n) for n in range(5)]
    assert pending[0].created_at == "2024-05-01T08:00:00Z"
    assert pending[4].created_at == "2024-05-01T08:00:04Z"
    events = [r.record_id for r in pending if r.topic == "up/events"]
    assert events == ["r-0", "r-2", "r-4"]
    assert outbox.depth() == 5
    assert outbox.size_bytes() == sum(len(payload(n)) for n in range(5))


def test_pending_pages_by_seq(outbox: OutboxRepository) -> None:
    seqs = [outbox.append("up/events", f"e-{n}", payload(n)) for n in range(7)]
    first = outbox.pending(limit=3)
    assert [r.seq for r in first] == seqs[:3]
    rest = outbox.pending(after_seq=first[-1].seq, limit=3)
    assert [r.seq for r in rest] == seqs[3:6]
    assert [r.seq for r in outbox.pending(after_seq=seqs[-1])] == []
    with pytest.raises(ValueError, match="limit"):
        outbox.pending(limit=0)


def test_pending_can_cap_the_bytes_it_returns(outbox: OutboxRepository) -> None:
    seqs = [outbox.append("up/captures", f"c-{n}", payload(n, 100)) for n in range(5)]
    assert [r.seq for r in outbox.pending(max_bytes=250)] == seqs[:2]
    assert [r.seq for r in outbox.pending(max_bytes=300)] == seqs[:3]
    # The first record comes even when it alone is over the cap: the queue must not stall.
    assert [r.seq for r in outbox.pending(max_bytes=10)] == seqs[:1]


def test_a_record_is_committed_when_append_returns(
    outbox: OutboxRepository, path: pathlib.Path, db: Connection
) -> None:
    data = '{"v":1,"type":"message","body":"Hola ✓"}'.encode()
    seq = outbox.append("up/outbox", "m-1", data)
    assert not db.in_transaction
    # Another connection, while the writer is still open, sees it.
    other = connect(path)
    try:
        found = other.execute("SELECT seq, record_id, size FROM outbox").fetchall()
    finally:
        other.close()
    # size counts bytes (✓ is three), not characters.
    assert found == [(seq, "m-1", len(data))]
    assert len(data) == 42


def test_the_budget_refuses_what_would_not_fit_and_changes_nothing(
    outbox: OutboxRepository, db: Connection
) -> None:
    outbox.append("up/events", "e-1", payload(1, 600))
    before = rows(db)

    with pytest.raises(OutboxFull) as caught:
        outbox.append("up/captures", "c-1", payload(2, 401))
    assert (caught.value.needed, caught.value.queued, caught.value.budget) == (401, 600, BUDGET)
    assert "budget of 1000 bytes" in str(caught.value)
    assert rows(db) == before
    assert outbox.depth() == 1
    assert outbox.size_bytes() == 600
    assert not db.in_transaction

    # Exactly up to the budget fits.
    outbox.append("up/captures", "c-1", payload(2, 400))
    assert outbox.size_bytes() == BUDGET
    assert outbox.fill_ratio() == 1.0
    with pytest.raises(OutboxFull):
        outbox.append("up/events", "e-2", b"x")


def test_deleting_frees_the_budget(outbox: OutboxRepository) -> None:
    seq = outbox.append("up/events", "e-1", payload(1, 900))
    with pytest.raises(OutboxFull):
        outbox.append("up/events", "e-2", payload(2, 200))
    outbox.delete([seq])
    outbox.append("up/events", "e-2", payload(2, 200))
    assert outbox.fill_ratio() == pytest.approx(0.2)


def test_a_payload_larger_than_the_whole_budget_is_refused(outbox: OutboxRepository) -> None:
    with pytest.raises(OutboxFull):
        outbox.append("up/captures", "c-1", payload(1, BUDGET + 1))
    assert outbox.depth() == 0


def test_the_budget_counts_what_other_connections_queued(
    path: pathlib.Path, outbox: OutboxRepository
) -> None:
    outbox.append("up/events", "e-1", payload(1, 600))
    other = open_database(path)
    try:
        with pytest.raises(OutboxFull):
            OutboxRepository(other, budget_bytes=BUDGET).append("up/events", "e-2", payload(2, 600))
    finally:
        other.close()
    assert outbox.depth() == 1


def test_append_many_returns_seqs_in_order(outbox: OutboxRepository) -> None:
    seqs = outbox.append_many([("up/events", f"e-{n}", payload(n)) for n in range(4)])
    assert len(seqs) == 4
    assert seqs == sorted(seqs)
    assert [r.seq for r in outbox.pending()] == seqs
    assert [r.record_id for r in outbox.pending()] == ["e-0", "e-1", "e-2", "e-3"]
    assert outbox.append_many([]) == []


def test_append_many_is_all_or_none(outbox: OutboxRepository, db: Connection) -> None:
    outbox.append("up/events", "e-0", payload(0, 100))
    before = rows(db)

    # Each fits alone, not all together.
    too_many = [("up/events", f"e-{n}", payload(n, 300)) for n in range(1, 5)]
    with pytest.raises(OutboxFull):
        outbox.append_many(too_many)
    # One too big among small ones.
    with pytest.raises(OutboxFull):
        outbox.append_many([("up/events", "a", payload(1)), ("up/captures", "b", payload(2, 2000))])
    # One that is not UTF-8.
    with pytest.raises(ValueError, match="UTF-8"):
        outbox.append_many([("up/events", "a", payload(1)), ("up/events", "b", b"\xff\xfe")])
    # The database failing on the second insert, after the first one was written.
    db.execute(
        "CREATE TEMP TRIGGER fail_boom BEFORE INSERT ON main.outbox "
        "WHEN NEW.record_id = 'boom' BEGIN SELECT RAISE(ABORT, 'disk trouble'); END"
    )
    with pytest.raises(sqlite3.IntegrityError, match="disk trouble"):
        outbox.append_many([("up/events", "a", payload(1)), ("up/events", "boom", payload(2))])
    assert rows(db) == before
    assert not db.in_transaction


def test_payloads_must_be_utf8_bytes(outbox: OutboxRepository) -> None:
    with pytest.raises(TypeError):
        outbox.append("up/events", "e-1", '{"v":1}')  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="UTF-8"):
        outbox.append("up/events", "e-1", b"\xc3\x28")
    with pytest.raises(ValueError, match="topic"):
        outbox.append("", "e-1", b"{}")
    with pytest.raises(ValueError, match="record_id"):
        outbox.append("up/events", "", b"{}")
    assert outbox.depth() == 0
    # Any bytes-like payload is accepted and comes back as bytes.
    outbox.append("up/events", "e-1", bytearray(b'{"n":"\xc3\xa9"}'))
    assert outbox.pending()[0].payload == b'{"n":"\xc3\xa9"}'
    assert type(outbox.pending()[0].payload) is bytes


def test_budget_must_be_positive(db: Connection) -> None:
    with pytest.raises(ValueError):
        OutboxRepository(db, budget_bytes=0)
    with pytest.raises(TypeError):
        OutboxRepository(db, budget_bytes=1.5)  # type: ignore[arg-type]


def test_delete_removes_only_the_given_seqs_and_is_idempotent(outbox: OutboxRepository) -> None:
    seqs = [outbox.append("up/events", f"e-{n}", payload(n)) for n in range(5)]
    assert outbox.delete([seqs[1], seqs[3]]) == 2
    assert [r.seq for r in outbox.pending()] == [seqs[0], seqs[2], seqs[4]]
    assert outbox.size_bytes() == sum(len(payload(n)) for n in (0, 2, 4))

    assert outbox.delete([seqs[1], seqs[3]]) == 0  # a second PUBACK for the same records
    assert outbox.delete([seqs[3], seqs[4], seqs[4], 10_000]) == 1
    assert outbox.delete([]) == 0
    assert [r.seq for r in outbox.pending()] == [seqs[0], seqs[2]]


def test_delete_is_one_transaction_however_many_seqs(
    db: Connection, outbox: OutboxRepository
) -> None:
    big = OutboxRepository(db, budget_bytes=10**7)
    seqs = big.append_many([("up/events", f"e-{n}", payload(n)) for n in range(1200)])
    statements: list[str] = []
    db.set_trace_callback(statements.append)
    try:
        assert outbox.delete(iter(seqs[:1100])) == 1100
    finally:
        db.set_trace_callback(None)
    assert [s for s in statements if s.startswith(("BEGIN", "COMMIT"))] == [
        "BEGIN IMMEDIATE",
        "COMMIT",
    ]
    assert sum(s.startswith("DELETE") for s in statements) >= 2  # in batches
    assert [r.seq for r in big.pending()] == seqs[1100:]


def test_a_failing_delete_deletes_nothing(outbox: OutboxRepository) -> None:
    seqs = [outbox.append("up/events", f"e-{n}", payload(n)) for n in range(3)]
    with pytest.raises(TypeError):
        outbox.delete([seqs[0], "not a seq"])  # type: ignore[list-item]
    assert [r.seq for r in outbox.pending()] == seqs


def test_seqs_are_never_reused_after_the_outbox_empties(outbox: OutboxRepository) -> None:
    first = outbox.append("up/events", "e-1", payload(1))
    outbox.delete([first])
    assert outbox.depth() == 0
    assert outbox.append("up/events", "e-2", payload(2)) > first


def test_append_inside_a_rolled_back_transaction_is_undone(
    outbox: OutboxRepository, db: Connection
) -> None:
    kept = outbox.append("up/events", "e-1", payload(1))
    with pytest.raises(RuntimeError), transaction(db):
        outbox.append("up/outbox", "m-1", payload(2))
        assert outbox.depth() == 2
        raise RuntimeError("the message row failed")
    assert [r.seq for r in outbox.pending()] == [kept]


def test_outbox_full_inside_a_transaction_undoes_only_the_append(
    outbox: OutboxRepository, db: Connection
) -> None:
    with transaction(db):
        outbox.append("up/events", "e-1", payload(1))
        with pytest.raises(OutboxFull):
            outbox.append("up/captures", "c-1", payload(2, BUDGET))
    assert [r.record_id for r in outbox.pending()] == ["e-1"]


def test_the_budget_total_is_read_from_an_index(db: Connection) -> None:
    plan = db.execute("EXPLAIN QUERY PLAN SELECT coalesce(sum(size), 0) FROM outbox").fetchall()
    assert "COVERING INDEX idx_outbox_size" in " ".join(str(row[-1]) for row in plan)


def test_records_survive_close_and_reopen(path: pathlib.Path, clock: FakeClock) -> None:
    db = open_database(path)
    outbox = OutboxRepository(db, budget_bytes=BUDGET, now=clock.now)
    seqs = outbox.append_many([("up/events", "e-1", payload(1)), ("up/cmd-result", "c", b"{}")])
    outbox.delete([seqs[0]])
    db.close()

    db = open_database(path)
    try:
        assert OutboxRepository(db, budget_bytes=BUDGET).pending() == [
            OutboxRecord(seqs[1], "up/cmd-result", "c", b"{}", "2024-05-01T08:00:00Z")
        ]
    finally:
        db.close()


def test_usable_from_another_thread(outbox: OutboxRepository) -> None:
    seen: list[object] = []

    def worker() -> None:
        try:
            seen.append(outbox.append("up/events", "e-1", payload(1)))
        except Exception as exc:  # asserted below
            seen.append(exc)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert [r.seq for r in outbox.pending()] == seen


APPENDING_CHILD = """
import pathlib, sys
from kiosk.store import OutboxRepository, open_database

db = open_database(pathlib.Path(sys.argv[1]))
outbox = OutboxRepository(db, budget_bytes=10**9)
n = 0
while True:
    seq = outbox.append("up/events", f"e-{n}", b'{"v":1,"type":"event","n":%d}' % n)
    print(seq, n, flush=True)  # only once append has returned
    n += 1
"""


def test_a_record_survives_sigkill_right_after_append_returned(path: pathlib.Path) -> None:
    open_database(path).close()
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", APPENDING_CHILD, str(path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    reported: list[tuple[int, int]] = []
    try:
        assert child.stdout is not None
        while len(reported) < 30:
            line = child.stdout.readline()
            assert line, f"the child stopped: {child.stderr.read() if child.stderr else ''}"
            seq, n = line.split()
            reported.append((int(seq), int(n)))
        # While it is appending the next records: no chance to close, roll back or flush.
        os.kill(child.pid, signal.SIGKILL)
        rest, _ = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    # Whatever the child reported before it died was committed, even if still in the pipe.
    reported += [(int(seq), int(n)) for seq, n in (line.split() for line in rest.splitlines())]

    db = open_database(path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {r.seq: r for r in OutboxRepository(db, budget_bytes=10**9).pending(limit=100_000)}
        for seq, n in reported:
            assert stored[seq].record_id == f"e-{n}"
            assert stored[seq].payload == b'{"v":1,"type":"event","n":%d}' % n
        # At most the one append in flight when the kill came is there unreported.
        assert len(stored) - len(reported) in (0, 1)
        assert list(stored) == sorted(stored)
    finally:
        db.close()


def test_acknowledged_messages_become_sent_with_their_records_deleted(
    outbox: OutboxRepository, db: Connection
) -> None:
    from kiosk.store.messages import MessagesRepository

    messages = MessagesRepository(db)
    messages.add_outgoing("m-1", "i-100", "c-1", "one", "2024-05-01T07:01:00Z")
    messages.add_outgoing("m-2", "i-100", "c-1", "two", "2024-05-01T07:02:00Z")
    root = "kiosk/v1/f/k"
    first = outbox.append(f"{root}/up/outbox", "m-1", payload(1))
    event = outbox.append(f"{root}/up/events", "m-2", payload(2))  # an id, not a message
    second = outbox.append(f"{root}/up/outbox", "m-2", payload(3))

    assert outbox.delete_acknowledged([first, event]) == ["m-1"]
    assert messages.get("m-1").status == "sent"
    assert messages.get("m-2").status == "queued"
    assert [r.seq for r in outbox.pending()] == [second]

    assert outbox.delete_acknowledged([second, second, first]) == ["m-2"]
    assert outbox.depth() == 0
    assert outbox.delete_acknowledged([]) == []


def test_a_failing_acknowledgement_changes_neither_message_nor_record(
    outbox: OutboxRepository, db: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kiosk.store.messages import MessagesRepository

    messages = MessagesRepository(db)
    messages.add_outgoing("m-1", "i-100", "c-1", "one", "2024-05-01T07:01:00Z")
    seq = outbox.append("kiosk/v1/f/k/up/outbox", "m-1", payload(1))

    def broken_delete(seqs: object) -> int:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(outbox, "delete", broken_delete)
    with pytest.raises(sqlite3.OperationalError):
        outbox.delete_acknowledged([seq])
    assert messages.get("m-1").status == "queued"  # not "sent" while its record is queued
    assert outbox.depth() == 1


def _bytes_around_delivery(
    db: Connection, path: pathlib.Path, clock: FakeClock, marker: str
) -> tuple[bytes, bytes]:
    """A capture queued, then delivered (deleted): the file's bytes before, and after with its
    WAL, each checkpointed."""
    outbox = OutboxRepository(db, budget_bytes=10_000_000, now=clock.now)
    body = ('{"v":1,"type":"capture","data_b64":"' + marker * 2000 + '"}').encode()
    seq = outbox.append("kiosk/v1/f/lobby-01/up/captures", "c-1", body)
    outbox.append("kiosk/v1/f/lobby-01/up/events", "e-1", payload(1))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = path.read_bytes()
    outbox.delete([seq])
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    wal = path.with_name(path.name + "-wal")
    return before, path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_a_delivered_record_leaves_no_trace_in_the_database_file(
    db: Connection, path: pathlib.Path, tmp_path: pathlib.Path, clock: FakeClock
) -> None:
    """A visitor's ID photo, once the broker has it, cannot be read back from the file: not
    from the encrypted file, nor, should its key be taken, from the pages it freed."""
    marker = "VISITOR-PHOTO-7f3a9c"
    # Control: plain SQLite without zeroing deletes keeps the photo in free pages.
    for secure_delete, kept in (("OFF", True), ("ON", False)):
        plain_path = tmp_path / f"plain-{secure_delete}" / "kiosk.db"
        plain = open_database(plain_path, key=NO_KEY)
        plain.execute(f"PRAGMA secure_delete = {secure_delete}")
        try:
            before, after = _bytes_around_delivery(plain, plain_path, clock, marker)
        finally:
            plain.close()
        assert marker.encode() in before  # the photo is there to be found
        assert (marker.encode() in after) is kept, f"secure_delete {secure_delete}"
    assert db.execute("PRAGMA secure_delete").fetchone()[0] == 1
    before, after = _bytes_around_delivery(db, path, clock, marker)
    assert marker.encode() not in before + after
