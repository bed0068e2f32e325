"""What a typed PIN or code is checked against: the verifier opened from the store at the
moment of the check (it is kept sealed under the pepper), or, for an unknown ID, a stand-in
that matches nothing and takes as long, so that the wait tells nobody which IDs exist."""

from __future__ import annotations

from kiosk.core.credentials import make_verifier
from kiosk.store.pepper import CODE_VERIFIER, PIN_VERIFIER
from kiosk.store.sealed_secrets import SealedSecrets


class Verifiers:
    def __init__(self, secrets: SealedSecrets) -> None:
        self._secrets = secrets
        self._decoy: str | None = None

    def decoy(self) -> str:
        """The stand-in; one per kiosk, made on first use (a worker thread may ask first)."""
        if self._decoy is None:
            self._decoy = make_decoy()
        return self._decoy

    def pin(self, sealed: object) -> str:
        """A resident's or technician's PIN verifier; the stand-in if it does not open."""
        return self._secrets.verifier(sealed, PIN_VERIFIER) or self.decoy()

    def code(self, sealed: object) -> str:
        """A visitor's confirmation code verifier; the stand-in if it does not open."""
        return self._secrets.verifier(sealed, CODE_VERIFIER) or self.decoy()

    def badge_key(self, sealed: object) -> bytes | None:
        """The facility's badge key, opened only to look one badge up."""
        return self._secrets.badge_key(sealed)


def make_decoy() -> str:
    """A verifier that matches no PIN anyone types (its secret is not a PIN)."""
    return make_verifier("not-a-pin:" + "x" * 16)
