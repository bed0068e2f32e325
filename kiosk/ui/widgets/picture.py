"""A picture shown whole and as large as its place allows: a visit's video, a camera preview."""

from kivy.properties import ListProperty, ObjectProperty
from kivy.uix.widget import Widget


class Picture(Widget):
    """``texture`` centred, scaled to fit, never cropped; nothing drawn without one.

    Kivy's Image would do the same, but it clips to its bounds through the stencil buffer at
    every frame: two more passes over its whole area. Without a GPU each pixel is paid for, and
    on a visit's screen (30 frames a second) that was a third of a frame. A contained picture
    never crosses its bounds, so nothing needs clipping.
    """

    texture = ObjectProperty(None, allownone=True)
    picture_size = ListProperty([0, 0])  # on the glass; (0, 0) without a texture

    def on_texture(self, *_args) -> None:
        self._fit()

    def on_size(self, *_args) -> None:
        self._fit()

    def _fit(self) -> None:
        texture = self.texture
        if texture is None or not texture.width or not texture.height:
            self.picture_size = [0, 0]
            return
        scale = min(self.width / texture.width, self.height / texture.height)
        self.picture_size = [texture.width * scale, texture.height * scale]
