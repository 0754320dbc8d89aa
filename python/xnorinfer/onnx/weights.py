"""Binary weights: decide whether a constant weight is ±alpha per output channel, and pack it.

Exporters rarely give exactly ``alpha * sign(W)``: BatchNorm folded into the weights, latent
weights folded through ``alpha*sign(W) - clip(W) + clip(W)``, or float rounding leave each
channel's magnitudes equal only up to a relative 1e-5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xnorinfer.bitpack import pack_bits

MAGNITUDE_RTOL = 1e-5


@dataclass(frozen=True, eq=False)
class WeightVerdict:
    """Whether a weight ``[O, ...]`` is binary, and if not, why.

    ``negative`` (bool, the weight's shape) and ``alpha`` (float32 ``[O]``) are set for binary
    weights. ``looks_binary`` marks weights that are ±alpha except for exact zeros (ternary).
    """

    binary: bool
    reason: str = ""
    looks_binary: bool = False
    negative: np.ndarray | None = None
    alpha: np.ndarray | None = None


def analyze_weights(weight: np.ndarray) -> WeightVerdict:
    """Check that every output channel (axis 0) of ``weight`` holds only ±alpha_o, alpha_o > 0.

    Parameters
    ----------
    weight : numpy.ndarray
        ``[O, ...]`` float weights.

    Returns
    -------
    WeightVerdict
        alpha_o is the channel's mean |w|; its signs come from ``w < 0``.
    """
    per_channel = weight.reshape(weight.shape[0], -1).astype(np.float64)
    if per_channel.shape[1] < 2:
        return WeightVerdict(False, "one weight per output channel: nothing to binarize")
    magnitude = np.abs(per_channel)
    zeros = magnitude == 0
    if zeros.any():
        nonzero_mean = magnitude.sum(axis=1) / np.maximum((~zeros).sum(axis=1), 1)
        ternary = _equal_magnitudes(np.where(zeros, nonzero_mean[:, None], magnitude),
                                    nonzero_mean)
        if ternary:
            return WeightVerdict(False, f"ternary weights: {int(zeros.sum())} exact zeros (a "
                                        "Sign(W) of zero weights); one bit cannot hold 0",
                                 looks_binary=True)
        return WeightVerdict(False, "weights not ±alpha per channel")
    alpha = magnitude.mean(axis=1)
    if not _equal_magnitudes(magnitude, alpha):
        return WeightVerdict(False, "weights not ±alpha per channel")
    return WeightVerdict(True, negative=weight < 0, alpha=alpha.astype(np.float32))


def _equal_magnitudes(magnitude: np.ndarray, alpha: np.ndarray) -> bool:
    return bool((np.abs(magnitude - alpha[:, None]) <= MAGNITUDE_RTOL * alpha[:, None]).all()
                and (alpha > 0).all())


def pack_conv_weight(negative: np.ndarray) -> np.ndarray:
    """ONNX ``[O, C/group, KH, KW]`` signs as bits ``uint64 [O, KH, KW, ceil(C/group/64)]``."""
    return pack_bits(negative.transpose(0, 2, 3, 1))


def pack_dense_weight(negative: np.ndarray, groups: int) -> np.ndarray:
    """Engine-ordered ``[O, G*C]`` signs as bits ``uint64 [O, G, ceil(C/64)]``."""
    rows = negative.shape[0]
    return pack_bits(negative.reshape(rows, groups, -1))
