"""What a badge reader delivers, turned into the badge's canonical text, and the repeat filter.

The canonical text is what the badge lookup HMACs (``protocol.md``, residents): a raw UID in
upper hex without separators, or ``FC:CARD`` in decimal for a 26-bit H10301 card. Errors never
quote the badge: they end up in logs.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading

FORMATS = frozenset({"raw", "h10301", "auto"})

H10301_BITS = 26
_H10301_HEX_DIGITS = 7  # 26 bits as readers print them: the top two bits of 28 are zero
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_UID_SEPARATORS = frozenset(":- \t")
# The longest UIDs in use are 10 bytes; anything far longer is line noise, not a card.
MAX_UID_HEX_DIGITS = 64


def raw_uid(text: str) -> str:
    """A hex UID (any case, ``:`` ``-`` or blank separators) as upper hex without separators.

    Raises ``ValueError`` for anything else: non-hex characters, an empty or odd number of
    digits (a UID is whole bytes), more than ``MAX_UID_HEX_DIGITS`` digits.
    """
    if not isinstance(text, str):
        raise TypeError("a raw UID is text")
    digits = [c for c in text if c not in _UID_SEPARATORS]
    # An explicit set, not int(x, 16): that also takes non-ASCII digits such as fullwidth ones.
    if any(c not in _HEX_DIGITS for c in digits):
        raise ValueError("raw UID: not hexadecimal")
    if not digits:
        raise ValueError("raw UID: empty")
    if len(digits) % 2:
        raise ValueError("raw UID: odd number of hex digits (a UID is whole bytes)")
    if len(digits) > MAX_UID_HEX_DIGITS:
        raise ValueError(f"raw UID: longer than {MAX_UID_HEX_DIGITS} hex digits")
    return "".join(digits).upper()


def h10301(bits: int | str, bit_count: int | None = None) -> str:
    """A 26-bit H10301 Wiegand frame as ``"FC:CARD"`` in decimal, both parity bits checked.

    ``bits`` is an int with its ``bit_count`` (which must be 26), a string of 26 ``0``/``1``,
    or 7 hex digits (any case). Bit 1, the first sent, is even parity over bits 2-13; bit 26 is
    odd parity over bits 14-25; bits 2-9 are the facility code and 10-25 the card number.
    Raises ``ValueError`` on a wrong length or parity.
    """
    value = _h10301_value(bits, bit_count)
    first_half = value >> 13  # bits 1-13, the leading parity bit included
    second_half = value & 0x1FFF  # bits 14-26, the trailing parity bit included
    if first_half.bit_count() % 2:
        raise ValueError("H10301: leading even parity check failed")
    if second_half.bit_count() % 2 == 0:
        raise ValueError("H10301: trailing odd parity check failed")
    facility = (value >> 17) & 0xFF
    card = (value >> 1) & 0xFFFF
    return f"{facility}:{card}"


def encode_h10301(facility: int, card: int) -> int:
    """The 26-bit H10301 frame of ``facility`` (0-255) and ``card`` (0-65535), parity set."""
    if not 0 <= facility <= 0xFF:
        raise ValueError("H10301: the facility code is 0-255")
    if not 0 <= card <= 0xFFFF:
        raise ValueError("H10301: the card number is 0-65535")
    data = (facility << 16) | card  # bits 2-25
    leading = (data >> 12).bit_count() % 2  # makes bits 1-13 even
    trailing = 1 - (data & 0xFFF).bit_count() % 2  # makes bits 14-26 odd
    return (leading << 25) | (data << 1) | trailing


def canonical(text: str, fmt: str) -> str:
    """The canonical badge text of what a reader sent, read as ``fmt``.

    ``fmt`` is ``raw`` (a hex UID), ``h10301`` (26 binary digits or 7 hex digits) or ``auto``:
    H10301 when ``text`` has one of those two shapes, a raw UID otherwise (a UID is whole
    bytes, so it never has 7 hex digits). Raises ``ValueError`` when ``text`` does not fit.
    """
    if fmt == "raw":
        return raw_uid(text)
    if fmt == "h10301":
        return h10301(text)
    if fmt == "auto":
        return h10301(text) if _looks_like_h10301(text) else raw_uid(text)
    raise ValueError(f"unknown badge format {fmt!r} (known: {', '.join(sorted(FORMATS))})")


def _looks_like_h10301(text: str) -> bool:
    s = text.strip()
    if len(s) == H10301_BITS:
        return set(s) <= {"0", "1"}
    return len(s) == _H10301_HEX_DIGITS and set(s) <= _HEX_DIGITS


def _h10301_value(bits: int | str, bit_count: int | None) -> int:
    # bool is an int: True with a bit count would otherwise pass for a frame.
    if isinstance(bits, int) and not isinstance(bits, bool):
        if bit_count is None:
            raise ValueError("H10301: an int frame needs its bit count")
        if bit_count != H10301_BITS:
            raise ValueError(f"H10301: needs {H10301_BITS} bits, got {bit_count}")
        if not 0 <= bits < 1 << H10301_BITS:
            raise ValueError(f"H10301: the frame does not fit in {H10301_BITS} bits")
        return bits
    if not isinstance(bits, str):
        raise TypeError("an H10301 frame is an int or text")
    if bit_count is not None:
        raise ValueError("H10301: bit_count is only for an int frame")
    s = bits.strip()
    if len(s) == H10301_BITS and set(s) <= {"0", "1"}:
        return int(s, 2)
    if len(s) == _H10301_HEX_DIGITS and set(s) <= _HEX_DIGITS:
        value = int(s, 16)
        if value >> H10301_BITS:
            raise ValueError(f"H10301: the frame does not fit in {H10301_BITS} bits")
        return value
    raise ValueError(
        f"H10301: expected {H10301_BITS} binary digits or {_H10301_HEX_DIGITS} hex digits"
    )


class RepeatFilter:
    """Counts a badge once while a reader keeps reporting it.

    Readers repeat a badge for as long as it rests on them. A read of the badge last seen, less
    than ``window_s`` after that previous read, is a repeat; every repeat extends the window, so
    a badge left on the reader counts once, and again only after ``window_s`` without it. Only
    a digest of the last badge under a key of this filter is kept, never the badge itself.
    """

    def __init__(self, window_s: float = 2.0) -> None:
        if window_s < 0:
            raise ValueError(f"window_s must not be negative, not {window_s!r}")
        self._window_s = window_s
        self._key = secrets.token_bytes(32)
        # reset() comes from the thread that stops a reader while its own thread reads.
        self._lock = threading.Lock()
        self._last: tuple[bytes, float] | None = None  # digest of the last badge, when seen

    def accept(self, badge_id: str, now: float) -> bool:
        """Whether the read of ``badge_id`` at ``now`` counts (``False``: a repeat)."""
        digest = hashlib.blake2b(badge_id.encode(), key=self._key, digest_size=16).digest()
        with self._lock:
            last = self._last
            self._last = (digest, now)
            if last is None:
                return True
            last_digest, last_at = last
            return not (hmac.compare_digest(digest, last_digest) and now - last_at < self._window_s)

    def reset(self) -> None:
        """Forget the last badge: its next read counts."""
        with self._lock:
            self._last = None
