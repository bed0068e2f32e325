"""OpenCV's pictures (BGR rows, top row first) as Kivy textures: photos and a visit's video."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kivy.graphics.texture import Texture

if TYPE_CHECKING:
    import numpy as np


def bgr_texture(frame: np.ndarray, reuse: Texture | None = None) -> Texture:
    """``frame`` in a texture: ``reuse`` when it has the frame's size (video), a new one if not.

    On the UI thread: OpenGL lives there.
    """
    # Imported at the first picture: OpenCV costs a screen that shows none its start.
    import cv2

    height, width = frame.shape[:2]
    texture = reuse
    if texture is None or texture.size != (width, height):
        texture = Texture.create(size=(width, height), colorfmt="rgba")
        texture.flip_vertical()  # OpenCV's rows run top to bottom, OpenGL's bottom to top
    # Without a GPU the driver converts what it is given to the texture's own four bytes a
    # pixel, ten times slower than OpenCV does (0.7 against 0.08 ms for 640x480).
    rgba = cv2.cvtColor(frame, cv2.COLOR_BGR2RGBA).reshape(-1)  # Kivy reads a flat buffer
    texture.blit_buffer(rgba, colorfmt="rgba", bufferfmt="ubyte")
    return texture
