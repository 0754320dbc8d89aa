"""The PNG chart of ``xnorinfer bench``: latency of both engines and the speedup, per layer and in
total. Needs matplotlib (the ``bench`` extra); importing this module without it raises
ImportError, which the caller reports.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

OURS_COLOR, ORT_COLOR, TOTAL_COLOR = "#1f77b4", "#ff7f0e", "#2ca02c"


def write_chart(path: str, title: str, labels: Sequence[str], ours_seconds: Sequence[float],
                ort_seconds: Sequence[float]) -> None:
    """Write a two-panel horizontal bar chart: latency (ms, log scale) and speedup.

    Parameters
    ----------
    path : str
        Output PNG file.
    title : str
        Figure title.
    labels : sequence of str
        One label per row; the last row is the end-to-end total.
    ours_seconds, ort_seconds : sequence of float
        Seconds per row for xnorinfer and onnxruntime (0 where an engine ran nothing).
    """
    rows = range(len(labels))
    height = 0.4
    fig, (latency, speedup) = plt.subplots(
        1, 2, figsize=(12, 1.5 + 0.32 * len(labels)), sharey=True,
        gridspec_kw={"width_ratios": [3, 2]})
    latency.barh([r - height / 2 for r in rows], [s * 1e3 for s in ours_seconds], height,
                 label="xnorinfer", color=OURS_COLOR)
    latency.barh([r + height / 2 for r in rows], [s * 1e3 for s in ort_seconds], height,
                 label="onnxruntime fp32", color=ORT_COLOR)
    latency.set_xscale("log")
    latency.set_xlabel("latency (ms, log scale)")
    latency.set_yticks(list(rows), labels, fontsize=8)
    latency.invert_yaxis()

    ratios = [o / s if s and o else 0.0 for s, o in zip(ours_seconds, ort_seconds)]
    colors = [OURS_COLOR] * (len(labels) - 1) + [TOTAL_COLOR]
    bars = speedup.barh(list(rows), ratios, 0.6, color=colors)
    speedup.bar_label(bars, [f"{r:.1f}x" if r else "" for r in ratios], fontsize=7, padding=2)
    speedup.axvline(1.0, color="grey", linewidth=0.8, linestyle="--")
    speedup.set_xlabel("speedup over onnxruntime (x)")
    speedup.set_xlim(0, max(ratios + [1.0]) * 1.2)

    fig.suptitle(title, fontsize=9)
    fig.legend(*latency.get_legend_handles_labels(), loc="lower center", ncol=2, fontsize=8)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)
