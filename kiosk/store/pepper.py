"""The pepper: a second secret that the kiosk's PIN and code verifiers and its badge key are
sealed under in the store, so that a verifier copied out alone (a row, a dump, a process's
memory) cannot be tried against PINs without it.

The pepper in force is the facility's when the cloud's ``config`` gave one (``pepper_b64``),
else one the kiosk made for itself; it is kept in the ``pepper`` table of the encrypted store
and nowhere else. A sealed value reads ``sealed$<pepper id>$<base64 AES-SIV box>``; the box
is bound to what the value is (a PIN verifier cannot be moved into a badge key's place).
AES-SIV is deterministic: the same value sealed again under the same pepper is the same text,
so a snapshot applied again changes no byte (and verifiers, salted, never repeat). Where
sealed values are kept, and how a new pepper takes over: :mod:`kiosk.store.sealed_secrets`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESSIV

PEPPER_BYTES = 32
SEALED = "sealed$"

# What each sealed value is: the box's associated data.
PIN_VERIFIER = "pin_verifier"
CODE_VERIFIER = "confirmation_code_verifier"
BADGE_KEY = "badge_key"


@dataclass(frozen=True)
class Pepper:
    key: bytes = field(repr=False)
    from_facility: bool

    @cached_property
    def pepper_id(self) -> str:
        """Names the pepper in sealed values without giving anything of it away."""
        return hmac.new(self.key, b"kiosk pepper id", hashlib.sha256).hexdigest()[:16]

    def seal(self, text: str, what: str) -> str:
        box = self._box.encrypt(text.encode(), [what.encode()])
        return f"{SEALED}{self.pepper_id}${base64.b64encode(box).decode()}"

    def open(self, sealed: object, what: str) -> str | None:
        """The sealed text; None for anything not sealed under this pepper as ``what``."""
        if not is_sealed(sealed):
            return None
        _, pepper_id, body = str(sealed).split("$", 2)
        if pepper_id != self.pepper_id:
            return None
        from cryptography.exceptions import InvalidTag

        try:
            text = self._box.decrypt(base64.b64decode(body, validate=True), [what.encode()])
        except (binascii.Error, ValueError, InvalidTag):
            return None
        return text.decode()

    @cached_property
    def _box(self) -> AESSIV:
        # Made once per pepper: deriving the key is most of a seal's cost (28 of 30 µs).
        # Imported on first use, not with the store: a start with nothing to seal needs none
        # of it (10 ms of the kiosk's start-up).
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.ciphers.aead import AESSIV
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        key = HKDF(hashes.SHA256(), 64, salt=None, info=b"kiosk sealed secrets").derive(self.key)
        return AESSIV(key)

    def open_or_seal(self, value: str, what: str, old: Pepper) -> str:
        """``value`` sealed under this pepper: plain ones sealed, ``old``'s opened and sealed
        again; one sealed under neither is left as it is (it opens under no pepper known)."""
        if not is_sealed(value):
            return self.seal(value, what)
        if old.pepper_id == self.pepper_id:
            return value
        opened = old.open(value, what)
        return value if opened is None else self.seal(opened, what)


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(SEALED) and value.count("$") == 2
