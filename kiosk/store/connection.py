"""The database connection's type: SQLCipher's, which is SQLite's with encryption."""

from sqlcipher3.dbapi2 import Connection

__all__ = ["Connection"]
