"""Symbolic input dimensions besides the batch (``[batch, tokens, features]`` with dynamic
tokens).

Before ONNX shape inference, each distinct symbolic name on a non-batch input axis gets a
sentinel extent, a large prime no model uses, so the converter works with concrete shapes; a
shape entry that is such a sentinel (or a product with one) is dynamic, and becomes -1 in the
engine graph. A Reshape keeps a dynamic dim only by copying it from the same axis of its input
(``0``) or by inferring it (``-1``): a target that merges or moves one is refused.
"""

from __future__ import annotations

from collections.abc import Sequence

from xnorinfer.errors import ConversionError

# Primes above the batch sentinel (folding.BATCH_SENTINEL = 1_000_003), one per symbolic name.
SENTINELS = (1_000_033, 1_000_037, 1_000_039, 1_000_081, 1_000_099, 1_000_117, 1_000_121,
             1_000_133)


def is_dynamic(extent: int) -> bool:
    """True for a sentinel extent or a product of one with other extents."""
    return extent > 0 and any(extent % s == 0 for s in SENTINELS)


def engine_dims(shape: Sequence[int]) -> list[int]:
    """A shape with every dynamic extent written -1."""
    return [-1 if d == -1 or is_dynamic(d) else d for d in shape]


def resolve_reshape(in_shape: Sequence[int], target: Sequence[int], what: str) -> list[int]:
    """``target`` with each symbolic sentinel replaced by ``0`` (copied from the same input
    axis) or, for one that cannot be copied, ``-1`` (inferred); raises when that is ambiguous."""
    _check_dims_stay_behind_the_batch(in_shape, target, what)
    resolved = list(target)
    inferred = [i for i, d in enumerate(resolved) if d == -1]
    for i, d in enumerate(resolved):
        if d in SENTINELS and i < len(in_shape) and in_shape[i] == d:
            resolved[i] = 0
        elif d > 0 and is_dynamic(d):
            inferred.append(i)
            resolved[i] = -1
    if len(inferred) > 1:
        raise ConversionError(
            f"{what} regroups a symbolic input dimension (target {list(target)}); the engine "
            "can copy a dynamic dim or infer one, not both: give static input shapes with "
            "convert(..., input_shapes=...)")
    return resolved


def _check_dims_stay_behind_the_batch(in_shape: Sequence[int], target: Sequence[int],
                                      what: str) -> None:
    """Dim 0 is copied (or inferred) as the batch, so the symbolic dims after it in the target
    must be the ones after it in the input (a ``-1`` there may absorb some): a symbolic dim
    that would come out of dim 0 means dim 0 holds more than the batch."""
    absorbs = -1 in list(target)[1:]
    for s in SENTINELS:
        before = sum(1 for d in list(in_shape)[1:] if d > 0 and d % s == 0)
        after = sum(1 for d in list(target)[1:] if d > 0 and d % s == 0)
        if after > before or (after < before and not absorbs):
            raise ConversionError(
                f"{what} regroups a symbolic input dimension with the batch (target "
                f"{list(target)}); the engine can copy a dynamic dim or infer one, not rebuild "
                "it: give static input shapes with convert(..., input_shapes=...)")
