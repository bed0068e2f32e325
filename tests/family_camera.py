"""A camera for the family's browser whose every frame says which frame it is.

Chromium plays a Y4M file as its fake camera (``--use-file-for-fake-video-capture``), in a
loop. The file written here carries, in each frame, the time code of
:mod:`hardware.simulated.timecode` (the same cells, which survive VP8) with the value
``index * FRAME_STEP``: the frame's place in the file, not a time, since a file written once
cannot know when it will be played. Whoever sees the frame later reads the index back; the
browser notes when each index left its camera, and the two together give the frame's age.

Why a step rather than the bare index: a reader that knows only the time-code convention (the
drawn kiosk of ``tests/drawn_visit.py`` reports ``now - value`` as a picture's age) then gives
``now - index * FRAME_STEP``, from which both ``now`` and the index come back exactly as long as
``now`` is known to within half a step (``split_age``).

``TIMECODE_JS`` is the same reader in JavaScript, for scripts run in the browser, and
``CameraBrowser`` the family's browser with such a file as its camera (bench/remote_visit.py).
"""

from __future__ import annotations

from pathlib import Path

from hardware.simulated import timecode
from tests.family_browser import FamilyBrowser

FRAME_STEP = 100_000  # ms: a time code of 100 s a frame; see split_age
WIDTH, HEIGHT, FPS = 640, 480, 30


def frame_value(index: int) -> int:
    """The time code frame ``index`` of the file carries."""
    return index * FRAME_STEP


def frame_index(value: int | None) -> int | None:
    """The frame index a time code read from a frame stands for (None if it is not one)."""
    if value is None or value % FRAME_STEP:
        return None
    return value // FRAME_STEP


def split_age(age_ms: float, wall_ms_about: float) -> tuple[float, int]:
    """(the wall clock, the frame index) behind an age ``now - index * FRAME_STEP``, given the
    wall clock then to within half a step (50 s) either way."""
    index = round((wall_ms_about - age_ms) / FRAME_STEP)
    return age_ms + index * FRAME_STEP, index


def write_y4m(path: Path, frames: int = 150, width: int = WIDTH, height: int = HEIGHT,
              fps: int = FPS) -> Path:  # fmt: skip
    """A Y4M video (I420) of ``frames`` frames: a face, a box crossing below it, the frame's
    number in words and its index in the time code. At 640x480 each frame is 450 KiB, so the
    default 5 s is 66 MiB; Chromium loops it, and an index is unambiguous for that long."""
    import cv2

    from hardware.simulated.scenes import face_scene

    background = face_scene(width, height, faces=1)
    box = max(8, height // 16)
    travel = width - box
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for index in range(frames):
            image = background.copy()
            # Something moves, as in front of a real camera: the encoder has work to do.
            x = index * travel * 2 // frames
            x = x if x <= travel else 2 * travel - x
            top = height - 2 * box
            cv2.rectangle(image, (x, top), (x + box - 1, top + box - 1), (255, 255, 255), -1)
            cv2.putText(image, f"frame {index}", (8, height - box // 2),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1, cv2.LINE_AA)  # fmt: skip
            timecode.stamp(image, frame_value(index))
            out.write(b"FRAME\n")
            out.write(cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420).tobytes())
    return path


# TIMECODE.read(luma, width, height, stride): the value of the cells in a picture's luma plane
# (at least its top two cells' rows), or null, as timecode.read does it. TIMECODE.readFrame(
# frame): the same from a WebCodecs VideoFrame (only its top strip is copied out).
TIMECODE_JS = """
const TIMECODE = (() => {
  const COLUMNS = 32, ROWS = 2, VALUE_BITS = 48, CRC_BITS = 12, MIN_CONTRAST = 64;
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  function crc12(value) {  // zlib.crc32 of the value's 6 bytes, big-endian, low 12 bits
    let c = 0xffffffff;
    for (let i = 5; i >= 0; i--) {
      const byte = Math.floor(value / 2 ** (8 * i)) % 256;
      c = table[(c ^ byte) & 0xff] ^ (c >>> 8);
    }
    return ((c ^ 0xffffffff) >>> 0) & ((1 << CRC_BITS) - 1);
  }
  function stripHeight(width) { return ROWS * Math.floor(width / COLUMNS); }
  function read(luma, width, height, stride) {
    const cell = Math.floor(width / COLUMNS);
    if (cell < 4 || height < ROWS * cell) return null;
    const inset = Math.floor(cell / 4), means = [];
    for (let row = 0; row < ROWS; row++) {
      for (let column = 0; column < COLUMNS; column++) {
        let sum = 0, count = 0;
        for (let y = row * cell + inset; y < (row + 1) * cell - inset; y++) {
          for (let x = column * cell + inset; x < (column + 1) * cell - inset; x++) {
            sum += luma[y * stride + x];
            count++;
          }
        }
        means.push(sum / count);
      }
    }
    const last = means.length - 1;
    const white = (means[0] + means[last]) / 2, black = (means[1] + means[last - 1]) / 2;
    if (white - black < MIN_CONTRAST) return null;
    const bits = means.map((m) => (m > (white + black) / 2 ? 1 : 0));
    if (!bits[0] || bits[1] || bits[last - 1] || !bits[last]) return null;
    let value = 0, crc = 0;
    for (let i = 2; i < 2 + VALUE_BITS; i++) value = value * 2 + bits[i];
    for (let i = 2 + VALUE_BITS; i < last - 1; i++) crc = crc * 2 + bits[i];
    return crc === crc12(value) ? value : null;
  }
  async function readFrame(frame) {
    // Y comes first in every planar format a decoder or camera gives (I420, NV12, I420A).
    const width = frame.codedWidth, height = stripHeight(frame.displayWidth);
    if (!frame.format || height < 2 || height > frame.codedHeight) return null;
    const rect = { x: 0, y: 0, width, height: height + (height % 2) };
    const buffer = new Uint8Array(frame.allocationSize({ rect }));
    const layout = await frame.copyTo(buffer, { rect });
    return read(buffer.subarray(layout[0].offset), frame.displayWidth, height, layout[0].stride);
  }
  return { read, readFrame };
})();
"""


class CameraBrowser(FamilyBrowser):
    """The family's browser (:class:`tests.family_browser.FamilyBrowser`) with the Y4M file
    ``video`` as its camera instead of Chromium's own test pattern."""

    def __init__(
        self, video: Path, language: str = "en", nice: int = 0, idle: bool = False
    ) -> None:
        super().__init__(language, camera=video, nice=nice, idle=idle)
