"""The PNG chart of ``xnorinfer bench``: latency of every engine and our speedup over each peer,
per layer and in total. Needs matplotlib (the ``bench`` extra); importing this module without it
raises ImportError, which the caller reports.
"""

from __future__ import annotations

import textwrap
from typing import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

OURS_COLOR = "#1f77b4"
PEERS = {"ort": ("onnxruntime fp32", "#ff7f0e"), "openvino": ("OpenVINO", "#2ca02c")}


def write_chart(path: str, title: str, labels: Sequence[str], ours_seconds: Sequence[float],
                peer_seconds: Mapping[str, Sequence[float]]) -> None:
    """Write a two-panel horizontal bar chart: latency (ms, log scale) and speedup.

    Parameters
    ----------
    path : str
        Output PNG file.
    title : str
        Figure title.
    labels : sequence of str
        One label per row; the last row is the end-to-end total.
    ours_seconds : sequence of float
        Seconds per row for xnorinfer.
    peer_seconds : mapping of str to sequence of float
        Seconds per row of each peer (``"ort"``, ``"openvino"``; 0 where it ran nothing).
    """
    rows = range(len(labels))
    engines = [("xnorinfer", OURS_COLOR, ours_seconds)]
    engines += [(*PEERS[key], seconds) for key, seconds in peer_seconds.items()]
    height = 0.8 / len(engines)
    fig, (latency, speedup) = plt.subplots(
        1, 2, figsize=(12, 1.5 + 0.16 * len(engines) * len(labels)), sharey=True,
        gridspec_kw={"width_ratios": [3, 2]})
    for i, (name, color, seconds) in enumerate(engines):
        offset = (i - (len(engines) - 1) / 2) * height
        latency.barh([r + offset for r in rows], [s * 1e3 for s in seconds], height, label=name,
                     color=color)
    latency.set_xscale("log")
    latency.set_xlabel("latency (ms, log scale)")
    latency.set_yticks(list(rows), labels, fontsize=8)
    latency.invert_yaxis()

    peers = engines[1:]
    height = 0.8 / len(peers)
    top = 1.0
    for i, (name, color, seconds) in enumerate(peers):
        ratios = [p / o if p and o else 0.0 for p, o in zip(seconds, ours_seconds)]
        offset = (i - (len(peers) - 1) / 2) * height
        bars = speedup.barh([r + offset for r in rows], ratios, height, color=color)
        speedup.bar_label(bars, [f"{r:.1f}x" if r else "" for r in ratios], fontsize=7, padding=2)
        top = max([top] + ratios)
    speedup.axvline(1.0, color="grey", linewidth=0.8, linestyle="--")
    speedup.set_xlabel("our speedup over each peer (x)")
    speedup.set_xlim(0, top * 1.2)

    fig.suptitle(textwrap.fill(title, 150), fontsize=9)
    fig.legend(*latency.get_legend_handles_labels(), loc="lower center", ncol=len(engines),
               fontsize=8)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)
