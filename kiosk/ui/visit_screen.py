"""A visit: the other side large, yourself small, the time left always in view, Hang up."""

from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.ui.kivy_setup import CALM_FPS, VIDEO_FPS, VIDEO_FRAME_CAP, set_frame_rate
from kiosk.ui.widgets.header import fill_header
from kiosk.ui.widgets.picture import Picture  # noqa: F401  (the .kv's pictures)
from kiosk.ui.widgets.textures import bgr_texture

# Your own picture waits for the other side's at most this long (a frame and a half).
SELF_VIEW_ALONE_S = 1.5 / VIDEO_FPS


class VisitScreen(Screen):
    title = StringProperty("")
    instruction = StringProperty("")
    peer_status = StringProperty("")
    starts = StringProperty("")
    handset = StringProperty("")
    time_left = StringProperty("")
    ends_at = StringProperty("")
    warning = StringProperty("")
    monitoring = StringProperty("")
    privileged = BooleanProperty(False)
    ended = StringProperty("")
    camera = StringProperty("")
    connection = StringProperty("")  # a slow call, or one being set up again
    photos = StringProperty("")  # lobby: the visitor's photos on their way to the facility
    photos_sent = NumericProperty(0.0)  # 0..1, the bar under those words
    hang_up_text = StringProperty("")
    hang_up_sure = StringProperty("")
    keep_talking_text = StringProperty("")
    end_visit_text = StringProperty("")
    confirming = BooleanProperty(False)  # "End your visit now?" is showing

    def show(self, view) -> None:
        fill_header(self.ids.header, view)
        visit, words = view.visit, view.words
        if visit is None:
            return
        self.title, self.instruction = visit.title, visit.instruction
        self.peer_status, self.time_left, self.ends_at = (
            visit.peer_status,
            visit.time_left,
            visit.ends_at,
        )
        self.warning, self.monitoring = visit.warning, visit.monitoring
        self.privileged, self.ended = visit.privileged, visit.ended
        self.camera = visit.camera
        self.connection = visit.connection
        self.starts = visit.starts
        self.handset = visit.handset
        lobby = view.lobby
        self.photos = lobby.sending if lobby is not None else ""
        self.photos_sent = lobby.sent_fraction if lobby is not None else 0.0
        self.hang_up_text, self.hang_up_sure = words.hang_up, words.hang_up_sure
        self.keep_talking_text, self.end_visit_text = words.keep_talking, words.end_visit
        if visit.ended:
            self.confirming = False
            # The end's words stand alone: no last picture of the other side behind them.
            self.ids.remote_video.texture = None
            self.ids.self_view.texture = None
            self._shown = (None, None)

    # --- the pictures ------------------------------------------------------------------------

    def follow(self, media) -> None:
        """Show the call's pictures as they come; ``media`` gives (remote, local) BGR frames."""
        self._media = media
        if getattr(self, "_video", None) is None:
            self._shown = (None, None)  # the pictures last uploaded: (remote, local)
            self._self_view_at = 0.0  # Clock time of the last new picture of yourself
            set_frame_rate(VIDEO_FRAME_CAP)  # the calm 20 would drop a third of the pictures
            # At every frame, the frame cap setting the pace: an interval of 1 / VIDEO_FPS
            # counts from its last call, so it skipped each frame that came a little early and
            # showed only 24 of the 30 pictures a second.
            self._video = Clock.schedule_interval(self._draw_video, 0)

    def unfollow(self) -> None:
        if getattr(self, "_video", None) is not None:
            self._video.cancel()
            self._video = None
            set_frame_rate(CALM_FPS)

    def _draw_video(self, _dt) -> None:
        remote, local = self._media()
        shown_remote, shown_local = self._shown
        if remote is None:
            # Over, or not yet: a picture left from earlier would show someone who is not there.
            self.ids.remote_video.texture = None
            shown_remote = None
        if local is None:
            # The camera is gone: a frozen face would say it still films; the notice says why.
            self.ids.self_view.texture = None
            shown_local = None
        now = Clock.get_time()
        if (remote is not None and remote is not shown_remote) or (
            now - self._self_view_at >= SELF_VIEW_ALONE_S
        ):
            # Yourself with the other side's next picture: on its own, your picture would make
            # the screen draw a second time between two of theirs, and each frame drawn costs.
            # Without theirs (not yet, or a still picture), yours still moves.
            if local is not shown_local:
                self._self_view_at = now
            shown_local = _show(self.ids.self_view, local, shown_local)
        self._shown = (_show(self.ids.remote_video, remote, shown_remote), shown_local)

    def ask_to_hang_up(self) -> None:
        self.confirming = True

    def keep_talking(self) -> None:
        self.confirming = False


def _show(image_widget, frame, shown):
    """A BGR frame into the widget's texture (reused while the size stays the same), only when
    it is not the one already there: the screen draws more often than pictures come, and each
    upload is the visit's main cost on a software renderer. Returns the frame now shown."""
    if frame is None or frame is shown:
        return shown
    image_widget.texture = bgr_texture(frame, image_widget.texture)
    image_widget.canvas.ask_update()
    return frame
