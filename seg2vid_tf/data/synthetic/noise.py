"""Procedural noise for the synthetic scenes' textures.

Deterministic integer hashing without global state: the tables are fixed
(independent of any user seed), so a texture depends only on its surface
coordinates and its seed, and moves with its surface.
"""

import numpy as np

_HASH_BITS = 12
_HASH_MASK = (1 << _HASH_BITS) - 1
# Fixed tables (independent of any user seed): a permutation and uniform values.
_HASH_TABLES = np.random.default_rng(0x5E62F1D).permuted(
    np.tile(np.arange(1 << _HASH_BITS, dtype=np.int64), (2, 1)), axis=1)
_HASH_VALUES = np.random.default_rng(0xC0FFEE).random(1 << _HASH_BITS)


def _seed_offset(seed):
    seed = np.asarray(seed, dtype=np.int64)
    return (seed * 40503 + (seed >> 12) * 7919) & _HASH_MASK


def hash01(seed, *ints):
    """Uniform [0, 1) hash of integer lattice coordinates (arrays broadcast).

    A chained permutation-table hash (as in Perlin noise), periodic with
    period 4096 in every coordinate. ``seed`` may be an int or an integer
    array broadcasting with ``ints``.
    """
    h = _seed_offset(seed)
    for i, v in enumerate(ints):
        h = _HASH_TABLES[i & 1][(h + np.asarray(v, dtype=np.int64)) & _HASH_MASK]
    return _HASH_VALUES[h]


def noise(x, y, seed):
    """2-D value noise in [0, 1] with a smooth (C1) interpolant; period 1 lattice."""
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    x0 = np.floor(x)
    y0 = np.floor(y)
    fx = x - x0
    fy = y - y0
    sx = fx * fx * (3.0 - 2.0 * fx)
    sy = fy * fy * (3.0 - 2.0 * fy)
    off = _seed_offset(seed)
    ix = x0.astype(np.int64) + off
    iy = y0.astype(np.int64)
    t0, t1 = _HASH_TABLES
    hx0 = t0[ix & _HASH_MASK]
    hx1 = t0[(ix + 1) & _HASH_MASK]
    n00 = _HASH_VALUES[t1[(hx0 + iy) & _HASH_MASK]]
    n10 = _HASH_VALUES[t1[(hx1 + iy) & _HASH_MASK]]
    n01 = _HASH_VALUES[t1[(hx0 + iy + 1) & _HASH_MASK]]
    n11 = _HASH_VALUES[t1[(hx1 + iy + 1) & _HASH_MASK]]
    top = n00 + (n10 - n00) * sx
    bottom = n01 + (n11 - n01) * sx
    return top + (bottom - top) * sy


def fbm(x, y, seed, octaves=2):
    """Fractal sum of value noise, normalised to roughly [0, 1]."""
    total = np.zeros(np.broadcast_shapes(np.shape(x), np.shape(y)))
    amp, norm, freq = 1.0, 0.0, 1.0
    for o in range(octaves):
        total += amp * noise(x * freq, y * freq, seed + 7919 * o)
        norm += amp
        amp *= 0.5
        freq *= 2.03
    return total / norm
