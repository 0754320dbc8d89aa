"""What an ONNX tensor is while the graph is lowered.

- :class:`Tensor`: a float32 engine value holding the tensor in some layout (see layout.py).
- :class:`Binarized`: the tensor is ``binarize(source + offset)``; nothing is emitted until a
  consumer asks for packed bits (a ``BinarizePack``) or a float ±1 tensor.
- :class:`Padded`: an ONNX ``Pad`` that is never executed; the ``Conv`` reading it takes the
  padding over.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAME = "same"            # engine memory = ONNX order
NHWC = "nhwc"            # ONNX rank-4 NCHW tensor stored NHWC
FLAT_NHWC = "flat_nhwc"  # ONNX [N, C*H*W] stored in H, W, C feature order


@dataclass(frozen=True, eq=False)
class Tensor:
    """A float32 engine value standing for an ONNX tensor.

    ``engine_shape`` is the value's shape (-1 for a dynamic batch). For ``FLAT_NHWC`` the value
    is either still ``[N, H, W, C]`` (the flatten not materialized) or ``[N, H*W*C]``; ``chw``
    gives the flattened ONNX ``(C, H, W)``.
    """

    value: str
    layout: str
    onnx_shape: tuple[int, ...]
    engine_shape: tuple[int, ...]
    chw: tuple[int, int, int] | None = None

    @property
    def rank(self) -> int:
        return len(self.onnx_shape)


@dataclass(frozen=True, eq=False)
class Binarized:
    """An ONNX tensor equal to ``binarize(source + offset)``.

    ``offset`` is a constant broadcastable to the source's ONNX shape (None: no offset);
    ``zero_to`` is what an exact 0 becomes: 0 (ONNX ``Sign``), +1 or -1. The engine's
    ``BinarizePack`` maps 0 to +1, so bits are only used for ``zero_to`` 0 or +1. ``nodes``
    are the ONNX nodes of the binarizer, ``onnx_source`` the ONNX tensor it binarizes.
    """

    source: Tensor
    offset: np.ndarray | None
    zero_to: int
    nodes: tuple[str, ...]
    onnx_source: str

    @property
    def onnx_shape(self) -> tuple[int, ...]:
        return self.source.onnx_shape

    @property
    def bits_allowed(self) -> bool:
        return self.zero_to in (0, 1)


@dataclass(frozen=True, eq=False)
class Padded:
    """A constant-mode ONNX ``Pad`` of ``inner``; ``pads`` in ONNX order (all begins, then ends)."""

    inner: Tensor | Binarized
    pads: tuple[int, ...]
    value: float
    node: str

    @property
    def onnx_shape(self) -> tuple[int, ...]:
        rank = len(self.inner.onnx_shape)
        return tuple(d if d < 0 else d + self.pads[i] + self.pads[i + rank]
                     for i, d in enumerate(self.inner.onnx_shape))


State = Tensor | Binarized | Padded
