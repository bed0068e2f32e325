"""``kiosk run --demo``'s own cloud: what it keeps between starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from demo.own_cloud import DemoCloud

REPO = Path(__file__).resolve().parents[2]


def test_the_arriving_photo_is_drawn_once_and_kept_for_the_next_start(tmp_path: Path) -> None:
    first = DemoCloud(tmp_path, "hu-01", "lb-01").arriving_photo()
    assert first.startswith(b"\xff\xd8\xff")  # a JPEG
    assert (tmp_path / "arriving-photo.jpg").read_bytes() == first
    assert not list(tmp_path.glob("*.partial"))
    # The next start, in a process of its own: the same picture, and no OpenCV loaded for it.
    script = (
        "import sys; from pathlib import Path; from demo.own_cloud import DemoCloud; "
        f"jpeg = DemoCloud(Path({str(tmp_path)!r}), 'hu-01', 'lb-01').arriving_photo(); "
        "sys.stdout.write(str(len(jpeg)) + ' ' + str('cv2' in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{len(first)} False"
