"""PNG charts for reports (robustness curves, ROC curves), drawn with matplotlib's Agg backend."""

from __future__ import annotations

import io
from collections.abc import Sequence

from garrison.errors import MissingExtraError


def line_chart(
    series: dict[str, tuple[Sequence[float], Sequence[float]]],
    title: str,
    xlabel: str,
    ylabel: str,
    log_x: bool = False,
    diagonal: bool = False,
) -> bytes:
    """One line per series name: {name: (xs, ys)}. Returns PNG bytes."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingExtraError("matplotlib", "robustness") from None
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    try:
        for name, (xs, ys) in series.items():
            ax.plot(list(xs), list(ys), marker="o", markersize=3, label=name)
        if diagonal:
            ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="chance")
        if log_x:
            ax.set_xscale("log")
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize=8)
        buffer = io.BytesIO()
        fig.tight_layout()
        fig.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(fig)
