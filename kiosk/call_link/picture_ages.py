"""How old the other side's picture is when the screen shows it, over one visit."""

from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class AgeFigures:
    """The picture's age at each screen frame of a visit, in milliseconds."""

    shown: int  # screen frames that showed a picture
    median_ms: float
    p95_ms: float
    worst_ms: float


class PictureAges:
    """Ages in seconds, one per screen frame that showed the other side's picture."""

    def __init__(self) -> None:
        self._ages: list[float] = []

    def add(self, age_s: float) -> None:
        self._ages.append(max(0.0, age_s))

    def __len__(self) -> int:
        return len(self._ages)

    def figures(self) -> AgeFigures | None:
        if not self._ages:
            return None
        ages = sorted(self._ages)
        p95 = ages[min(len(ages) - 1, round(0.95 * (len(ages) - 1)))]
        return AgeFigures(
            shown=len(ages),
            median_ms=round(statistics.median(ages) * 1000, 1),
            p95_ms=round(p95 * 1000, 1),
            worst_ms=round(ages[-1] * 1000, 1),
        )
