"""The visitor's accepted photos side by side, each with Retake, and Submit. The pictures come
from the core's capture and leave the screen with it."""

from kivy.factory import Factory
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.ui.widgets.header import fill_header
from kiosk.ui.widgets.textures import bgr_texture


class PhotoReviewScreen(Screen):
    title = StringProperty("")
    instruction = StringProperty("")
    back_text = StringProperty("Back")
    submit_text = StringProperty("")

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._shown: tuple = ()  # (purpose, label, retake words) of the cards on screen

    def show(self, view, capture) -> None:
        fill_header(self.ids.header, view)
        shown, words = view.lobby.capture, view.words
        if shown is None or shown.stage != "summary":
            return
        self.title, self.instruction = shown.title, shown.instruction
        self.back_text, self.submit_text = words.back, words.submit
        cards = tuple((purpose, label, words.retake) for purpose, label in shown.photos)
        if cards == self._shown:
            return
        self._shown = cards
        row = self.ids.photos
        row.clear_widgets()
        for purpose, label, retake in cards:
            # A kv-declared class gets its properties from its rule: set after it is built.
            card = Factory.ReviewedPhoto()
            card.purpose, card.label, card.retake_text = purpose, label, retake
            picture = capture.accepted_picture(purpose)
            if picture is not None:
                card.ids.picture.texture = bgr_texture(picture)
            row.add_widget(card)

    def hide(self) -> None:
        """Off screen: no picture of the visitor stays in a texture."""
        self.ids.photos.clear_widgets()
        self._shown = ()
