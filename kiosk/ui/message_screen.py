"""One message in full: who, when, what became of it, the text, and the approved photos."""

from io import BytesIO

from kivy.core.image import Image as CoreImage
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.image import Image
from kivy.uix.screenmanager import Screen

from kiosk.ui.widgets.header import fill_header
from kiosk.ui.widgets.session_bar import SessionBar  # noqa: F401  (kv rule's class)

_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png"}


def photo_texture(photo):
    """The photo's pixels for Kivy, decoded from the bytes the facility approved."""
    return CoreImage(BytesIO(photo.data), ext=_EXTENSIONS.get(photo.mime, "jpg")).texture


class PhotoThumbnail(ButtonBehavior, Image):
    """A photo in the message; touching it opens it full screen."""

    index = 0


class MessageScreen(Screen):
    who = StringProperty("")
    when = StringProperty("")
    body = StringProperty("")
    status = StringProperty("")
    status_detail = StringProperty("")
    back_text = StringProperty("")
    reply_text = StringProperty("")
    photos_text = StringProperty("")
    can_reply = BooleanProperty(False)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._message = None
        self.textures = []

    def show(self, view) -> None:
        fill_header(self.ids.header, view)
        session = view.session
        self.ids.session_bar.show(session, view.words.sign_out)
        words = view.words
        self.back_text, self.reply_text = words.back, words.reply
        message = session.message
        if message is None:
            return
        self.who, self.when, self.body = message.who, message.when, message.body
        self.status, self.status_detail = message.status, message.status_detail
        self.can_reply = message.direction == "in"
        self.photos_text = words.photos if message.photos else ""
        if message.photos is not getattr(self._message, "photos", None):
            self._show_photos(message.photos)
        self._message = message

    def _show_photos(self, photos) -> None:
        strip = self.ids.photos
        strip.clear_widgets()
        self.textures = []
        for photo in photos:
            try:
                texture = photo_texture(photo)
            except Exception:
                continue  # a photo Kivy cannot decode is left out, not the message
            self.textures.append(texture)
            thumbnail = PhotoThumbnail(texture=texture)
            thumbnail.index = len(self.textures) - 1
            thumbnail.bind(on_release=self._open_photo)
            strip.add_widget(thumbnail)

    def _open_photo(self, thumbnail) -> None:
        from kivy.app import App

        App.get_running_app().open_photo(self.textures[thumbnail.index])
