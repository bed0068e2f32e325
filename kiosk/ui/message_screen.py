"""One message in full: who, when, what became of it, the text, and the approved photos."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.image import Image
from kivy.uix.screenmanager import Screen

from kiosk.ui.widgets.header import fill_header
from kiosk.ui.widgets.session_bar import SessionBar  # noqa: F401  (kv rule's class)
from kiosk.ui.widgets.textures import bgr_texture

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)
# Larger photos are shown at this size at most: enough for the full screen and its zoom.
SHOWN_MAX_SIDE = 1920


def decode_photo(data: bytes) -> np.ndarray | None:
    """A photo's pixels (BGR), at most SHOWN_MAX_SIDE on a side; None if it cannot be read.

    Runs in a worker thread: a 2 MiB JPEG takes tens of milliseconds to decode.
    """
    import cv2  # by the first photo: OpenCV is tens of MiB a kiosk showing no photo need not hold
    import numpy as np

    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        return None
    scale = SHOWN_MAX_SIDE / max(image.shape[:2])
    if scale < 1:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return image


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
    photos_gone = StringProperty("")  # retention removed its photos: said, not hidden
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
        self.photos_gone = message.photos_gone
        if message.photos is not getattr(self._message, "photos", None):
            self._show_photos(message.photos)
        self._message = message

    def _show_photos(self, photos) -> None:
        """The text is shown at once; the photos follow as a worker thread decodes them."""
        self.ids.photos.clear_widgets()
        self.textures = []
        self._photo_job = getattr(self, "_photo_job", 0) + 1
        if not photos:
            return
        job = self._photo_job
        loop = asyncio.get_running_loop()
        decoding = loop.run_in_executor(None, lambda: [decode_photo(p.data) for p in photos])
        # Done callbacks run on the event loop, which is Kivy's thread: textures can be made there.
        decoding.add_done_callback(lambda done: self._add(job, done))

    def _add(self, job: int, done) -> None:
        if job != self._photo_job or done.cancelled():
            return  # another message was opened meanwhile
        if done.exception() is not None:
            log.error("photos could not be decoded: %s", done.exception())
            return
        for pixels in done.result():
            if pixels is None:
                continue  # a photo that cannot be read is left out, not the message
            self.textures.append(bgr_texture(pixels))
            thumbnail = PhotoThumbnail(texture=self.textures[-1])
            thumbnail.index = len(self.textures) - 1
            thumbnail.bind(on_release=self._open_photo)
            self.ids.photos.add_widget(thumbnail)

    def _open_photo(self, thumbnail) -> None:
        from kivy.app import App

        App.get_running_app().open_photo(self.textures[thumbnail.index])
