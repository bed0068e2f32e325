"""Badge formats: raw UIDs and H10301 to canonical text, parity checks, the repeat filter."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.badge_formats import (
    FORMATS,
    MAX_UID_HEX_DIGITS,
    RepeatFilter,
    canonical,
    encode_h10301,
    h10301,
    raw_uid,
)

PROPS = settings(database=None, deadline=None)  # no .hypothesis folder in the work tree

facilities = st.integers(0, 0xFF)
cards = st.integers(0, 0xFFFF)
uids = st.binary(min_size=1, max_size=MAX_UID_HEX_DIGITS // 2)


def as_binary(frame: int) -> str:
    return format(frame, "026b")


def as_hex(frame: int) -> str:
    return format(frame, "07X")


# -- raw UIDs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("04a1b2c3", "04A1B2C3"),
        ("04:A1:B2:C3", "04A1B2C3"),
        ("04-a1-b2-c3-d4-e5-f6", "04A1B2C3D4E5F6"),
        (" 04 A1 b2 C3 ", "04A1B2C3"),
        ("0a1b\t2c3d", "0A1B2C3D"),
    ],
)
def test_raw_uid_normalises(text: str, expected: str) -> None:
    assert raw_uid(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", " : - ", "04A1B2C", "04A1B2CG", "0x04A1B2", "04A1B2C3;", "０４Ａ１", "04.A1"],
)
def test_raw_uid_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="raw UID"):
        raw_uid(text)


def test_raw_uid_rejects_an_endless_line() -> None:
    with pytest.raises(ValueError, match="longer"):
        raw_uid("AB" * (MAX_UID_HEX_DIGITS // 2 + 1))


@PROPS
@given(
    uid=uids,
    lower=st.lists(st.booleans(), min_size=MAX_UID_HEX_DIGITS, max_size=MAX_UID_HEX_DIGITS),
    separator=st.sampled_from(["", ":", "-", " "]),
)
def test_raw_uid_of_any_spelling_is_upper_hex(
    uid: bytes, lower: list[bool], separator: str
) -> None:
    spelled = separator.join(
        "".join(c.lower() if low else c for c, low in zip(f"{b:02X}", lower[2 * i :], strict=False))
        for i, b in enumerate(uid)
    )
    assert raw_uid(spelled) == uid.hex().upper()
    assert raw_uid(raw_uid(spelled)) == raw_uid(spelled)  # canonical text is a fixed point


@PROPS
@given(
    # At least 4 bytes: a shorter UID's hex could be a word of the message ("de", "ad").
    uid=st.binary(min_size=4, max_size=MAX_UID_HEX_DIGITS // 2),
    junk=st.characters(exclude_characters="0123456789abcdefABCDEF:- \t"),
)
def test_raw_uid_rejects_any_other_character_without_quoting_it(uid: bytes, junk: str) -> None:
    text = uid.hex() + junk
    with pytest.raises(ValueError) as info:
        raw_uid(text)
    assert uid.hex() not in str(info.value)


@PROPS
@given(uid=uids)
def test_raw_uid_rejects_half_bytes(uid: bytes) -> None:
    with pytest.raises(ValueError, match="odd"):
        raw_uid(uid.hex()[:-1])


# -- H10301 -----------------------------------------------------------------------------------


def test_h10301_known_card() -> None:
    # FC 1, card 1: data bits 00000001 0000000000000001; bits 2-13 hold one 1 (leading
    # parity 1), bits 14-25 hold one 1 (trailing parity 0).
    frame = 0b1_00000001_0000000000000001_0
    assert encode_h10301(1, 1) == frame
    assert h10301(frame, 26) == "1:1"
    assert h10301(as_binary(frame)) == "1:1"
    assert h10301(as_hex(frame)) == "1:1"
    assert h10301(as_hex(frame).lower()) == "1:1"


def test_h10301_decimal_has_no_leading_zeros() -> None:
    assert h10301(encode_h10301(0, 0), 26) == "0:0"
    assert h10301(encode_h10301(255, 65535), 26) == "255:65535"
    assert h10301(encode_h10301(12, 345), 26) == "12:345"


@PROPS
@given(facility=facilities, card=cards)
def test_h10301_round_trips_in_every_spelling(facility: int, card: int) -> None:
    frame = encode_h10301(facility, card)
    assert 0 <= frame < 1 << 26
    expected = f"{facility}:{card}"
    assert h10301(frame, 26) == expected
    assert h10301(as_binary(frame)) == expected
    assert h10301(as_hex(frame)) == expected
    assert h10301(f" {as_hex(frame)}\t") == expected
    assert canonical(as_binary(frame), "h10301") == expected
    assert canonical(as_hex(frame), "auto") == expected
    assert canonical(as_binary(frame), "auto") == expected


@PROPS
@given(facility=facilities, card=cards, bit=st.integers(0, 25))
def test_h10301_rejects_any_single_bit_flip(facility: int, card: int, bit: int) -> None:
    frame = encode_h10301(facility, card) ^ (1 << bit)
    for spelled in (as_binary(frame), as_hex(frame)):
        with pytest.raises(ValueError, match="parity") as info:
            h10301(spelled)
        assert spelled not in str(info.value)
    with pytest.raises(ValueError, match="parity"):
        h10301(frame, 26)


@PROPS
@given(facility=facilities, card=cards)
def test_h10301_names_which_parity_failed(facility: int, card: int) -> None:
    frame = encode_h10301(facility, card)
    with pytest.raises(ValueError, match="leading even parity"):
        h10301(frame ^ (1 << 25), 26)
    with pytest.raises(ValueError, match="trailing odd parity"):
        h10301(frame ^ 1, 26)


@pytest.mark.parametrize(
    ("bits", "bit_count"),
    [
        (encode_h10301(1, 1), None),  # an int needs its bit count
        (encode_h10301(1, 1), 34),
        (1 << 26, 26),
        (-1, 26),
        (True, 26),
        ("1" * 25, None),
        ("1" * 27, None),
        ("1" * 24 + "2" + "1", None),
        ("0" * 8, None),
        ("4000000", None),  # 7 hex digits, but 27 bits
        ("200000G", None),
        ("", None),
        (as_binary(encode_h10301(1, 1)), 26),  # a bit count is only for an int
    ],
)
def test_h10301_rejects_wrong_shapes(bits: int | str, bit_count: int | None) -> None:
    with pytest.raises((ValueError, TypeError), match="H10301"):
        h10301(bits, bit_count)


# -- canonical --------------------------------------------------------------------------------


def test_formats_are_the_three_known() -> None:
    assert frozenset({"raw", "h10301", "auto"}) == FORMATS


def test_canonical_auto_takes_uids_as_raw() -> None:
    assert canonical("04:a1:b2:c3", "auto") == "04A1B2C3"
    assert canonical("04a1b2c3d4e5f6", "auto") == "04A1B2C3D4E5F6"


def test_canonical_raw_does_not_read_h10301() -> None:
    frame = as_binary(encode_h10301(1, 1))
    assert canonical(frame, "raw") == frame  # 26 hex digits are a 13-byte UID to it
    with pytest.raises(ValueError):
        canonical(as_hex(encode_h10301(1, 1)), "raw")  # 7 digits: not whole bytes


def test_canonical_h10301_does_not_read_uids() -> None:
    with pytest.raises(ValueError, match="H10301"):
        canonical("04A1B2C3", "h10301")


def test_canonical_auto_rejects_bad_parity_rather_than_guessing_raw() -> None:
    with pytest.raises(ValueError, match="parity"):
        canonical(as_binary(encode_h10301(1, 1) ^ 1), "auto")


def test_canonical_rejects_an_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown badge format"):
        canonical("04A1B2C3", "wiegand")


# -- repeat filter ----------------------------------------------------------------------------


def test_repeat_filter_counts_a_badge_once_within_the_window() -> None:
    f = RepeatFilter(2.0)
    assert f.accept("04A1B2C3", 100.0) is True
    assert f.accept("04A1B2C3", 101.9) is False
    assert f.accept("12:345", 102.0) is True  # another badge is never a repeat
    assert f.accept("04A1B2C3", 102.1) is True


def test_repeat_filter_window_slides_while_the_badge_rests_on_the_reader() -> None:
    f = RepeatFilter(2.0)
    assert f.accept("04A1B2C3", 100.0) is True
    # Reported every second while it rests: one read in all.
    assert [f.accept("04A1B2C3", 100.0 + t) for t in range(1, 6)] == [False] * 5
    assert f.accept("04A1B2C3", 107.0) is True  # lifted for two seconds, then presented again


def test_repeat_filter_reset_forgets() -> None:
    f = RepeatFilter(2.0)
    f.accept("04A1B2C3", 100.0)
    f.reset()
    assert f.accept("04A1B2C3", 100.5) is True


def test_repeat_filter_keeps_no_badge_in_clear() -> None:
    f = RepeatFilter(2.0)
    f.accept("04A1B2C3", 100.0)
    assert "04A1B2C3" not in repr(vars(f))
    assert b"04A1B2C3" not in repr(vars(f)).encode()


def test_repeat_filter_rejects_a_negative_window() -> None:
    with pytest.raises(ValueError):
        RepeatFilter(-1.0)


@PROPS
@given(
    gaps=st.lists(st.floats(0, 5, allow_nan=False), max_size=20),
    window=st.floats(0, 3, allow_nan=False),
)
def test_repeat_filter_accepts_exactly_after_a_quiet_window(
    gaps: list[float], window: float
) -> None:
    f = RepeatFilter(window)
    now = 0.0
    assert f.accept("B", now)
    for gap in gaps:
        before, now = now, now + gap
        assert f.accept("B", now) is not (now - before < window)
