"""A photo full screen: pinch or the buttons to zoom, drag to look around, Close to go back."""

from kivy.graphics.transformation import Matrix
from kivy.properties import ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.ui.widgets.header import fill_header

ZOOM_STEP = 1.5
MAX_ZOOM = 8.0


class PhotoScreen(Screen):
    texture = ObjectProperty(None, allownone=True)
    close_text = StringProperty("")
    zoom_in_text = StringProperty("")
    zoom_out_text = StringProperty("")

    def show(self, view) -> None:
        fill_header(self.ids.header, view)
        words = view.words
        self.close_text, self.zoom_in_text = words.close, words.zoom_in
        self.zoom_out_text = words.zoom_out

    def open(self, texture) -> None:
        self.texture = texture
        self.fit()

    def fit(self) -> None:
        """The whole photo in view, centred."""
        scatter = self.ids.scatter
        scatter.transform = Matrix()
        scatter.scale = 1.0
        scatter.center = self.ids.stage.center

    def zoom(self, factor: float) -> None:
        scatter = self.ids.scatter
        scale = min(MAX_ZOOM, max(1.0, scatter.scale * factor))
        stage = self.ids.stage
        scatter.apply_transform(
            Matrix().scale(scale / scatter.scale, scale / scatter.scale, 1),
            anchor=scatter.to_local(*stage.center),
        )

    def clear(self) -> None:
        self.texture = None
