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
    height, width = frame.shape[:2]
    texture = reuse
    if texture is None or texture.size != (width, height):
        texture = Texture.create(size=(width, height), colorfmt="rgb")
        texture.flip_vertical()  # OpenCV's rows run top to bottom, OpenGL's bottom to top
    texture.blit_buffer(frame.tobytes(), colorfmt="bgr", bufferfmt="ubyte")
    return texture
