"""Verifiers as the contract defines them: scrypt for PINs and codes, HMAC lookups for badges."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LEN = 16384, 8, 1, 32


def make_verifier(secret: str, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$salt_b64$hash_b64`` of the secret's UTF-8."""
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.scrypt(
        secret.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=SCRYPT_LEN
    )
    encode = base64.b64encode
    return (
        f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encode(salt).decode()}${encode(digest).decode()}"
    )


def check_verifier(secret: str, verifier: str) -> bool:
    """True when ``secret`` matches; a malformed verifier matches nothing."""
    try:
        scheme, n, r, p, salt_b64, hash_b64 = verifier.split("$")
        if scheme != "scrypt":
            return False
        salt = base64.b64decode(salt_b64, validate=True)
        expected = base64.b64decode(hash_b64, validate=True)
        n_, r_, p_ = int(n), int(r), int(p)
        if n_ > 2**15 or r_ > 8 or p_ > 2 or not expected:
            # The contract fixes N=16384, r=8, p=1; anything far costlier would stall sign-in.
            return False
        if min(n_, r_, p_) < 1:
            return False  # hashlib raises TypeError, not ValueError, for negative parameters
        digest = hashlib.scrypt(
            secret.encode(), salt=salt, n=n_, r=r_, p=p_, dklen=len(expected), maxmem=2**28
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest, expected)


def badge_lookup(badge_id: str, badge_key: bytes) -> str:
    """The lowercase hex HMAC-SHA256 a badge is found by; the badge itself is never kept."""
    return hmac.new(badge_key, badge_id.encode(), hashlib.sha256).hexdigest()
