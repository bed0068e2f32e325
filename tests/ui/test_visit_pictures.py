"""The visit screen's pictures: each new picture reaches the glass once, and none again.

The screen draws more often than pictures come; uploading a picture already shown costs the
call's CPU on a software renderer (issue "Visits that stay live under load")."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import make_config
from tests.kiosks import make_kiosk

pytestmark = pytest.mark.ui


def picture(shade: int) -> np.ndarray:
    return np.full((120, 160, 3), shade, dtype=np.uint8)


@pytest.fixture
def uploads(monkeypatch) -> list[int]:
    """The shade of each picture the visit screen puts into a texture, in order."""
    import kiosk.ui.visit_screen as visit_screen

    shades: list[int] = []
    real_upload = visit_screen.bgr_texture

    def counted(frame, reuse=None):
        shades.append(int(frame[0, 0, 0]))
        return real_upload(frame, reuse)

    monkeypatch.setattr(visit_screen, "bgr_texture", counted)
    return shades


def test_each_new_picture_is_uploaded_once_and_a_repeated_one_not_at_all(
    ui, tmp_path, clock, uploads
):
    kiosk = make_kiosk(make_config(tmp_path), clock)
    remote, local = [picture(10)], [picture(200)]

    async def scenario(person):
        visit = person.screen("visit")
        visit.follow(lambda: (remote[0], local[0]))
        try:
            await person.until(lambda: len(uploads) == 2, what="both pictures on the glass")
            await person.frames(6)  # the screen keeps drawing; the pictures have not changed
            assert sorted(uploads) == [10, 200]

            remote[0] = picture(20)  # the other side's next picture
            await person.until(lambda: 20 in uploads, what="the new picture")
            await person.frames(6)
            assert sorted(uploads) == [10, 20, 200]

            local[0] = None  # the camera is gone: no frozen self-view
            await person.until(lambda: visit.ids.self_view.texture is None, what="no self-view")
            local[0] = picture(210)
            await person.until(lambda: 210 in uploads, what="the camera back")
            assert visit.ids.self_view.texture is not None
        finally:
            visit.unfollow()

    ui(kiosk, scenario)


def test_a_visit_frame_clips_nothing_through_the_stencil_buffer(ui, tmp_path, clock):
    """Kivy's ScreenManager and Image clip through the stencil buffer: two more passes over
    their whole area at every frame, a third of a visit's frame without a GPU."""
    from kivy.core.window import Window
    from kivy.graphics.stencil_instructions import StencilPush

    kiosk = make_kiosk(make_config(tmp_path), clock)

    def stencils(group) -> int:
        found = 0
        for instruction in getattr(group, "children", ()):
            found += isinstance(instruction, StencilPush) + stencils(instruction)
        return found

    async def scenario(person):
        visit = person.screen("visit")
        person.app.root.current = "visit"
        visit.follow(lambda: (picture(10), picture(200)))
        try:
            await person.until(
                lambda: visit.ids.remote_video.texture is not None, what="the pictures"
            )
            assert visit.ids.self_view.texture is not None
            assert stencils(Window.canvas) == 0
        finally:
            visit.unfollow()

    ui(kiosk, scenario)


def test_every_picture_of_the_other_side_is_shown_and_yours_goes_with_them(
    ui, tmp_path, clock, uploads, monkeypatch
):
    """The other side's pictures each reach the glass, however the frames fall; yours follow
    theirs rather than making the screen draw once more between two of theirs, and keep
    moving on their own when theirs stop."""
    import kiosk.ui.visit_screen as visit_screen

    monkeypatch.setattr(visit_screen, "SELF_VIEW_ALONE_S", 0.5)
    kiosk = make_kiosk(make_config(tmp_path), clock)
    remote, local = [None], [None]

    async def scenario(person):
        visit = person.screen("visit")
        person.app.root.current = "visit"
        visit.follow(lambda: (remote[0], local[0]))
        try:
            for index in range(12):  # theirs at every second frame, yours at every frame
                remote[0] = picture(10 + index)
                local[0] = picture(100 + 2 * index)
                await person.frames(1)
                local[0] = picture(101 + 2 * index)
                await person.frames(1)
            theirs = [shade for shade in uploads if shade < 100]
            yours = [shade for shade in uploads if shade >= 100]
            assert theirs == list(range(10, 22))  # each once, in order, none skipped
            assert len(yours) <= len(theirs) + 1  # with theirs, not between them

            for index in range(3):  # theirs stopped: yours still move
                local[0] = picture(200 + index)
                await person.until(lambda index=index: 200 + index in uploads, what="yours")
        finally:
            visit.unfollow()

    ui(kiosk, scenario)
