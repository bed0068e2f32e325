"""The imaging tests' fixtures: a face detector, loaded once for each test module."""

from __future__ import annotations

import pytest

from kiosk.imaging import FaceDetector


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return FaceDetector()
