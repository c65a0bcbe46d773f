"""Geometry for the console's inline SVG charts. The template draws them; every chart
has a table of the same figures beside it, so the picture is never the only source."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    x: float
    y: float
    width: float
    height: float
    text_x: float
    text_y: float
    show_label: bool = True


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    top: float
    baseline: float
    left: float


def column_chart(points: list[tuple[str, float]], width: int = 640, height: int = 220,
                 label_every: int = 1) -> Chart:
    """Vertical columns (a value per day or week), labels under every ``label_every``-th column."""
    left, right, top, bottom = 8, 8, 22, 40
    inner_width = width - left - right
    inner_height = height - top - bottom
    peak = max((value for _, value in points), default=0) or 1
    slot = inner_width / max(len(points), 1)
    bars = []
    for index, (label, value) in enumerate(points):
        bar_height = inner_height * value / peak
        x = left + index * slot + slot * 0.15
        y = top + inner_height - bar_height
        bars.append(Bar(label, value, round(x, 1), round(y, 1), round(slot * 0.7, 1), round(bar_height, 1),
                        round(x + slot * 0.35, 1), round(y - 5, 1),
                        # Counted back from the newest, so the latest column is always named.
                        show_label=(len(points) - 1 - index) % label_every == 0))
    return Chart(width, height, bars, top, top + inner_height, left)


def bar_chart(points: list[tuple[str, float]], width: int = 640, row_height: int = 28,
              label_width: int = 230) -> Chart:
    """Horizontal bars, one per row, the label on the left and the value at the end of the bar."""
    value_room = 70
    inner_width = width - label_width - value_room
    peak = max((value for _, value in points), default=0) or 1
    bars = []
    for index, (label, value) in enumerate(points):
        bar_width = inner_width * value / peak
        y = 6 + index * row_height
        bars.append(Bar(label, value, label_width, y, round(bar_width, 1), row_height - 10,
                        round(label_width + bar_width + 6, 1), y + row_height - 14))
    return Chart(width, 12 + len(points) * row_height, bars, 0, 0, label_width)
