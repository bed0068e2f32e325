"""Generated pictures for tests and the demo: a face (or several, or none) and an ID card.

Pure, deterministic functions: the same arguments always draw the same pixels, so thresholds
measured on them stay true. Nothing here is a photograph; every picture is drawn with OpenCV.
"""

from __future__ import annotations

import cv2
import numpy as np

# BGR colours.
_WALL_TOP = np.array((150, 140, 130), dtype=np.float32)
_WALL_BOTTOM = np.array((110, 105, 100), dtype=np.float32)
_SKIN = (150, 180, 225)
_SKIN_SHADE = (105, 130, 170)
_SKIN_LIGHT = (180, 205, 240)
_HAIR = (30, 35, 45)
_EYE_DARK = (35, 35, 45)
_LIP = (90, 95, 160)
_SHIRT = (120, 80, 50)


def _check_size(width: int, height: int) -> None:
    if width < 16 or height < 16:
        raise ValueError(f"scene size {width}x{height} is too small (at least 16x16)")


def _wall(width: int, height: int) -> np.ndarray:
    """A vertical gradient: a flat wall would be unlike any room and too easy for the detector."""
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    rows = _WALL_TOP * (1 - t) + _WALL_BOTTOM * t
    return np.repeat(rows[:, None, :], width, axis=1).astype(np.uint8)


def _draw_face(image: np.ndarray, cx: int, cy: int, face_h: int) -> None:
    """One frontal face centred on (cx, cy), ``face_h`` pixels from chin to hairline."""
    fh = face_h
    fw = int(fh * 0.78)

    def p(dx: float, dy: float) -> tuple[int, int]:
        return (round(cx + dx * fw), round(cy + dy * fh))

    def s(ax: float, ay: float) -> tuple[int, int]:
        return (max(1, round(ax * fw)), max(1, round(ay * fh)))

    # Shoulders and neck first, the head is drawn over them.
    cv2.ellipse(image, p(0, 0.95), s(0.95, 0.35), 0, 180, 360, _SHIRT, -1, cv2.LINE_AA)
    cv2.rectangle(image, p(-0.16, 0.3), p(0.16, 0.7), _SKIN_SHADE, -1, cv2.LINE_AA)
    # Hair: a dark cap behind and above the face.
    cv2.ellipse(image, p(0, -0.08), s(0.56, 0.55), 0, 0, 360, _HAIR, -1, cv2.LINE_AA)
    # Face.
    cv2.ellipse(image, p(0, 0.02), s(0.5, 0.5), 0, 0, 360, _SKIN, -1, cv2.LINE_AA)
    # Hairline fringe over the forehead.
    cv2.ellipse(image, p(0, -0.36), s(0.5, 0.16), 0, 180, 360, _HAIR, -1, cv2.LINE_AA)
    # Eye sockets: the dark band across the eyes is what the cascade keys on first.
    for side in (-1, 1):
        cv2.ellipse(
            image, p(side * 0.2, -0.06), s(0.15, 0.07), 0, 0, 360, _SKIN_SHADE, -1, cv2.LINE_AA
        )
        # Brows.
        cv2.ellipse(image, p(side * 0.2, -0.14), s(0.14, 0.035), 0, 0, 360, _HAIR, -1, cv2.LINE_AA)
        # Eye: white, dark iris.
        cv2.ellipse(
            image, p(side * 0.2, -0.05), s(0.09, 0.035), 0, 0, 360, (220, 225, 230), -1, cv2.LINE_AA
        )
        cv2.circle(image, p(side * 0.2, -0.05), max(1, int(0.04 * fw)), _EYE_DARK, -1, cv2.LINE_AA)
    # Nose: a light bridge between the eyes, shaded flanks and nostrils below.
    cv2.ellipse(image, p(0, 0.05), s(0.05, 0.14), 0, 0, 360, _SKIN_LIGHT, -1, cv2.LINE_AA)
    for side in (-1, 1):
        cv2.ellipse(
            image, p(side * 0.05, 0.17), s(0.03, 0.015), 0, 0, 360, _SKIN_SHADE, -1, cv2.LINE_AA
        )
    # Mouth.
    cv2.ellipse(image, p(0, 0.3), s(0.15, 0.04), 0, 0, 360, _LIP, -1, cv2.LINE_AA)
    cv2.line(image, p(-0.14, 0.3), p(0.14, 0.3), (60, 60, 110), max(1, fh // 120), cv2.LINE_AA)


def face_scene(
    width: int = 640,
    height: int = 480,
    faces: int = 1,
    blur: float = 0.0,
    brightness: float = 1.0,
) -> np.ndarray:
    """A room with ``faces`` people side by side facing the camera (0: an empty room), BGR."""
    _check_size(width, height)
    if faces < 0:
        raise ValueError(f"faces must be 0 or more, not {faces}")
    image = _wall(width, height)
    if faces:
        slot = width / faces
        face_h = int(min(height * 0.45, slot * 0.9 / 0.78 * 0.85))
        for i in range(faces):
            _draw_face(image, int(slot * (i + 0.5)), int(height * 0.45), face_h)
    # Lenses never draw perfectly sharp edges; a touch of blur also makes the cascade happier.
    image = cv2.GaussianBlur(image, (0, 0), max(0.8, height / 480))
    if blur > 0:
        image = cv2.GaussianBlur(image, (0, 0), blur)
    if brightness != 1.0:
        image = cv2.convertScaleAbs(image, alpha=brightness, beta=0)
    return image


_DESK = (70, 75, 80)
_CARD = (222, 226, 214)
_CARD_HEADER = (120, 70, 30)
_INK = (40, 40, 40)
_FONT = cv2.FONT_HERSHEY_SIMPLEX
# Sensor noise, fixed seed: real stills are never noise-free, and noise is what makes a
# blurred picture's Laplacian variance stay above zero. Gray levels, one standard deviation.
_NOISE_SIGMA = 2.0
_NOISE_SEED = 20240601


def document_scene(
    width: int = 1280,
    height: int = 720,
    blur: float = 0.0,
    overexpose: bool = False,
) -> np.ndarray:
    """An ID card on a desk, BGR: header band, photo box, text lines and a barcode.

    ``blur`` is a Gaussian sigma in pixels of this picture (0: in focus); ``overexpose``
    blows the card out as a flash or a window behind it would.
    """
    _check_size(width, height)
    image = np.full((height, width, 3), _DESK, dtype=np.uint8)
    # ID-1 card proportions (85.6 x 54 mm), filling most of the frame as the lobby's guide asks.
    card_w = int(min(width * 0.8, height * 0.8 * 85.6 / 54))
    card_h = int(card_w * 54 / 85.6)
    x0, y0 = (width - card_w) // 2, (height - card_h) // 2
    x1, y1 = x0 + card_w, y0 + card_h

    def at(fx: float, fy: float) -> tuple[int, int]:
        return (x0 + int(fx * card_w), y0 + int(fy * card_h))

    cv2.rectangle(image, (x0, y0), (x1, y1), _CARD, -1, cv2.LINE_AA)
    cv2.rectangle(image, at(0, 0), at(1, 0.16), _CARD_HEADER, -1, cv2.LINE_AA)
    scale = card_h / 360
    thick = max(1, round(2 * scale))
    cv2.putText(image, "STATE IDENTIFICATION CARD", at(0.04, 0.11), _FONT, 1.1 * scale,
                (235, 235, 235), thick, cv2.LINE_AA)  # fmt: skip
    # Photo box with a small head-and-shoulders, as on a real card.
    px0, py0 = at(0.04, 0.22)
    px1, py1 = at(0.30, 0.86)
    cv2.rectangle(image, (px0, py0), (px1, py1), (190, 185, 180), -1, cv2.LINE_AA)
    photo = image[py0:py1, px0:px1]
    _draw_face(photo, photo.shape[1] // 2, int(photo.shape[0] * 0.42), int(photo.shape[0] * 0.5))
    cv2.rectangle(image, (px0, py0), (px1, py1), _INK, thick, cv2.LINE_AA)
    lines = (
        ("LN", "SAMPLE"),
        ("FN", "ALEX J"),
        ("DOB", "01/02/1990"),
        ("ID", "D1234-5678-90"),
        ("EXP", "12/31/2030"),
        ("ADDR", "100 MAIN ST, ANYTOWN"),
    )
    for row, (label, value) in enumerate(lines):
        fy = 0.30 + row * 0.095
        cv2.putText(image, label, at(0.34, fy), _FONT, 0.55 * scale, (90, 60, 30), thick,
                    cv2.LINE_AA)  # fmt: skip
        cv2.putText(image, value, at(0.45, fy), _FONT, 0.8 * scale, _INK, thick, cv2.LINE_AA)
    # A barcode strip: fine vertical edges, the first detail a blur erases.
    bx0, by0 = at(0.34, 0.86)
    bx1, by1 = at(0.96, 0.95)
    bar = max(1, round(3 * scale))
    pattern = (3, 1, 2, 1, 1, 3, 2, 2, 1, 1, 3, 1)
    x, i = bx0, 0
    while x < bx1:
        w = pattern[i % len(pattern)] * bar
        if i % 2 == 0:
            cv2.rectangle(image, (x, by0), (min(x + w, bx1) - 1, by1), _INK, -1)
        x += w
        i += 1

    if blur > 0:
        image = cv2.GaussianBlur(image, (0, 0), blur)
    if overexpose:
        # Gain plus a glare patch: the card clips to white, the desk stays visible.
        image = cv2.convertScaleAbs(image, alpha=1.7, beta=40)
        glare = np.zeros((height, width), dtype=np.float32)
        cv2.ellipse(glare, at(0.55, 0.45), (card_w // 3, card_h // 3), -20, 0, 360, 1.0, -1)
        glare = cv2.GaussianBlur(glare, (0, 0), card_h / 12)
        image = np.clip(image + glare[:, :, None] * 255, 0, 255).astype(np.uint8)
    noise = np.random.default_rng(_NOISE_SEED).normal(0.0, _NOISE_SIGMA, image.shape)
    return np.clip(image + noise, 0, 255).astype(np.uint8)
