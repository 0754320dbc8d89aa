"""Bit packing of ±1 values into uint64 words: the engine's ``bits`` storage (docs/ir.md).

Values are packed along the last axis. Channel ``c`` is bit ``c % 64`` of word ``c // 64``; a set
bit means -1 (the value was negative), a clear bit +1; the unused tail bits of the last word are
0. The words are native-endian ``uint64`` arrays of shape ``[..., ceil(C / 64)]``.
"""

from __future__ import annotations

import numpy as np

WORD_BITS = 64


def packed_words(n_bits: int) -> int:
    """Number of uint64 words that hold ``n_bits`` bits."""
    return (n_bits + WORD_BITS - 1) // WORD_BITS


def pack_bits(negative: np.ndarray) -> np.ndarray:
    """Pack a boolean array along its last axis into uint64 words.

    Parameters
    ----------
    negative : array_like of bool, shape ``[..., C]``
        True where the ±1 value is -1 (``x < 0``).

    Returns
    -------
    numpy.ndarray of uint64, shape ``[..., ceil(C / 64)]``
        Channel ``c`` in bit ``c % 64`` of word ``c // 64``; tail bits 0.
    """
    negative = np.asarray(negative, dtype=bool)
    n_bits = negative.shape[-1]
    n_words = packed_words(n_bits)
    padded = np.zeros(negative.shape[:-1] + (n_words * WORD_BITS,), dtype=bool)
    padded[..., :n_bits] = negative
    # Little bit order puts channel c at bit c % 8 of byte c // 8, and eight such bytes read as
    # one little-endian uint64 put it at bit c % 64 of the word.
    packed_bytes = np.packbits(padded, axis=-1, bitorder="little")
    words = np.ascontiguousarray(packed_bytes).view(np.dtype("<u8"))
    return words.astype(np.uint64)


def unpack_bits(words: np.ndarray, n_bits: int) -> np.ndarray:
    """Unpack uint64 words into a boolean array (True = -1), the inverse of :func:`pack_bits`.

    Parameters
    ----------
    words : numpy.ndarray of uint64, shape ``[..., W]``
        Packed words, ``W >= ceil(n_bits / 64)``.
    n_bits : int
        Logical size of the last axis.

    Returns
    -------
    numpy.ndarray of bool, shape ``[..., n_bits]``
    """
    words = np.asarray(words, dtype=np.uint64)
    if words.shape[-1] * WORD_BITS < n_bits:
        raise ValueError(f"{words.shape[-1]} words cannot hold {n_bits} bits")
    little_endian = np.ascontiguousarray(words.astype(np.dtype("<u8")))
    as_bytes = little_endian.view(np.uint8).reshape(words.shape[:-1] + (words.shape[-1] * 8,))
    bits = np.unpackbits(as_bytes, axis=-1, bitorder="little")
    return bits[..., :n_bits].astype(bool)
