"""The store's one exception type."""


class StoreError(Exception):
    """The local database cannot be used as it is; the message says why, in one line."""
