"""One credential photo: the live preview with its alignment guide, Take picture, then the still
with Accept or Retake. The core decides what may be accepted; this shows."""

from kivy.clock import Clock
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.ui.kivy_setup import CALM_FPS, VIDEO_FRAME_CAP, set_frame_rate
from kiosk.ui.widgets.children import show_only
from kiosk.ui.widgets.header import fill_header
from kiosk.ui.widgets.picture import Picture  # noqa: F401  (the .kv's preview)
from kiosk.ui.widgets.textures import bgr_texture


class CaptureScreen(Screen):
    stage = StringProperty("preview")  # preview | checking | still
    title = StringProperty("")
    instruction = StringProperty("")
    problem = StringProperty("")
    camera = StringProperty("")
    frame_shape = StringProperty("card")  # the guide drawn over the preview: card | face
    can_accept = BooleanProperty(False)
    back_text = StringProperty("Back")
    take_text = StringProperty("")
    accept_text = StringProperty("")
    retake_text = StringProperty("")

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._capture = None  # the core's CredentialCapture, whose pictures this shows
        self._preview = None  # the preview's clock event while it runs
        self._shown_seq = -1  # the camera frame in the texture (a frame is uploaded once)
        self._still_id = -1

    def on_kv_post(self, base_widget) -> None:
        # The widgets themselves, not the ids' weak proxies: those off screen must live on.
        self._take = self.ids.take.__self__
        self._retake = self.ids.retake.__self__
        self._accept = self.ids.accept.__self__
        self._place_buttons()

    def on_stage(self, *_args) -> None:
        self._place_buttons()

    def on_can_accept(self, *_args) -> None:
        self._place_buttons()

    def _place_buttons(self) -> None:
        """Take picture under the preview; Retake, and Accept when the still passed its checks,
        under a still; none while it is checked. A hidden button would still take touches."""
        if not hasattr(self, "_take"):
            return
        wanted = {
            "preview": (self._take,),
            "still": (self._retake, self._accept) if self.can_accept else (self._retake,),
        }.get(self.stage, ())
        show_only(self.ids.actions, wanted)

    def show(self, view, capture) -> None:
        fill_header(self.ids.header, view)
        shown, words = view.lobby.capture, view.words
        if shown is None:
            return
        self._capture = capture
        self.stage, self.title, self.instruction = shown.stage, shown.title, shown.instruction
        self.problem, self.camera, self.frame_shape = shown.problem, shown.camera, shown.frame_shape
        self.can_accept = shown.can_accept
        self.back_text, self.take_text = words.back, words.take_picture
        self.accept_text, self.retake_text = words.accept, words.retake
        if shown.stage == "preview":
            self._still_id = -1
            self._start_preview()
        else:
            # While the still is checked the frame rate stays up: Accept or the problem is drawn
            # in the next frame, not up to 50 ms later.
            self._stop_preview(calm=shown.stage != "checking")
            if shown.still_id != self._still_id:
                self._still_id = shown.still_id
                self._draw_still()

    def hide(self) -> None:
        """Off screen: the preview stops and no picture of the visitor stays in a texture."""
        self._stop_preview()
        self._capture = None
        self.ids.picture.texture = None
        self._shown_seq = self._still_id = -1

    # --- the pictures ------------------------------------------------------------------------

    def _start_preview(self) -> None:
        set_frame_rate(VIDEO_FRAME_CAP)  # no camera picture waits for a frame
        if self._preview is None:
            # At every frame, as the visit screen's pictures: an interval of 1 / VIDEO_FPS
            # skips each frame that comes a little early.
            self._preview = Clock.schedule_interval(self._draw_preview, 0)
            self._draw_preview(0)

    def _stop_preview(self, calm: bool = True) -> None:
        if self._preview is not None:
            self._preview.cancel()
            self._preview = None
        if calm:
            set_frame_rate(CALM_FPS)

    def _draw_preview(self, _dt) -> None:
        frame = self._capture.preview() if self._capture is not None else None
        if frame is None or frame.seq == self._shown_seq:
            return
        self._shown_seq = frame.seq
        self._put(frame.image)

    def _draw_still(self) -> None:
        still = self._capture.still() if self._capture is not None else None
        if still is not None:
            self._shown_seq = -1
            self._put(still)

    def _put(self, image) -> None:
        picture = self.ids.picture
        picture.texture = bgr_texture(image, picture.texture)
        picture.canvas.ask_update()
