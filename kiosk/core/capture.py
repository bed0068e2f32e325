"""Photographing a visitor's credentials, step by step: a live preview, Take picture, the still
checked (one face; a sharp, readable card), then Accept or Retake; Submit once all are accepted.

The pictures live in this object only, until ``submitted`` hands them on or ``wipe`` drops
them; nothing here touches the disk.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hardware.interfaces import Camera, Frame
from kiosk.core.i18n import Language, _
from kiosk.core.visits import VISITOR_CREDENTIAL, VISITOR_FACE, VISITOR_ID

PREVIEW, CHECKING, STILL, SUMMARY = "preview", "checking", "still", "summary"

# A check: (purpose, BGR picture) -> (problem or None, JPEG bytes); runs in a worker thread.
StillCheck = Callable[[str, Any], tuple[str | None, bytes]]

PURPOSE_LABELS = {
    VISITOR_ID: _("Your photo ID"),
    VISITOR_CREDENTIAL: _("Your bar card, department ID or badge"),
    VISITOR_FACE: _("Your face"),
}
INSTRUCTIONS = {
    VISITOR_ID: _(
        "Hold your government photo ID inside the frame so that your name is clearly visible."
    ),
    VISITOR_CREDENTIAL: _(
        "Hold your bar card, department ID or badge inside the frame so that your name is "
        "clearly visible."
    ),
    VISITOR_FACE: _("Look at the camera and keep your face inside the oval. Only you."),
}
PROBLEMS = {
    "no_face": _("We could not see a face. Look straight at the camera and take it again."),
    "several_faces": _("We see more than one face. Only you should be in the picture."),
    "face_too_small": _("Come closer, so that your face fills the oval, and take it again."),
    "blurred": _("The picture is blurred. Hold the card still, a little farther away."),
    "overexposed": _("There is glare on the card. Tilt it a little and take it again."),
    "unreadable": _("This picture could not be used. Please take it again."),
}


@dataclass(frozen=True)
class Photo:
    """One accepted picture, ready to leave: a JPEG and when it was taken."""

    purpose: str
    jpeg: bytes
    taken_at: datetime


@dataclass(frozen=True)
class CaptureView:
    """What the capture screens show, in the reader's language (pictures are fetched apart)."""

    stage: str  # preview | checking | still | summary
    step: int  # 1-based, of ``steps``
    steps: int
    purpose: str
    title: str  # "Photo 1 of 3: Your photo ID"
    instruction: str
    frame_shape: str  # card | face: the alignment guide over the preview
    problem: str  # why this still cannot be used, and what to do
    can_accept: bool
    still_id: int  # changes with every picture taken: the screen fetches it anew
    photos: tuple[tuple[str, str], ...] = ()  # summary: (purpose, label) in order
    camera: str = ""  # the camera is not delivering pictures, in words


class CredentialCapture:
    """The photos one visitor owes the facility, taken one after another."""

    def __init__(
        self,
        purposes: tuple[str, ...],
        *,
        camera: Camera,
        check: StillCheck,
        now: Callable[[], datetime],
        changed: Callable[[], None],
    ) -> None:
        if not purposes or any(p not in PURPOSE_LABELS for p in purposes):
            raise ValueError(f"capture purposes must be some of {', '.join(PURPOSE_LABELS)}")
        self.purposes = purposes
        self._camera = camera
        self._check = check
        self._now = now
        self._changed = changed
        self.index = 0
        self.stage = PREVIEW
        self._still: Any = None  # the picture under review (BGR)
        self._still_jpeg: bytes | None = None
        self._still_taken_at: datetime | None = None
        self._problem: str | None = None
        self._still_id = 0
        self._accepted: dict[str, tuple[Any, Photo]] = {}
        self._task: asyncio.Task[None] | None = None

    @property
    def purpose(self) -> str:
        return self.purposes[self.index]

    # --- intents ---------------------------------------------------------------------------

    def take(self) -> bool:
        """Take picture: the newest frame becomes the still at once; checks run in a thread."""
        if self.stage != PREVIEW:
            return False
        frame = self._camera.latest_frame()
        if frame is None:
            self._changed()  # the view says the camera is not ready
            return False
        self._still, self._still_jpeg, self._problem = frame.image, None, None
        self._still_taken_at = self._now()
        self._still_id += 1
        self.stage = CHECKING
        loop = asyncio.get_running_loop()
        checked = loop.run_in_executor(None, self._check, self.purpose, frame.image)
        self._task = loop.create_task(self._checked(checked, self._still_id))
        self._changed()
        return True

    def accept(self) -> bool:
        """Keep the still; on to the next photo still owed, or to the summary."""
        if self.stage != STILL or self._problem is not None or self._still_jpeg is None:
            return False
        photo = Photo(self.purpose, self._still_jpeg, self._still_taken_at or self._now())
        self._accepted[self.purpose] = (self._still, photo)
        self._drop_still()
        missing = [i for i, p in enumerate(self.purposes) if p not in self._accepted]
        if missing:
            self.index, self.stage = missing[0], PREVIEW
        else:
            self.stage = SUMMARY
        self._changed()
        return True

    def retake(self, purpose: str | None = None) -> bool:
        """Back to the preview: for the still under review, or from the summary for ``purpose``."""
        if self.stage == SUMMARY:
            if purpose not in self.purposes:
                return False
            self.index = self.purposes.index(purpose)
            self._accepted.pop(purpose, None)
        elif self.stage not in (STILL, CHECKING):
            return False
        if self._task is not None:
            self._task.cancel()
        self._drop_still()
        self.stage = PREVIEW
        self._changed()
        return True

    def back(self) -> bool:
        """Back one step; False at the first preview (the flow then leaves)."""
        if self.stage in (STILL, CHECKING):
            return self.retake()
        if self.stage == SUMMARY:
            self._reopen(len(self.purposes) - 1)
            return True
        if self.index == 0:
            return False
        self._reopen(self.index - 1)
        return True

    def submitted(self) -> list[Photo] | None:
        """Submit: every required photo, in order, and this object forgets them; None if any
        is missing."""
        if self.stage != SUMMARY or any(p not in self._accepted for p in self.purposes):
            return None
        photos = [self._accepted[purpose][1] for purpose in self.purposes]
        self.wipe()
        return photos

    def wipe(self) -> None:
        """Forget every picture; a check still running is dropped."""
        if self._task is not None:
            self._task.cancel()
        self._drop_still()
        self._accepted.clear()

    # --- pictures for the screen -----------------------------------------------------------

    def preview(self) -> Frame | None:
        """The camera's newest frame while the preview shows, else None."""
        return self._camera.latest_frame() if self.stage == PREVIEW else None

    def still(self) -> Any:
        """The picture under review (BGR), or None."""
        return self._still if self.stage in (CHECKING, STILL) else None

    def accepted_picture(self, purpose: str) -> Any:
        """An accepted picture (BGR) for the summary, or None."""
        entry = self._accepted.get(purpose)
        return None if entry is None else entry[0]

    # --- the view --------------------------------------------------------------------------

    def view(self, language: Language, camera_missing: bool) -> CaptureView:
        text = language.text
        label = text(PURPOSE_LABELS[self.purpose])
        if self.stage == SUMMARY:
            title = text(_("Check your photos"))
            instruction = text(
                _("If every photo is clear, touch Submit. To change one, touch Retake under it.")
            )
        else:
            title = text(_("Photo {step} of {steps}: {what}")).format(
                step=self.index + 1, steps=len(self.purposes), what=label
            )
            instruction = {
                PREVIEW: text(INSTRUCTIONS[self.purpose]),
                CHECKING: text(_("Checking the picture…")),
                STILL: text(_("Is the picture clear? Touch Accept, or Retake."))
                if self._problem is None
                else "",
            }[self.stage]
        camera = ""
        if self.stage == PREVIEW and camera_missing:
            camera = text(_("The camera is not working. Please ask the lobby officer."))
        return CaptureView(
            stage=self.stage,
            step=self.index + 1,
            steps=len(self.purposes),
            purpose=self.purpose,
            title=title,
            instruction=instruction,
            frame_shape="face" if self.purpose == VISITOR_FACE else "card",
            problem=text(PROBLEMS[self._problem]) if self._problem else "",
            can_accept=self.stage == STILL and self._problem is None,
            still_id=self._still_id,
            photos=tuple((p, text(PURPOSE_LABELS[p])) for p in self.purposes)
            if self.stage == SUMMARY
            else (),
            camera=camera,
        )

    # --- the checks ------------------------------------------------------------------------

    async def _checked(
        self, checked: asyncio.Future[tuple[str | None, bytes]], still_id: int
    ) -> None:
        try:
            problem, jpeg = await checked
        except ValueError:  # a picture OpenCV cannot read or encode
            problem, jpeg = "unreadable", None
        if still_id != self._still_id or self.stage != CHECKING:
            return  # retaken or wiped meanwhile
        self._problem, self._still_jpeg = problem, jpeg
        self.stage = STILL
        self._changed()

    def _reopen(self, index: int) -> None:
        """An accepted photo under review again, to accept once more or retake."""
        self.index = index
        picture, photo = self._accepted.pop(self.purpose)
        self._still, self._still_jpeg, self._problem = picture, photo.jpeg, None
        self._still_taken_at = photo.taken_at
        self._still_id += 1
        self.stage = STILL
        self._changed()

    def _drop_still(self) -> None:
        self._still, self._still_jpeg, self._problem, self._still_taken_at = None, None, None, None
