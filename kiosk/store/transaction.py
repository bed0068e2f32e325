"""Explicit transactions on a store connection.

The connection runs in autocommit mode (``isolation_level=None``): a lone statement is durable as
soon as it returns, and nothing is ever left in an implicit transaction that would hold the write
lock. Work that must be all-or-nothing goes through :func:`transaction`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from kiosk.store.connection import Connection


@contextmanager
def transaction(db: Connection) -> Iterator[Connection]:
    """Commit everything done in the block at once, or nothing if it raises.

    Nested use joins the outer transaction through a savepoint, so a repository method can be part
    of a larger unit of work (e.g. apply a message and record its id) without committing early.
    """
    conn = db
    if conn.in_transaction:
        # Savepoints may share a name: RELEASE and ROLLBACK TO act on the innermost one.
        conn.execute("SAVEPOINT nested")
        try:
            yield db
        except BaseException:
            # SQLite rolls the whole transaction back by itself on some errors (disk full, I/O);
            # then there is no savepoint left, and trying would hide the original error.
            if conn.in_transaction:
                conn.execute("ROLLBACK TO nested")
                conn.execute("RELEASE nested")
            raise
        conn.execute("RELEASE nested")
        return
    # IMMEDIATE takes the write lock up front: a deferred transaction that reads first and writes
    # later can fail with SQLITE_BUSY on the upgrade, which busy_timeout does not retry.
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
