"""Stacked bar charts as geometry for an inline SVG template: no JavaScript, no build step."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

WIDTH = 720
HEIGHT = 200
_LEFT = 40  # room for the y-axis labels
_BOTTOM = 20  # room for the x-axis labels
_TOP = 10  # room for the top y-axis label
_MAX_X_LABELS = 8


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int  # index into the chart's series, for the CSS colour class
    title: str  # shown as a tooltip and read by screen readers


@dataclass(frozen=True, slots=True)
class Label:
    x: float
    y: float
    text: str


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    width: int
    height: int
    series: list[str]
    bars: list[Bar]
    x_labels: list[Label]
    y_labels: list[Label]
    empty: bool


def bar_chart(title: str, labels: Sequence[str], series: Mapping[str, Sequence[int]]) -> Chart:
    """One bar per label, each series stacked on the ones before it."""
    names = list(series)
    totals = [sum(series[n][i] for n in names) for i in range(len(labels))]
    top = max(totals, default=0)
    plot_w, plot_h = WIDTH - _LEFT, HEIGHT - _BOTTOM - _TOP
    step = plot_w / max(len(labels), 1)
    scale = plot_h / top if top else 0.0
    bars: list[Bar] = []
    for i, label in enumerate(labels):
        base = float(_TOP + plot_h)
        for s, name in enumerate(names):
            value = series[name][i]
            if value <= 0:
                continue
            h = value * scale
            base -= h
            x = _LEFT + i * step + step * 0.1
            bars.append(Bar(x, base, step * 0.8, h, s, f"{label} {name}: {value}"))
    every = max(1, -(-len(labels) // _MAX_X_LABELS))
    x_labels = [
        Label(_LEFT + i * step + step / 2, HEIGHT - 5, label)
        for i, label in enumerate(labels)
        if i % every == 0
    ]
    y_labels = [Label(_LEFT - 4, _TOP + plot_h - v * scale + 4, str(v)) for v in sorted({0, top})]
    return Chart(title, WIDTH, HEIGHT, names, bars, x_labels, y_labels, empty=top == 0)
