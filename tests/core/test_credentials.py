"""PIN and code verifiers (scrypt) and badge lookups (HMAC-SHA256), as the contract defines them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time

import pytest

from kiosk.core.credentials import badge_lookup, check_verifier, make_verifier

# RFC 7914, section 12: scrypt("pleaseletmein", "SodiumChloride", N=16384, r=8, p=1, dkLen=64),
# the contract's own cost parameters.
RFC_7914_HASH = bytes.fromhex(
    "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2"
    "d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887"
)
SALT = b"0123456789abcdef"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def verifier(
    n: object = 16384, r: object = 8, p: object = 1, salt: str = "", hash_: str = ""
) -> str:
    return f"scrypt${n}${r}${p}${salt or b64(SALT)}${hash_ or b64(b'x' * 32)}"


def test_round_trip() -> None:
    made = make_verifier("1234")
    assert check_verifier("1234", made) is True


def test_the_format_is_the_contracts() -> None:
    made = make_verifier("1234", salt=SALT)
    scheme, n, r, p, salt_b64, hash_b64 = made.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert base64.b64decode(salt_b64) == SALT
    expected = hashlib.scrypt(b"1234", salt=SALT, n=16384, r=8, p=1, dklen=32)
    assert base64.b64decode(hash_b64) == expected


def test_each_verifier_has_its_own_salt() -> None:
    first, second = make_verifier("1234"), make_verifier("1234")
    assert first != second
    assert check_verifier("1234", first) and check_verifier("1234", second)


def test_a_verifier_made_elsewhere_is_checked() -> None:
    # What the cloud would send, built from the RFC's test vector rather than by make_verifier.
    cloud = f"scrypt$16384$8$1${b64(b'SodiumChloride')}${b64(RFC_7914_HASH)}"
    assert check_verifier("pleaseletmein", cloud) is True
    assert check_verifier("pleaseletmeout", cloud) is False


def test_a_non_ascii_secret_is_hashed_as_utf8() -> None:
    made = make_verifier("ñandú", salt=SALT)
    expected = hashlib.scrypt("ñandú".encode(), salt=SALT, n=16384, r=8, p=1, dklen=32)
    assert made.endswith("$" + b64(expected))
    assert check_verifier("ñandú", made) is True
    assert check_verifier("nandu", made) is False


@pytest.mark.parametrize("wrong", ["1235", "", "12345", "123", " 1234", "1234 ", "１２３４"])
def test_a_wrong_secret_fails(wrong: str) -> None:
    assert check_verifier(wrong, make_verifier("1234", salt=SALT)) is False


GOOD = make_verifier("1234", salt=SALT)
_, _, _, _, GOOD_SALT, GOOD_HASH = GOOD.split("$")


@pytest.mark.parametrize(
    "malformed",
    [
        "",
        "1234",
        GOOD.replace("scrypt$", "bcrypt$", 1),
        GOOD.replace("scrypt$", "SCRYPT$", 1),
        GOOD.replace("scrypt$", "pbkdf2$", 1),
        GOOD + "$extra",
        GOOD.rsplit("$", 1)[0],
        verifier(salt="!!!not base64!!!", hash_=GOOD_HASH),
        verifier(salt=GOOD_SALT, hash_="@@@@"),
        verifier(salt=GOOD_SALT, hash_=GOOD_HASH[:-2]),  # padding lost
        verifier(n="abc", salt=GOOD_SALT, hash_=GOOD_HASH),
        verifier(n="16384.0", salt=GOOD_SALT, hash_=GOOD_HASH),
        verifier(n=16383, salt=GOOD_SALT, hash_=GOOD_HASH),  # not a power of two
        verifier(n=0, salt=GOOD_SALT, hash_=GOOD_HASH),
        verifier(n=1, salt=GOOD_SALT, hash_=GOOD_HASH),
        verifier(n=-16384, salt=GOOD_SALT, hash_=GOOD_HASH),
        verifier(r=-8, salt=GOOD_SALT, hash_=GOOD_HASH),
        verifier(p=-1, salt=GOOD_SALT, hash_=GOOD_HASH),
        verifier(r=0, salt=GOOD_SALT, hash_=GOOD_HASH),
        verifier(p=0, salt=GOOD_SALT, hash_=GOOD_HASH),
        "scrypt$16384$8$1$" + GOOD_SALT + "$",  # no hash at all
    ],
)
def test_a_malformed_verifier_matches_nothing(malformed: str) -> None:
    assert check_verifier("1234", malformed) is False


@pytest.mark.parametrize(
    ("n", "r", "p"),
    [
        (2**30, 8, 1),
        (2**21, 8, 1),
        (2**64, 8, 1),
        ("9" * 5000, 8, 1),
        (16384, 2**40, 1),
        (16384, 8, 2**40),
        (2**20, 16, 4),  # within each bound, but more memory than the kiosk allows
    ],
)
def test_an_absurd_cost_is_refused_quickly(n: object, r: object, p: object) -> None:
    hostile = verifier(n=n, r=r, p=p, salt=GOOD_SALT, hash_=GOOD_HASH)
    started = time.perf_counter()
    assert check_verifier("1234", hostile) is False
    assert time.perf_counter() - started < 0.5


def test_badge_lookup_is_lowercase_hex_hmac_sha256() -> None:
    key, badge = b"facility-badge-key", "04A1B2C3D4"
    lookup = badge_lookup(badge, key)
    assert re.fullmatch(r"[0-9a-f]{64}", lookup)
    assert lookup == hmac.new(key, badge.encode("utf-8"), hashlib.sha256).hexdigest()
    assert badge not in lookup and badge.lower() not in lookup


def test_badge_lookup_matches_the_rfc_4231_vector() -> None:
    # RFC 4231, test case 2: HMAC-SHA-256(key "Jefe", "what do ya want for nothing?").
    assert badge_lookup("what do ya want for nothing?", b"Jefe") == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )


def test_badge_lookup_depends_on_the_key_and_the_badge() -> None:
    assert badge_lookup("04A1B2C3D4", b"key-1") != badge_lookup("04A1B2C3D4", b"key-2")
    assert badge_lookup("04A1B2C3D4", b"key-1") != badge_lookup("04A1B2C3D5", b"key-1")
