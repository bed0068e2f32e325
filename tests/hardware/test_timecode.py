"""The video time code: it reads back exactly, refuses what it did not draw, and survives the
codecs a visit's picture goes through (JPEG at quality 30, VP8 at a call's bit rate)."""

from __future__ import annotations

import fractions
import time

import cv2
import numpy as np
import pytest

from hardware.simulated import SimulatedCamera, timecode
from tests.waiting import wait_until

NOW_MS = 1_795_000_000_000  # late 2026


def busy_picture(seed: int = 7, width: int = 640, height: int = 480) -> np.ndarray:
    """Noise over smooth colour: the worst a codec sees, and a stand-in for a real scene."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 255, width, dtype=np.uint8)
    image = np.dstack([np.tile(ramp, (height, 1))] * 3)
    noise = rng.integers(-60, 60, size=image.shape)
    return np.clip(image.astype(int) + noise, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("millis", [0, 1, NOW_MS, 2**48 - 1, 0xA5A5A5A5A5A5])
def test_reads_back_what_it_stamped(millis: int) -> None:
    image = busy_picture()
    timecode.stamp(image, millis)
    assert timecode.read(image) == millis


def test_strip_is_large_cells_along_the_top() -> None:
    assert timecode.cell_size(640) >= 16
    image = np.full((480, 640, 3), 128, dtype=np.uint8)
    timecode.stamp(image, NOW_MS)
    cell = timecode.cell_size(640)
    assert set(np.unique(image[: 2 * cell])) <= {0, 255}
    assert (image[2 * cell :] == 128).all()  # the rest of the picture is untouched


def test_grey_pictures_and_other_sizes() -> None:
    grey = np.zeros((240, 320), dtype=np.uint8)
    timecode.stamp(grey, NOW_MS)
    assert timecode.read(grey) == NOW_MS
    big = np.zeros((720, 1280, 3), dtype=np.uint8)
    timecode.stamp(big, NOW_MS)
    assert timecode.read(big) == NOW_MS
    # Scaled on the way (the cells are relative to the width), it still reads.
    assert timecode.read(cv2.resize(big, (640, 360), interpolation=cv2.INTER_AREA)) == NOW_MS


def test_nothing_or_damage_reads_as_none() -> None:
    assert timecode.read(busy_picture()) is None
    assert timecode.read(np.zeros((480, 640, 3), dtype=np.uint8)) is None
    assert timecode.read(np.full((480, 640, 3), 255, dtype=np.uint8)) is None
    assert timecode.read(np.zeros((4, 4, 3), dtype=np.uint8)) is None
    image = busy_picture()
    timecode.stamp(image, NOW_MS)
    cell = timecode.cell_size(640)
    image[:cell, 10 * cell : 11 * cell] = 255 - image[:cell, 10 * cell : 11 * cell]  # flip a bit
    assert timecode.read(image) is None  # the CRC catches it


def test_a_darker_or_paler_picture_still_reads() -> None:
    image = busy_picture()
    timecode.stamp(image, NOW_MS)
    dim = (image.astype(float) * 0.5 + 60).astype(np.uint8)  # white 187, black 60
    assert timecode.read(dim) == NOW_MS


def test_refuses_what_it_cannot_draw() -> None:
    with pytest.raises(ValueError):
        timecode.stamp(np.zeros((480, 640, 3), dtype=np.uint8), -1)
    with pytest.raises(ValueError):
        timecode.stamp(np.zeros((480, 640, 3), dtype=np.uint8), 2**48)
    with pytest.raises(ValueError):
        timecode.stamp(np.zeros((8, 640, 3), dtype=np.uint8), NOW_MS)
    assert not timecode.fits(100, 100)
    assert timecode.fits(640, 480)


def test_survives_jpeg_at_quality_30() -> None:
    for seed in range(5):
        image = busy_picture(seed)
        timecode.stamp(image, NOW_MS + seed)
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 30])
        assert ok
        assert timecode.read(cv2.imdecode(data, cv2.IMREAD_COLOR)) == NOW_MS + seed


def _vp8_round_trip(images: list[np.ndarray]) -> list[np.ndarray]:
    """Encode with libvpx (through PyAV, at a video call's bit rate) and decode again."""
    import av  # aiortc's own dependency: missing, the test fails rather than skips

    try:
        encoder = av.CodecContext.create("libvpx", "w")
    except Exception:  # no libvpx in this PyAV: use aiortc's own VP8 codec
        return _vp8_round_trip_aiortc(images)
    encoder.width, encoder.height = images[0].shape[1], images[0].shape[0]
    encoder.pix_fmt = "yuv420p"
    encoder.time_base = fractions.Fraction(1, 30)
    encoder.bit_rate = 500_000  # aiortc's starting bit rate
    encoder.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    decoder = av.CodecContext.create("vp8", "r")
    decoded: list[np.ndarray] = []
    for index, image in enumerate(images):
        frame = av.VideoFrame.from_ndarray(image, format="bgr24")
        frame.pts = index
        for packet in encoder.encode(frame):
            decoded += [f.to_ndarray(format="bgr24") for f in decoder.decode(packet)]
    for packet in encoder.encode(None):
        decoded += [f.to_ndarray(format="bgr24") for f in decoder.decode(packet)]
    return decoded


def _vp8_round_trip_aiortc(images: list[np.ndarray]) -> list[np.ndarray]:
    """The same through aiortc's VP8 encoder and decoder, RTP payloads and all."""
    import av
    from aiortc.codecs.vpx import Vp8Decoder, Vp8Encoder, vp8_depayload
    from aiortc.jitterbuffer import JitterFrame

    encoder, decoder = Vp8Encoder(), Vp8Decoder()
    decoded: list[np.ndarray] = []
    for index, image in enumerate(images):
        frame = av.VideoFrame.from_ndarray(image, format="bgr24")
        frame.pts, frame.time_base = index * 3000, fractions.Fraction(1, 90_000)
        payloads, timestamp = encoder.encode(frame)
        data = b"".join(vp8_depayload(payload) for payload in payloads)
        for out in decoder.decode(JitterFrame(data=data, timestamp=timestamp)):
            decoded.append(out.to_ndarray(format="bgr24"))
    return decoded


def test_survives_a_vp8_encode_and_decode() -> None:
    # Moving noise (a costly picture) so the encoder has to drop quality to fit its rate.
    images = []
    for index in range(45):
        image = np.roll(busy_picture(index % 3), index * 8, axis=1)
        timecode.stamp(image, NOW_MS + index * 33)
        images.append(image)
    decoded = _vp8_round_trip(images)
    assert len(decoded) == len(images)
    assert [timecode.read(image) for image in decoded] == [NOW_MS + i * 33 for i in range(45)]


def test_survives_aiortcs_own_vp8_codec() -> None:
    images = []
    for index in range(20):
        image = np.roll(busy_picture(index % 3), index * 8, axis=1)
        timecode.stamp(image, NOW_MS + index)
        images.append(image)
    decoded = _vp8_round_trip_aiortc(images)
    assert [timecode.read(image) for image in decoded] == [NOW_MS + i for i in range(20)]


def test_the_simulated_camera_stamps_the_wall_clock() -> None:
    camera = SimulatedCamera(width=640, height=480, fps=30.0, timecode=True)
    camera.start()
    try:
        frame = wait_until(camera.latest_frame, 2, "a frame")
        stamped = timecode.read(frame.image)
    finally:
        camera.stop()
    assert stamped is not None
    assert 0 <= time.time() * 1000 - stamped < 1000


def test_the_simulated_camera_stamps_only_when_asked() -> None:
    clock_s = NOW_MS / 1000
    camera = SimulatedCamera(width=640, height=480, wall_clock=lambda: clock_s, timecode=True)
    assert timecode.read(camera.draw(1)) == NOW_MS
    plain = SimulatedCamera(width=640, height=480, wall_clock=lambda: clock_s)
    assert timecode.read(plain.draw(1)) is None
    face = SimulatedCamera(width=640, height=480, scene="face", timecode=True)
    assert face.scene == "face" and timecode.read(face.draw(1)) is not None
    with pytest.raises(ValueError):
        SimulatedCamera(width=64, height=48, timecode=True)
