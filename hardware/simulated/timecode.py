"""A machine-readable time code drawn into video frames, built to survive lossy video codecs.

Used to measure a video visit's latency end to end: the sending camera stamps the wall-clock
time (milliseconds since the epoch, so two processes on one host share it) into each frame;
whoever receives the decoded frame reads it back and subtracts it from its own clock.

The code is a strip of 2 x 32 square cells along the top edge of the picture, each cell
``width // 32`` pixels on a side (20 px at 640x480), black or white::

    [W B] [48 bits of the value, most significant first] [12-bit CRC] [B W]

Large flat cells are what a block codec keeps best: VP8 or JPEG at a low quality smears the
edges of a cell but leaves its middle near black or white. The reader averages the middle of
each cell and thresholds it half-way between the two marker colours, so a picture that got
darker or paler overall still reads. The markers and the CRC make an unstamped or damaged
frame read as ``None`` rather than as a wrong time. Sizes are relative to the picture's
width, so a frame scaled on the way still reads (if its cells stay large enough).
"""

from __future__ import annotations

import zlib

import numpy as np

COLUMNS = 32
ROWS = 2
VALUE_BITS = 48
CRC_BITS = 12
_START = (1, 0)
_STOP = (0, 1)
_CELLS = COLUMNS * ROWS
assert len(_START) + VALUE_BITS + CRC_BITS + len(_STOP) == _CELLS
# The cells' values must differ this much between the markers' white and black to trust them.
_MIN_CONTRAST = 64.0


def cell_size(width: int) -> int:
    """The side of one cell, in pixels, for a picture ``width`` pixels wide."""
    return width // COLUMNS


def fits(width: int, height: int) -> bool:
    """Whether a ``width`` x ``height`` picture has room for a time code (cells of 4 px or more)."""
    cell = cell_size(width)
    return cell >= 4 and height >= ROWS * cell


def _crc(value: int) -> int:
    return zlib.crc32(value.to_bytes(VALUE_BITS // 8, "big")) & ((1 << CRC_BITS) - 1)


def _bits(number: int, count: int) -> list[int]:
    return [(number >> shift) & 1 for shift in range(count - 1, -1, -1)]


def _check_size(image: np.ndarray) -> int:
    if image.ndim not in (2, 3):
        raise ValueError(f"expected a grey or BGR picture, got shape {image.shape}")
    height, width = image.shape[:2]
    if not fits(width, height):
        raise ValueError(f"a {width}x{height} picture is too small for a time code")
    return cell_size(width)


def stamp(image: np.ndarray, millis: int) -> None:
    """Draw ``millis`` (0 ≤ millis < 2**48) into the top strip of ``image``, in place.

    ``image`` is a BGR (or grey) ``uint8`` array at least 128 px wide and two cells high.
    """
    if not 0 <= millis < (1 << VALUE_BITS):
        raise ValueError(f"time code {millis!r} is outside 0 .. 2**{VALUE_BITS} - 1")
    cell = _check_size(image)
    bits = [*_START, *_bits(millis, VALUE_BITS), *_bits(_crc(millis), CRC_BITS), *_STOP]
    for index, bit in enumerate(bits):
        row, column = divmod(index, COLUMNS)
        top, left = row * cell, column * cell
        image[top : top + cell, left : left + cell] = 255 if bit else 0


def _cell_means(image: np.ndarray, cell: int) -> np.ndarray:
    strip = image[: ROWS * cell, : COLUMNS * cell]
    # The middle half of each cell (its edges carry the codec's ringing and blur), averaged
    # over its pixels and colour channels at once: read at every picture a screen draws, so
    # only the quarter of the strip that counts is ever turned into numbers.
    cells = strip.reshape(ROWS, cell, COLUMNS, cell, -1)
    inset = cell // 4
    middle = cells[:, inset : cell - inset, :, inset : cell - inset]
    return middle.mean(axis=(1, 3, 4), dtype=np.float32).reshape(_CELLS)


def read(image: np.ndarray) -> int | None:
    """The time code drawn by :func:`stamp`, or ``None`` if the picture carries none (or a
    damaged one)."""
    try:
        cell = _check_size(image)
    except ValueError:
        return None
    means = _cell_means(image, cell)
    head, tail = len(_START), _CELLS - len(_STOP)
    markers = np.concatenate([means[:head], means[tail:]])
    marker_bits = np.array([*_START, *_STOP], dtype=bool)
    white, black = markers[marker_bits].mean(), markers[~marker_bits].mean()
    if white - black < _MIN_CONTRAST:
        return None
    bits = (means > (white + black) / 2).astype(int).tolist()
    if tuple(bits[:head]) != _START or tuple(bits[tail:]) != _STOP:
        return None
    value = int("".join(map(str, bits[head : head + VALUE_BITS])), 2)
    crc = int("".join(map(str, bits[head + VALUE_BITS : tail])), 2)
    return value if crc == _crc(value) else None
