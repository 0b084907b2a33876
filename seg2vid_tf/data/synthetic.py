r"""Procedural synthetic driving scenes with exact ground-truth optical flow.

This is the embedded default dataset of ``seg2vid_tf``: small forward-driving
street videos with Cityscapes train-id label maps and exact forward optical
flow, written in the Cityscapes *sequence* layout so that the real dataset
readers are exercised by it. Only NumPy and Pillow are used.

Scene model
-----------
Every sequence is a simple 3-D world seen by a pinhole camera (no rotation,
no lens distortion, no antialiasing):

* World axes: ``X`` to the right, ``Y`` *down*, ``Z`` forward. The camera
  sits at ``(0, 0, Zc(t))`` and looks along ``+Z``; the ground is the plane
  ``Y = h`` (``h`` = camera height). A point projects to
  ``x = cx + f * X / (Z - Zc)``, ``y = cy + f * Y / (Z - Zc)``, so the
  principal point ``(cx, cy)`` is the vanishing point of the road. Pixel
  centres are at integer coordinates.
* The camera drives forward: ``Zc(t+1) - Zc(t)`` is a random (slowly
  changing) speed in metres per frame (``speed_variation`` narrows its
  spread across sequences, ``motion_scale`` scales it with every velocity).
* Static geometry: the ground plane (road with lane markings and crosswalks,
  kerbs and sidewalks, grass strips, terrain), two building-facade planes
  ``X = -dL`` and ``X = +dR`` parallel to the road (buildings with window
  grids, walls, fences with see-through gaps, hedges, and gaps through which
  the terrain and trees behind are visible), vertical billboards at fixed
  ``(X, Z)`` (poles and street lights, traffic signs, traffic lights, trees,
  bushes) and the sky at infinity.
* Moving objects (cars, trucks, buses, trams, pedestrians, cyclists and
  motorcyclists) are
  fronto-parallel planar sprites standing on the ground, each with its own
  constant world velocity ``(vx, vz)`` per frame. Parked cars do not move;
  cars overtake from behind and enter at the image border, oncoming traffic
  leaves it, parked cars occlude poles, trees and pedestrians.
* Optionally the ego vehicle's hood (void, id 19) is visible at the bottom;
  it moves with the camera.

Each frame is rendered by ray casting (vectorised with NumPy): the nearest
hit among ground, facades, sprites and sky is found with a depth buffer, and
that surface's procedural texture (value noise, tiles, windows, markings, ...)
is evaluated at the hit's *surface coordinates*. Textures are attached to the
surfaces, so brightness constancy holds (up to the uint8 rounding and the
finite sampling of each pixel). A pixel's colour is the mean of a stratified
2x2 grid of rays over its area (renderer version 3), like a camera pixel or a
frame area-downsampled from a larger one (Cityscapes at 128x256): a render of
the pixel centres alone aliases thin markings and edges, and on aliased frames
a small fraction of the true flow costs the photometric losses more than zero
flow. Labels, depths and the flow come from the ray through the centre.

Ground-truth flow
-----------------
The forward flow at pixel ``p`` of frame ``t`` is computed analytically:
the 3-D point hit at ``p`` is moved with its object's motion to time
``t + 1`` (static points stay put, the camera moves), projected into frame
``t + 1``, and ``flow = projection - p`` (channel 0 = ``u = dx``, channel
1 = ``v = dy``, in pixels). Sky (points at infinity under pure translation)
and the hood have zero flow. A flow vector is *valid* when

1. the moved point is in front of the camera and projects inside frame
   ``t + 1`` (``0 <= x' <= W - 1`` and ``0 <= y' <= H - 1``), and
2. it is not occluded there: the depth buffer of frame ``t + 1`` at the
   rounded target pixel shows the same surface (same plane / sprite) at the
   point's depth, within a tolerance of one pixel's depth change along that
   plane (exact for sprites).

So occlusions and content that leaves the image are marked invalid, and
disoccluded / newly entering content simply has no valid source.

Output layout
-------------
``generate_dataset`` (and the command line) write, for split in
``{train, val}`` and sequence ``S`` (global, unique across splits) and frame
``T`` (``0 .. F-1``)::

    DIR/leftImg8bit_sequence/<split>/<city>/<city>_<S:06d>_<T:06d>_leftImg8bit.png
        RGB 8-bit frames.
    DIR/gtFine_sequence/<split>/<city>/<city>_<S:06d>_<T:06d>_gtFine_labelTrainIds.png
        8-bit single channel Cityscapes train ids 0..18, 19 = void (never 255).
    DIR/flow/<split>/<city>/<city>_<S:06d>_<T:06d>_flow.png
        Forward flow from frame T to frame T+1, T = 0 .. F-2 (KITTI format).
    DIR/synthetic.json
        Generation settings and the per-split sequence lists.

The first ``round(N * (1 - val_fraction))`` sequences (at least one) are the
train split, the rest val (at least one when ``N >= 2`` and
``val_fraction > 0``).

Flow file format (KITTI 2015)
-----------------------------
3-channel 16-bit PNG (colour type 2, bit depth 16): ``R = u * 64 + 2**15``,
``G = v * 64 + 2**15``, ``B = 1`` where the flow is valid else ``0``, with
``u, v`` in pixels (rounded to the nearest 1/64 px and clipped to the uint16
range). Pillow cannot write 16-bit RGB, so :func:`write_kitti_flow` and
:func:`read_kitti_flow` implement a small PNG codec with ``zlib`` and
``struct`` (the reader handles all five PNG filter types).

Command line::

    python -m seg2vid_tf.data.synthetic --output_dir=DIR --num_sequences=N \
        --num_frames=9 --height=128 --width=256 --seed=S \
        [--val_fraction=0.25] [--city=synth]

``--flagfile=FILE`` is supported; flags of other programs in a shared flag
file are ignored.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import struct
import sys
import time
import zlib
from typing import Callable

import numpy as np
from PIL import Image

# ---------------------------------------------------------------------------
# Labels.
# ---------------------------------------------------------------------------
from seg2vid_tf.labels import LABEL_COLORS, NUM_LABELS, TRAIN_ID_NAMES, VOID_ID  # noqa: F401

ROAD, SIDEWALK, BUILDING, WALL, FENCE, POLE, TRAFFIC_LIGHT, TRAFFIC_SIGN = range(8)
VEGETATION, TERRAIN, SKY, PERSON, RIDER, CAR, TRUCK, BUS = range(8, 16)
TRAIN, MOTORCYCLE, BICYCLE = 16, 17, 18

FORMAT_VERSION = 1
# Bumped whenever the same settings render different pixels, so that `make demo` does not
# reuse stale data (data written before the field existed reads as version 1).
RENDERER_VERSION = 5
# Version 3 integrates each pixel over its area (a stratified grid of rays, see
# `_antialiased_rgb`) instead of shading only the ray through its centre. Version 4 gives the
# asphalt a stronger grain at 30-60 cm. Version 5 draws camera speeds from near-stopped to fast
# (`_draw_camera_speed`) and turns the camera gently (a yaw rate per sequence).
# (Version 2 was a rougher asphalt that never shipped in a release.)
SUPERSAMPLING = 2  # Rays per pixel along each axis (SUPERSAMPLING**2 rays per pixel).
FLOW_SCALE = 64.0
FLOW_OFFSET = 2 ** 15

_NEAR = 0.5  # Near clipping distance in metres.
_SID_SKY, _SID_GROUND, _SID_LEFT, _SID_RIGHT, _SID_HOOD = range(5)
_SID_FIRST_SPRITE = 5

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def colorize_labels(labels):
    """Maps train-id label maps to the Cityscapes colour palette.

    Args:
        labels: Integer array ``[..., H, W]`` of train ids 0..19.

    Returns:
        uint8 array ``[..., H, W, 3]``.
    """
    labels = np.asarray(labels)
    return LABEL_COLORS[np.clip(labels, 0, VOID_ID)]


# ---------------------------------------------------------------------------
# Procedural noise (deterministic integer hashing, no global state).
# ---------------------------------------------------------------------------
_HASH_BITS = 12
_HASH_MASK = (1 << _HASH_BITS) - 1
# Fixed tables (independent of any user seed): a permutation and uniform values.
_HASH_TABLES = np.random.default_rng(0x5E62F1D).permuted(
    np.tile(np.arange(1 << _HASH_BITS, dtype=np.int64), (2, 1)), axis=1)
_HASH_VALUES = np.random.default_rng(0xC0FFEE).random(1 << _HASH_BITS)


def _seed_offset(seed):
    seed = np.asarray(seed, dtype=np.int64)
    return (seed * 40503 + (seed >> 12) * 7919) & _HASH_MASK


def _hash01(seed, *ints):
    """Uniform [0, 1) hash of integer lattice coordinates (arrays broadcast).

    A chained permutation-table hash (as in Perlin noise), periodic with
    period 4096 in every coordinate. ``seed`` may be an int or an integer
    array broadcasting with ``ints``.
    """
    h = _seed_offset(seed)
    for i, v in enumerate(ints):
        h = _HASH_TABLES[i & 1][(h + np.asarray(v, dtype=np.int64)) & _HASH_MASK]
    return _HASH_VALUES[h]


def _noise(x, y, seed):
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


def _fbm(x, y, seed, octaves=2):
    """Fractal sum of value noise, normalised to roughly [0, 1]."""
    total = np.zeros(np.broadcast_shapes(np.shape(x), np.shape(y)))
    amp, norm, freq = 1.0, 0.0, 1.0
    for o in range(octaves):
        total += amp * _noise(x * freq, y * freq, seed + 7919 * o)
        norm += amp
        amp *= 0.5
        freq *= 2.03
    return total / norm


def _rgb(*c):
    return np.array(c, dtype=np.float64)


# ---------------------------------------------------------------------------
# Scene description.
# ---------------------------------------------------------------------------
_FACADE_GAP, _FACADE_BUILDING, _FACADE_WALL, _FACADE_FENCE, _FACADE_HEDGE = range(5)


@dataclasses.dataclass
class _Facade:
    """The segments of one facade plane ``X = side * dist``."""

    side: int
    dist: float
    start: np.ndarray      # [S] segment start Z (segment i ends at start[i+1]).
    kind: np.ndarray       # [S] _FACADE_* codes.
    height: np.ndarray     # [S] metres.
    color: np.ndarray      # [S, 3] base colour.
    window_color: np.ndarray  # [S, 3].
    floor_h: np.ndarray    # [S] floor height (buildings) / block size (walls).
    win_period: np.ndarray  # [S] window spacing along Z.
    win_w: np.ndarray      # [S] window width fraction.
    win_h: np.ndarray      # [S] window height fraction.
    shop: np.ndarray       # [S] bool: ground floor shop front.
    seed: np.ndarray       # [S] int texture seeds.


@dataclasses.dataclass
class _Sprite:
    """A fronto-parallel planar object standing on the ground."""

    kind: str
    x: float      # World X of the sprite origin at frame 0.
    z: float      # World Z (depth plane) at frame 0.
    vx: float     # Metres per frame.
    vz: float
    umin: float   # Horizontal extent relative to x (metres).
    umax: float
    amax: float   # Height (metres above ground).
    shade: Callable
    params: dict


@dataclasses.dataclass
class _Scene:
    height: int
    width: int
    num_frames: int
    f: float
    cx: float
    cy: float
    cam_h: float
    cam_z: np.ndarray        # [F] camera Z per frame.
    cam_x: np.ndarray        # [F] camera X per frame (0 when driving straight).
    heading: np.ndarray      # [F] yaw per frame, radians (positive turns +Z towards +X).
    yaw_rate: float          # Radians per frame.
    seed: int                # Texture seed.
    gain: np.ndarray         # [3] global illumination tint.
    road_l: float            # Road spans road_l .. road_r (X).
    road_r: float
    lane_w: float
    lanes_l: int             # Oncoming lanes (left of the centre line).
    lanes_r: int             # Lanes in the driving direction.
    strip: tuple             # (left, right) grass-strip widths (0 = none).
    walk: tuple              # (left, right) sidewalk widths.
    road_color: np.ndarray
    walk_color: np.ndarray
    grass_color: np.ndarray
    tile: float
    center_line: str         # "yellow_double", "white_dashed", "white_solid".
    crosswalks: np.ndarray   # [K] Z starts of crosswalks (4 m long).
    facades: tuple           # (left _Facade, right _Facade).
    sprites: list
    sky_top: np.ndarray
    sky_horizon: np.ndarray
    cloudiness: float
    hood_rows: int
    hood_color: np.ndarray


# ---------------------------------------------------------------------------
# Textures of the static world.
# ---------------------------------------------------------------------------
def _shade_sky(scene, dxr, dyr):
    """Sky colour from the ray direction (the sky is at infinity)."""
    elev = np.clip(-dyr / 0.9, 0.0, 1.0)[..., None]
    rgb = scene.sky_horizon * (1.0 - elev) + scene.sky_top * elev
    if scene.cloudiness > 0:
        # Clouds on a virtual dome, a function of the direction only.
        inv = 1.0 / np.maximum(-dyr + 0.06, 0.02)
        cu = dxr * inv * 0.9
        cv = inv * 0.9
        n = _fbm(cu, cv, scene.seed + 11, octaves=3)
        c = np.clip((n - (1.0 - scene.cloudiness)) * 3.0, 0.0, 1.0)[..., None]
        rgb = rgb * (1.0 - 0.8 * c) + _rgb(236, 238, 242) * 0.8 * c
    return rgb


def _shade_ground(scene, X, Z):
    """Texture and label of the ground plane at world (X, Z)."""
    n = X.shape[0]
    rgb = np.empty((n, 3))
    lab = np.full(n, TERRAIN, np.uint8)
    s = scene.seed
    fine = _noise(X * 2.5, Z * 2.5, s + 101) - 0.5
    coarse = _noise(X * 0.3, Z * 0.3, s + 102) - 0.5

    # Terrain / grass everywhere by default.
    g = scene.grass_color + (fine * 26 + coarse * 30)[:, None] * _rgb(0.8, 1.0, 0.5)
    rgb[:] = g

    # Sidewalks, grass strips and kerbs, per side.
    for side, edge, strip, walk in ((-1, scene.road_l, scene.strip[0], scene.walk[0]),
                                    (1, scene.road_r, scene.strip[1], scene.walk[1])):
        out = (X - edge) * side  # distance outward from the road edge
        kerb = (out >= 0) & (out < 0.2)
        walk_in = (out >= 0.2 + strip) & (out < 0.2 + strip + walk)
        if strip > 0:
            # A second kerb between the grass strip and the sidewalk.
            kerb2 = (out >= 0.2 + strip) & (out < 0.3 + strip)
        else:
            kerb2 = np.zeros_like(kerb)
        lab[kerb | walk_in] = SIDEWALK
        tx = np.floor(X[walk_in] / scene.tile)
        tz = np.floor(Z[walk_in] / scene.tile)
        tv = _hash01(s + 103 + side, tx, tz) - 0.5
        fx = X[walk_in] / scene.tile - tx
        fz = Z[walk_in] / scene.tile - tz
        grout = (np.minimum(fx, fz) < 0.05 / scene.tile)
        c = scene.walk_color + (tv * 16 + fine[walk_in] * 8 - grout * 14)[:, None]
        rgb[walk_in] = c
        kc = _rgb(168, 166, 160) + (fine[kerb | kerb2] * 10)[:, None]
        rgb[kerb | kerb2] = kc

    # Road.
    road = (X >= scene.road_l) & (X <= scene.road_r)
    lab[road] = ROAD
    Xr = X[road]
    Zr = Z[road]
    # Asphalt: grain at 30 cm and 60 cm, metre-scale patches and slow wear, so that its motion
    # is visible (renderer 4: the 30 cm grain is new and the 60 cm one twice as strong).
    patches = _noise(X[road] * 0.8, Z[road] * 0.8, s + 104) - 0.5
    stains = _noise(X[road] * 1.7, Z[road] * 1.7, s + 105) - 0.5
    grain = _noise(X[road] * 3.3, Z[road] * 3.3, s + 106) - 0.5
    c = scene.road_color + (fine[road] * 5 + grain * 40 + stains * 56 + patches * 24
                            + coarse[road] * 14)[:, None]
    white = _rgb(208, 208, 200)
    yellow = _rgb(214, 176, 62)
    lw = 0.17  # marking width (metres)
    mark = np.zeros(Xr.shape, bool)
    # Edge lines.
    edge = (np.abs(Xr - scene.road_l - 0.3) < lw / 2) | (np.abs(Xr - scene.road_r + 0.3) < lw / 2)
    mark_color = np.tile(white, (Xr.shape[0], 1))
    # Centre line between the two directions.
    xc = -scene.lane_w / 2.0
    if scene.center_line == "yellow_double":
        centre = (np.abs(Xr - xc - 0.16) < lw / 2) | (np.abs(Xr - xc + 0.16) < lw / 2)
        mark_color[centre] = yellow
    elif scene.center_line == "white_solid":
        centre = np.abs(Xr - xc) < lw / 2
    else:
        centre = (np.abs(Xr - xc) < lw / 2) & (np.mod(Zr, 9.0) < 3.0)
    # Dashed separators between lanes of the same direction.
    sep = np.zeros(Xr.shape, bool)
    for k in range(1, scene.lanes_r):
        sep |= (np.abs(Xr - (k - 0.5) * scene.lane_w) < lw / 2) & (np.mod(Zr + 1.3, 9.0) < 3.0)
    for k in range(1, scene.lanes_l):
        sep |= (np.abs(Xr + (k + 0.5) * scene.lane_w) < lw / 2) & (np.mod(Zr + 4.1, 9.0) < 3.0)
    mark = edge | centre | sep
    # Crosswalks: stripes along Z, 4 m long, 0.5 m wide, period 1 m across X.
    for zc in scene.crosswalks:
        cw = (Zr >= zc) & (Zr < zc + 4.0) & (np.mod(Xr, 1.0) < 0.5) & \
            (Xr > scene.road_l + 0.5) & (Xr < scene.road_r - 0.5)
        mark |= cw
        mark_color[cw] = white
        # Stop line in front of the crosswalk for our direction.
        stop = (Zr >= zc - 1.2) & (Zr < zc - 0.8) & (Xr > xc) & (Xr < scene.road_r - 0.3)
        mark |= stop
        mark_color[stop] = white
    wear = (fine[road] * 18)[:, None]
    c[mark] = mark_color[mark] + wear[mark]
    rgb[road] = c
    return rgb, lab


def _facade_presence(fac, idx, Z, hgt):
    """Whether the facade plane is solid at (Z, hgt); idx = segment indices."""
    kind = fac.kind[idx]
    height = fac.height[idx]
    solid = (hgt >= 0) & (kind != _FACADE_GAP)
    top = height.copy()
    hedge = kind == _FACADE_HEDGE
    if np.any(hedge):
        top[hedge] += 0.5 * (_noise(Z[hedge] * 1.3, 0.0, 77) - 0.5)
    solid &= hgt <= top
    fence = kind == _FACADE_FENCE
    if np.any(fence):
        zf = Z[fence]
        hf = hgt[fence]
        bars = np.mod(zf, 0.3) < 0.12
        rails = (np.abs(hf - 0.25) < 0.06) | (hf > height[fence] - 0.12)
        solid[fence] &= bars | rails
    return solid


def _shade_facade(scene, fac, idx, Z, hgt):
    """Texture and label of facade segments at (Z, hgt)."""
    n = Z.shape[0]
    rgb = np.empty((n, 3))
    lab = np.empty(n, np.uint8)
    kind = fac.kind[idx]
    seed = fac.seed[idx]
    base = fac.color[idx]
    s = scene.seed

    # Buildings.
    b = kind == _FACADE_BUILDING
    if np.any(b):
        zb, hb, ib = Z[b], hgt[b], idx[b]
        lab[b] = BUILDING
        grain = _noise(zb * 2.0, hb * 2.0, s + 201) - 0.5
        blot = _noise(zb * 0.35, hb * 0.35, s + 202) - 0.5
        col = base[b] * (1.0 + 0.10 * grain + 0.16 * blot)[:, None]
        fh = fac.floor_h[ib]
        floor = np.floor(hb / fh)
        fy = hb / fh - floor
        start = fac.start[ib]
        seg_len = fac.start[ib + 1] - start
        period = fac.win_period[ib]
        nwin = np.maximum(np.floor((seg_len - 1.0) / period), 1.0)
        off = start + 0.5 * (seg_len - nwin * period)
        wz = (zb - off) / period
        wi = np.floor(wz)
        fx = wz - wi
        top = fac.height[ib]
        in_cols = (wi >= 0) & (wi < nwin)
        win = in_cols & (floor >= 1) & (np.abs(fx - 0.5) < fac.win_w[ib] / 2) & \
            (np.abs(fy - 0.55) < fac.win_h[ib] / 2) & (hb < top - 1.0)
        # Ground floor: shop fronts (wide windows) or doors.
        shop = fac.shop[ib]
        gwin = in_cols & (floor == 0) & shop & (np.abs(fx - 0.5) < 0.42) & (fy > 0.12) & (fy < 0.78)
        door = in_cols & (floor == 0) & ~shop & (np.abs(fx - 0.5) < 0.18) & (fy < 0.7) & \
            (np.mod(wi, 3) == 1)
        # Horizontal cornice at the top and a darker band between floors.
        cornice = hb > top - 0.45
        band = (fy < 0.06) & (floor >= 1)
        col[cornice] *= 0.72
        col[band] *= 0.88
        # Shop ground floor in a different tone.
        col[(floor == 0) & shop & ~gwin] *= 0.8
        lit = _hash01(seed[b], wi, floor)
        glass = fac.window_color[ib] * (0.75 + 0.5 * fy)[:, None]
        glass = np.where((lit > 0.9)[:, None], _rgb(232, 196, 120) * (0.8 + 0.2 * fy)[:, None], glass)
        glass = glass * (0.85 + 0.3 * lit)[:, None]
        wmask = win | gwin
        col[wmask] = glass[wmask]
        col[door] = _rgb(70, 52, 40) * (0.8 + 0.3 * fy[door])[:, None]
        rgb[b] = col

    # Walls: stone blocks with grout.
    w = kind == _FACADE_WALL
    if np.any(w):
        zw, hw, iw = Z[w], hgt[w], idx[w]
        lab[w] = WALL
        bs = fac.floor_h[iw]
        row = np.floor(hw / (bs * 0.5))
        zz = zw / bs + 0.5 * np.mod(row, 2)
        col_i = np.floor(zz)
        grout = (np.mod(hw, bs * 0.5) < 0.04) | (zz - col_i < 0.04 / bs)
        v = _hash01(seed[w], col_i, row) - 0.5
        grain = _noise(zw * 3.0, hw * 3.0, s + 203) - 0.5
        col = base[w] * (1.0 + 0.12 * v + 0.08 * grain)[:, None]
        col[grout] *= 0.7
        rgb[w] = col

    # Fences (only the solid bars and rails reach here).
    fe = kind == _FACADE_FENCE
    if np.any(fe):
        lab[fe] = FENCE
        zf = Z[fe]
        shade = 0.75 + 0.5 * np.mod(zf, 0.3) / 0.12
        rgb[fe] = base[fe] * np.clip(shade, 0.7, 1.2)[:, None]

    # Hedges.
    he = kind == _FACADE_HEDGE
    if np.any(he):
        lab[he] = VEGETATION
        zh, hh = Z[he], hgt[he]
        leaf = _noise(zh * 3.5, hh * 3.5, s + 204) - 0.5
        clump = _noise(zh * 0.9, hh * 0.9, s + 205) - 0.5
        col = base[he] * (1.0 + 0.45 * leaf + 0.35 * clump)[:, None]
        col *= (0.75 + 0.25 * np.clip(hh / 2.0, 0, 1))[:, None]
        rgb[he] = col
    return rgb, lab


# ---------------------------------------------------------------------------
# Sprites: each returns (mask, rgb [N, 3], label [N]) for local coordinates
# u (metres to the right of the sprite origin) and a (metres above ground).
# ---------------------------------------------------------------------------
def _round_box(u, a, u0, u1, a0, a1, r):
    """Axis-aligned box with rounded corners of radius r."""
    inside = (u >= u0) & (u <= u1) & (a >= a0) & (a <= a1)
    cu = np.clip(u, u0 + r, u1 - r)
    ca = np.clip(a, a0 + r, a1 - r)
    return inside & ((u - cu) ** 2 + (a - ca) ** 2 <= r * r)


def _sprite_car(u, a, p):
    """A car (or truck / bus) seen from the back or the front."""
    n = u.shape[0]
    w, hb, kind = p["w"], p["h"], p["vehicle"]
    hw = w / 2.0
    rgb = np.zeros((n, 3))
    body_col = p["color"]
    label = {"car": CAR, "truck": TRUCK, "bus": BUS, "tram": TRAIN}[kind]
    lab = np.full(n, label, np.uint8)
    wheel = (np.abs(np.abs(u) - (hw - 0.28)) < 0.16) & (a <= 0.42)
    if kind == "car":
        body_top = 0.56 * hb
        body = _round_box(u, a, -hw, hw, 0.22, body_top, 0.1)
        frac = np.clip((a - body_top) / (hb - body_top), 0, 1)
        cab_hw = hw * (0.93 - 0.2 * frac)
        cabin = (a > body_top - 0.01) & (np.abs(u) <= cab_hw) & _round_box(u, a, -hw, hw, 0.2, hb, 0.2)
        glass = (a > body_top + 0.06) & (a < hb - 0.07) & (np.abs(u) < cab_hw - 0.1)
        mask = wheel | body | cabin
        shade = 0.62 + 0.38 * np.clip(a / body_top, 0, 1)
        rgb[:] = body_col * shade[:, None]
        rgb[cabin] = body_col * 0.92
        light_a = (a > body_top - 0.2) & (a < body_top - 0.06)
    else:
        top = hb
        body = _round_box(u, a, -hw, hw, 0.35, top, 0.15)
        mask = wheel | body
        shade = 0.7 + 0.3 * np.clip(a / top, 0, 1)
        rgb[:] = body_col * shade[:, None]
        if kind in ("bus", "tram"):
            glass = (a > 1.25) & (a < hb - 0.35) & (np.abs(u) < hw - 0.12)
            dest = (a > hb - 0.3) & (a < hb - 0.08) & (np.abs(u) < hw * 0.6)
            rgb[dest] = _rgb(250, 150, 40)
        else:
            glass = np.zeros(n, bool)
            panels = (np.mod(u + hw, 0.6) < 0.04) & (a > 0.8)
            rgb[panels] *= 0.75
        light_a = (a > 0.55) & (a < 0.8)
    g = np.clip((a - 0.4) / max(hb - 0.4, 0.1), 0, 1)
    rgb[glass] = _rgb(46, 58, 72) * (0.75 + 0.6 * g[glass])[:, None]
    bumper = (a >= 0.2) & (a < 0.34) & body
    rgb[bumper] = _rgb(44, 44, 48)
    plate = (np.abs(u) < 0.26) & (a > 0.36) & (a < 0.5)
    rgb[plate] = _rgb(226, 226, 214)
    lights = light_a & (np.abs(u) > hw - 0.34) & (np.abs(u) < hw - 0.06)
    if p["front"]:
        rgb[lights] = _rgb(248, 244, 214)
        grille = (np.abs(u) < hw * 0.42) & (a > 0.5) & light_a
        rgb[grille] = _rgb(30, 30, 34)
    else:
        rgb[lights] = _rgb(196, 28, 24)
    tyre = wheel & ~(body | (a > 0.42))
    rgb[wheel & (a <= 0.22)] = _rgb(22, 22, 24)
    rgb[tyre] = _rgb(22, 22, 24)
    return mask, rgb, lab


def _sprite_person(u, a, p):
    """A pedestrian (label person) or the upper body of a rider."""
    n = u.shape[0]
    H = p["h"]
    s = H / 1.75
    rgb = np.zeros((n, 3))
    lab = np.full(n, p.get("label", PERSON), np.uint8)
    leg = (np.abs(np.abs(u) - 0.085 * s) < 0.068 * s) & (a < 0.48 * H) & (a >= p.get("leg0", 0.0))
    t0, t1 = 0.47 * H, 0.815 * H
    tf = np.clip((a - t0) / (t1 - t0), 0, 1)
    half = 0.15 * s + 0.075 * s * tf
    torso = (a >= t0) & (a < t1) & (np.abs(u) < half)
    sleeve = torso & (np.abs(u) > half - 0.065 * s)
    hand = (a >= 0.43 * H) & (a < t0) & (np.abs(np.abs(u) - (0.15 * s - 0.03 * s)) < 0.035 * s)
    neck = (a >= t1) & (a < 0.845 * H) & (np.abs(u) < 0.045 * s)
    hc = 0.91 * H
    head = (u / (0.085 * s)) ** 2 + ((a - hc) / (0.105 * s)) ** 2 <= 1.0
    mask = leg | torso | hand | neck | head
    rgb[leg] = p["trousers"] * (0.75 + 0.35 * (a[leg] / (0.48 * H)))[:, None]
    shoe = leg & (a < 0.045 * H)
    rgb[shoe] = _rgb(30, 28, 28)
    rgb[torso] = p["shirt"] * (0.8 + 0.25 * tf[torso])[:, None]
    rgb[sleeve] = p["shirt"] * 0.78
    rgb[hand | neck] = p["skin"] * 0.9
    rgb[head] = p["skin"]
    hair = head & ((a > hc + 0.03 * s) | p["back"])
    rgb[hair] = p["hair"]
    if "bag" in p:
        bag = (u > half * 0.2) & (u < half + 0.04 * s) & (a > 0.5 * H) & (a < 0.68 * H)
        rgb[bag & mask] = p["bag"]
    return mask, rgb, lab


def _sprite_cyclist(u, a, p):
    """A rider (label rider) on a bicycle or motorcycle seen from behind."""
    n = u.shape[0]
    moto = p["moto"]
    tw = 0.07 if moto else 0.035
    wheel_h = 0.62 if moto else 0.68
    rgb = np.zeros((n, 3))
    lab = np.full(n, MOTORCYCLE if moto else BICYCLE, np.uint8)
    tyre = (np.abs(u) < tw) & (a < wheel_h)
    frame = (np.abs(u) < 0.025) & (a >= wheel_h) & (a < 0.9)
    bar = (np.abs(u) < 0.3) & (a > 0.98) & (a < 1.03)
    if moto:
        frame = (np.abs(u) < 0.2) & (a >= 0.35) & (a < 0.95)
    bike = tyre | frame | bar
    rgb[tyre] = _rgb(24, 24, 26)
    rgb[frame | bar] = p["bike"]
    rider_p = dict(p["rider"])
    rider_p.update(h=1.75, label=RIDER, leg0=0.45)
    rmask, rrgb, rlab = _sprite_person(u, a + 0.05, rider_p)
    rmask &= a > 0.5
    mask = bike | rmask
    rgb[rmask] = rrgb[rmask]
    lab[rmask] = RIDER
    # The bicycle is in front of the rider's legs.
    rgb[bike] = np.where(tyre[bike, None], _rgb(24, 24, 26), p["bike"])
    lab[bike] = MOTORCYCLE if moto else BICYCLE
    return mask, rgb, lab


def _metal(u, width, color):
    """Cylindrical shading across a pole of the given width."""
    t = np.clip(np.abs(u) / (width / 2.0), 0, 1)
    return color * (1.05 - 0.45 * t * t)[:, None]


def _sprite_pole(u, a, p):
    """A pole or a street light with an arm towards the road."""
    n = u.shape[0]
    pw, ph = p["w"], p["h"]
    rgb = np.zeros((n, 3))
    lab = np.full(n, POLE, np.uint8)
    taper = pw * (1.0 - 0.35 * np.clip(a / ph, 0, 1))
    pole = (np.abs(u) <= taper / 2) & (a <= ph)
    mask = pole.copy()
    rgb[pole] = _metal(u[pole], pw, p["color"])
    if p["arm"] != 0:
        d = p["arm"]
        ext = u * d
        arm = (ext >= 0) & (ext <= p["arm_len"]) & (np.abs(a - (ph - 0.1)) < 0.06)
        lamp = (np.abs(ext - p["arm_len"]) < 0.28) & (a > ph - 0.32) & (a < ph - 0.05)
        mask |= arm | lamp
        rgb[arm] = p["color"] * 0.9
        rgb[lamp] = p["color"] * 0.75
        bulb = lamp & (a < ph - 0.24)
        rgb[bulb] = _rgb(230, 228, 210)
    return mask, rgb, lab


def _sprite_sign(u, a, p):
    """A traffic sign: plate (traffic sign) on a thin pole (pole)."""
    n = u.shape[0]
    ph, r = p["h"], p["r"]
    rgb = np.zeros((n, 3))
    lab = np.full(n, POLE, np.uint8)
    pole = (np.abs(u) < 0.04) & (a <= ph)
    rgb[pole] = _metal(u[pole], 0.08, _rgb(150, 152, 156))
    ac = ph + r
    du, da = u, a - ac
    shape = p["shape"]
    if shape == "circle":
        rr = np.sqrt(du ** 2 + da ** 2) / r
        plate = rr <= 1.0
        inner = rr <= 0.78
        col = np.where(inner[:, None], _rgb(240, 240, 236), _rgb(200, 30, 36))
        bar = inner & (np.abs(da) < 0.12 * r) & (np.abs(du) < 0.6 * r) & p["bar"]
        col[bar] = _rgb(200, 30, 36) if p["bar_red"] else _rgb(20, 20, 20)
    elif shape == "triangle":
        # Upward pointing triangle with a red border.
        t = (da + r) / (2 * r)
        plate = (t >= 0) & (t <= 1) & (np.abs(du) <= r * (1 - t))
        inner = (t >= 0.16) & (t <= 0.8) & (np.abs(du) <= r * (1 - t) - 0.1 * r)
        col = np.where(inner[:, None], _rgb(246, 240, 220), _rgb(200, 30, 36))
    else:
        plate = (np.abs(du) <= r) & (np.abs(da) <= r)
        inner = (np.abs(du) <= 0.85 * r) & (np.abs(da) <= 0.85 * r)
        col = np.where(inner[:, None], p["plate"], _rgb(238, 238, 238))
        arrow = inner & (np.abs(du) < 0.12 * r) & (da < 0.4 * r)
        head = inner & (da >= 0.3 * r) & (np.abs(du) < (0.75 * r - da) * 0.8)
        col[arrow | head] = _rgb(238, 238, 238)
    mask = pole | plate
    rgb[plate] = col[plate]
    lab[plate] = TRAFFIC_SIGN
    return mask, rgb, lab


def _sprite_traffic_light(u, a, p):
    """A traffic light: housing (traffic light) on a pole (pole)."""
    n = u.shape[0]
    ph = p["h"]
    rgb = np.zeros((n, 3))
    lab = np.full(n, POLE, np.uint8)
    pole = (np.abs(u) < 0.07) & (a <= ph)
    rgb[pole] = _metal(u[pole], 0.14, _rgb(90, 92, 96))
    box = _round_box(u, a, -0.2, 0.2, ph, ph + 0.95, 0.06)
    rgb[box] = _rgb(34, 36, 34)
    lab[box] = TRAFFIC_LIGHT
    lamp_cols = (_rgb(230, 40, 30), _rgb(240, 170, 30), _rgb(40, 220, 110))
    for k in range(3):
        ac = ph + 0.78 - 0.3 * k
        lamp = (u ** 2 + (a - ac) ** 2) <= 0.1 ** 2
        on = k == p["state"]
        rgb[lamp] = lamp_cols[k] * (1.0 if on else 0.25)
    return pole | box, rgb, lab


def _sprite_tree(u, a, p):
    """A tree (trunk + irregular noisy crown) or a bush (crown only)."""
    n = u.shape[0]
    rgb = np.zeros((n, 3))
    lab = np.full(n, VEGETATION, np.uint8)
    s = p["seed"]
    rx, ry, ac = p["rx"], p["ry"], p["ac"]
    r = np.sqrt((u / rx) ** 2 + ((a - ac) / ry) ** 2)
    edge = _noise(u * 1.4, a * 1.4, s) - 0.5
    crown = (r <= 0.9 + 0.45 * edge) & (a >= 0)
    trunk = (np.abs(u) <= p["tw"] / 2) & (a <= p["th"]) & (p["tw"] > 0)
    trunk &= ~crown
    mask = crown | trunk
    leaf = _noise(u * 4.0, a * 4.0, s + 1) - 0.5
    clump = _noise(u * 1.1, a * 1.1, s + 2) - 0.5
    light = 0.72 + 0.28 * np.clip((a - ac + ry) / (2 * ry), 0, 1)
    col = p["color"] * (light * (1.0 + 0.5 * leaf + 0.45 * clump))[:, None]
    rgb[crown] = col[crown]
    bark = _noise(u * 6.0, a * 1.5, s + 3) - 0.5
    rgb[trunk] = _rgb(92, 70, 50) * (1.0 + 0.3 * bark[trunk])[:, None] * \
        (0.8 + 0.2 * np.clip(u[trunk] / p["tw"] + 0.5, 0, 1))[:, None]
    return mask, rgb, lab


# ---------------------------------------------------------------------------
# Scene sampling.
# ---------------------------------------------------------------------------
_CAR_COLORS = [(235, 235, 232), (170, 172, 176), (40, 42, 46), (150, 28, 30),
               (34, 62, 130), (90, 96, 104), (26, 80, 60), (200, 150, 40),
               (110, 24, 40), (60, 110, 170)]
_BUILDING_COLORS = [(196, 180, 150), (170, 96, 74), (150, 150, 146), (214, 206, 190),
                    (132, 110, 90), (186, 160, 120), (120, 126, 136), (200, 190, 170),
                    (160, 130, 110), (100, 96, 92)]
_SKIN = [(232, 190, 160), (200, 150, 110), (150, 100, 70), (100, 66, 46)]
_CLOTHES = [(30, 40, 80), (180, 30, 40), (40, 40, 44), (220, 220, 214), (60, 110, 60),
            (200, 160, 60), (90, 60, 120), (120, 120, 124), (30, 90, 160), (160, 90, 50)]
_HAIR = [(30, 24, 20), (90, 60, 30), (170, 140, 90), (120, 120, 118)]


def _pick(rng, palette, jitter=10.0):
    c = np.array(palette[rng.integers(len(palette))], np.float64)
    return np.clip(c + rng.uniform(-jitter, jitter, 3), 0, 255)


def _make_facade(rng, side, dist, z_end):
    starts, kinds, heights, colors, wcols = [], [], [], [], []
    floor_h, period, ww, wh, shop, seeds = [], [], [], [], [], []
    z = -60.0
    low_run = 0
    while z < z_end:
        r = rng.random()
        if r < 0.74 or low_run >= 2:
            kind, length = _FACADE_BUILDING, rng.uniform(8, 28)
            height = rng.uniform(7, 30)
            color = _pick(rng, _BUILDING_COLORS, 14)
        elif r < 0.82:
            kind, length = _FACADE_HEDGE, rng.uniform(5, 16)
            height = rng.uniform(1.0, 2.4)
            color = np.array([60, 100, 46]) * rng.uniform(0.8, 1.2, 3)
        elif r < 0.88:
            kind, length = _FACADE_WALL, rng.uniform(5, 14)
            height = rng.uniform(1.4, 3.0)
            color = _pick(rng, [(160, 156, 150), (176, 150, 120), (120, 116, 110)], 10)
        elif r < 0.94:
            kind, length = _FACADE_FENCE, rng.uniform(5, 14)
            height = rng.uniform(1.2, 2.0)
            color = _pick(rng, [(40, 70, 50), (90, 70, 50), (70, 72, 76)], 8)
        else:
            kind, length = _FACADE_GAP, rng.uniform(4, 12)
            height = 0.0
            color = np.zeros(3)
        low_run = 0 if kind == _FACADE_BUILDING else low_run + 1
        starts.append(z)
        kinds.append(kind)
        heights.append(height)
        colors.append(color)
        wcols.append(_pick(rng, [(50, 62, 78), (70, 84, 96), (40, 46, 52), (90, 110, 126)], 6))
        floor_h.append(rng.uniform(3.0, 3.8) if kind == _FACADE_BUILDING else rng.uniform(0.5, 0.9))
        period.append(rng.uniform(2.4, 4.2))
        ww.append(rng.uniform(0.38, 0.62))
        wh.append(rng.uniform(0.45, 0.65))
        shop.append(rng.random() < 0.5)
        seeds.append(int(rng.integers(1 << 30)))
        z += length
    # A last, very long building closes the street at infinity.
    starts += [z, 1e7]
    kinds += [_FACADE_BUILDING, _FACADE_GAP]
    heights += [rng.uniform(10, 30), 0.0]
    colors += [_pick(rng, _BUILDING_COLORS, 14), np.zeros(3)]
    wcols += [np.array([60, 70, 80.0])] * 2
    floor_h += [3.4, 3.4]
    period += [3.0, 3.0]
    ww += [0.5, 0.5]
    wh += [0.55, 0.55]
    shop += [False, False]
    seeds += [int(rng.integers(1 << 30)), 0]
    a = np.asarray
    return _Facade(side=side, dist=dist, start=a(starts, np.float64), kind=a(kinds, np.int64),
                   height=a(heights, np.float64), color=a(colors, np.float64),
                   window_color=a(wcols, np.float64), floor_h=a(floor_h, np.float64),
                   win_period=a(period, np.float64), win_w=a(ww, np.float64),
                   win_h=a(wh, np.float64), shop=a(shop, bool), seed=a(seeds, np.int64))


def _person_params(rng, back):
    p = dict(h=rng.uniform(1.55, 1.92), shirt=_pick(rng, _CLOTHES, 14),
             trousers=_pick(rng, _CLOTHES, 10) * 0.7, skin=_pick(rng, _SKIN, 8),
             hair=_pick(rng, _HAIR, 8), back=bool(back))
    if rng.random() < 0.3:
        p["bag"] = _pick(rng, _CLOTHES, 10) * 0.6
    return p


def _add_vehicle(sprites, rng, x, z, vx, vz, front, allow_big=True, tram=False):
    r = rng.random() if allow_big else 1.0
    if tram:
        vehicle, w, h = "tram", rng.uniform(2.6, 2.7), rng.uniform(3.3, 3.6)
        color = _pick(rng, [(230, 226, 210), (200, 40, 40), (40, 120, 170), (240, 200, 40)], 8)
    elif r < 0.08:
        vehicle, w, h = "bus", rng.uniform(2.45, 2.55), rng.uniform(3.0, 3.3)
        color = _pick(rng, [(200, 40, 40), (230, 200, 40), (40, 90, 170), (236, 236, 230)], 10)
    elif r < 0.18:
        vehicle, w, h = "truck", rng.uniform(2.3, 2.5), rng.uniform(2.8, 3.6)
        color = _pick(rng, [(230, 230, 226), (60, 80, 130), (150, 40, 30), (120, 124, 128)], 10)
    else:
        vehicle, w, h = "car", rng.uniform(1.65, 1.9), rng.uniform(1.35, 1.6)
        color = _pick(rng, _CAR_COLORS, 12)
    p = dict(w=w, h=h, vehicle=vehicle, color=color, front=bool(front))
    sprites.append(_Sprite("vehicle", x, z, vx, vz, -w / 2, w / 2, h, _sprite_car, p))


# Camera speeds in metres per frame (before `motion_scale`): NEAR_STOPPED_FRACTION of the
# sequences creep at 0.02..0.15 (queueing at a light), the rest drive at 0.3..1.4.
NEAR_STOPPED_FRACTION = 0.15
_CREEP_SPEEDS = (0.02, 0.15)
_DRIVING_SPEEDS = (0.3, 1.4)
_MEAN_CAMERA_SPEED = (NEAR_STOPPED_FRACTION * sum(_CREEP_SPEEDS) / 2
                      + (1 - NEAR_STOPPED_FRACTION) * sum(_DRIVING_SPEEDS) / 2)
# Half the sequences drive straight; the others follow a gentle curve of this curvature range
# (1/m: radii of 300 m down to 40 m), turning left or right.
STRAIGHT_FRACTION = 0.5
_CURVATURES = (1.0 / 300.0, 1.0 / 40.0)


def _draw_camera_speed(u):
    """Maps one uniform draw `u` in [0, 1) to a start speed (metres per frame)."""
    if u < NEAR_STOPPED_FRACTION:
        lo, hi = _CREEP_SPEEDS
        return lo + (hi - lo) * u / NEAR_STOPPED_FRACTION
    lo, hi = _DRIVING_SPEEDS
    return lo + (hi - lo) * (u - NEAR_STOPPED_FRACTION) / (1.0 - NEAR_STOPPED_FRACTION)


def _camera_speeds(speed0, accel, num_frames):
    """Speed of each frame transition: `speed0` changing by `accel` per frame, never reversing."""
    return np.maximum(speed0 + accel * np.arange(max(num_frames - 1, 1)), 0.0)


def _camera_path(speeds, curvature, num_frames):
    """Camera X, Z and heading per frame for a path of `curvature` (1/m) driven at `speeds`.

    The heading turns by `curvature * speed` per frame (a car's yaw rate is its speed times the
    curvature of its path: a stopped car does not turn); each step moves along the chord of its
    arc.
    """
    turn = curvature * speeds
    heading = np.concatenate([[0.0], np.cumsum(turn)])
    middle = heading[:-1] + 0.5 * turn
    cam_x = np.concatenate([[0.0], np.cumsum(speeds * np.sin(middle))])
    cam_z = np.concatenate([[0.0], np.cumsum(speeds * np.cos(middle))])
    return cam_x[:num_frames], cam_z[:num_frames], heading[:num_frames]


def _sample_scene(rng, num_frames, height, width, motion_scale=1.0, speed_variation=1.0):
    """Draws a random street scene (camera, layout, objects).

    ``motion_scale`` multiplies every velocity (camera and objects) after all
    random draws, like a higher (< 1) or lower (> 1) frame rate.
    ``speed_variation`` scales how far each sequence's camera speed (and its
    acceleration) lies from the mean speed, also after all draws: 1 keeps the
    drawn speeds (0.02 to 1.4 m per frame, see `_draw_camera_speed`), 0 drives
    every sequence at the mean. The scene layout depends on neither.
    """
    seed = int(rng.integers(1 << 30))
    f = width * rng.uniform(0.68, 0.86)
    cx = (width - 1) / 2.0 + rng.uniform(-0.04, 0.04) * width
    cy = height * rng.uniform(0.38, 0.47)
    cam_h = rng.uniform(1.25, 1.65)
    speed0 = _draw_camera_speed(rng.random())
    accel = rng.uniform(-0.04, 0.04)
    speeds = _camera_speeds(speed0, accel, num_frames)
    z_end = float(np.sum(speeds[:num_frames - 1]))

    lane_w = rng.uniform(3.0, 3.6)
    lanes_r = int(rng.integers(1, 3))
    lanes_l = int(rng.integers(1, 3))
    road_r = (lanes_r - 0.5) * lane_w
    road_l = -(lanes_l + 0.5) * lane_w
    strip = tuple(float(rng.uniform(1.0, 2.2)) if rng.random() < 0.35 else 0.0 for _ in range(2))
    walk = tuple(float(rng.uniform(2.0, 4.5)) for _ in range(2))
    dist_l = -road_l + 0.2 + strip[0] + walk[0]
    dist_r = road_r + 0.2 + strip[1] + walk[1]
    facades = (_make_facade(rng, -1, dist_l, z_end + 1200.0),
               _make_facade(rng, 1, dist_r, z_end + 1200.0))
    crosswalks = np.array([rng.uniform(12, 60)]) if rng.random() < 0.45 else np.zeros(0)

    sprites = []
    edges = ((-1, road_l, strip[0], walk[0], dist_l), (1, road_r, strip[1], walk[1], dist_r))
    z_far = z_end + 140.0

    # Street lights and poles along the kerbs.
    for side, edge, st, wk, dist in edges:
        spacing = rng.uniform(14, 28)
        z = rng.uniform(-spacing, spacing)
        x = edge + side * (0.2 + st / 2 if st > 0 else 0.55)
        while z < z_far:
            arm = -side if rng.random() < 0.7 else 0
            p = dict(w=rng.uniform(0.14, 0.22), h=rng.uniform(5.5, 8.5), arm=arm,
                     arm_len=rng.uniform(1.2, 2.0),
                     color=_pick(rng, [(120, 122, 126), (70, 72, 70), (150, 150, 146)], 8))
            umin, umax = (-p["arm_len"] - 0.3, 0.2) if arm < 0 else (-0.2, p["arm_len"] + 0.3)
            sprites.append(_Sprite("pole", x, z, 0.0, 0.0, umin, umax, p["h"] + 0.05,
                                   _sprite_pole, p))
            z += spacing * rng.uniform(0.9, 1.1)

    # Trees along the kerbs (in the grass strip if any) and near the facades.
    for side, edge, st, wk, dist in edges:
        if rng.random() < 0.7:
            spacing = rng.uniform(7, 14)
            z = rng.uniform(-spacing, spacing)
            x = edge + side * (0.2 + st / 2 if st > 0 else 1.0)
            while z < z_far:
                th = rng.uniform(1.8, 3.0)
                rx = rng.uniform(1.3, 2.8)
                ry = rng.uniform(1.4, 3.0)
                p = dict(seed=int(rng.integers(1 << 30)), rx=rx, ry=ry, ac=th + ry * 0.75,
                         tw=rng.uniform(0.22, 0.4), th=th + ry * 0.5,
                         color=np.array([58, 98, 40]) * rng.uniform(0.75, 1.25, 3))
                sprites.append(_Sprite("tree", x + rng.uniform(-0.2, 0.2), z, 0.0, 0.0,
                                       -rx * 1.4, rx * 1.4, th + ry * 2.2, _sprite_tree, p))
                z += spacing * rng.uniform(0.8, 1.25)
        if rng.random() < 0.45:  # Bushes in front of the facade.
            for _ in range(int(rng.integers(2, 7))):
                rx = rng.uniform(0.6, 1.4)
                ry = rng.uniform(0.5, 1.0)
                p = dict(seed=int(rng.integers(1 << 30)), rx=rx, ry=ry, ac=ry * 0.7,
                         tw=0.0, th=0.0, color=np.array([52, 92, 44]) * rng.uniform(0.8, 1.2, 3))
                sprites.append(_Sprite("bush", side * (dist - 0.7), rng.uniform(4, z_far * 0.5),
                                       0.0, 0.0, -rx * 1.4, rx * 1.4, ry * 2.2, _sprite_tree, p))
    # Trees behind the facade gaps and low segments.
    for fac in facades:
        for i in range(fac.kind.shape[0] - 1):  # the last entry is a sentinel
            if fac.kind[i] == _FACADE_BUILDING or fac.start[i] > z_far:
                continue
            for _ in range(int(rng.integers(1, 4))):
                rx = rng.uniform(1.8, 3.5)
                ry = rng.uniform(2.0, 4.0)
                th = rng.uniform(2.0, 4.0)
                p = dict(seed=int(rng.integers(1 << 30)), rx=rx, ry=ry, ac=th + ry * 0.8,
                         tw=rng.uniform(0.3, 0.5), th=th + ry * 0.5,
                         color=np.array([50, 90, 38]) * rng.uniform(0.75, 1.25, 3))
                z = rng.uniform(fac.start[i], fac.start[i + 1])
                x = fac.side * (fac.dist + rng.uniform(2.0, 8.0))
                sprites.append(_Sprite("tree", x, z, 0.0, 0.0, -rx * 1.4, rx * 1.4,
                                       th + ry * 2.3, _sprite_tree, p))

    # Traffic signs and traffic lights.
    for _ in range(int(rng.integers(2, 6))):
        side, edge = edges[int(rng.integers(2))][:2]
        shape = ("circle", "triangle", "square")[int(rng.integers(3))]
        r = rng.uniform(0.3, 0.42)
        p = dict(h=rng.uniform(2.1, 2.7), r=r, shape=shape, bar=bool(rng.random() < 0.5),
                 bar_red=bool(rng.random() < 0.5),
                 plate=_pick(rng, [(30, 80, 170), (30, 110, 60), (220, 190, 30)], 6))
        sprites.append(_Sprite("sign", edge + side * 0.45, rng.uniform(5, z_end + 70), 0.0, 0.0,
                               -r - 0.05, r + 0.05, p["h"] + 2 * r + 0.05, _sprite_sign, p))
    if rng.random() < 0.5:
        zl = rng.uniform(15, z_end + 60)
        for side, edge in ((-1, road_l), (1, road_r)):
            p = dict(h=rng.uniform(2.6, 3.2), state=int(rng.integers(3)))
            sprites.append(_Sprite("traffic_light", edge + side * 0.4, zl + rng.uniform(-0.5, 0.5),
                                   0.0, 0.0, -0.25, 0.25, p["h"] + 1.0, _sprite_traffic_light, p))

    # Parked cars along the kerbs (they occlude poles, trees and pedestrians).
    parked = []
    for side, edge in ((-1, road_l), (1, road_r)):
        if rng.random() < 0.6:
            parked.append(side)
            z = rng.uniform(2, 8)
            while z < z_end + 70:
                if rng.random() < 0.75:
                    _add_vehicle(sprites, rng, edge - side * 1.15, z, 0.0, 0.0,
                                 front=side < 0, allow_big=False)
                z += rng.uniform(5.2, 9.0)

    speed = float(speeds.mean())
    # Traffic in our direction (ahead of us and overtaking from behind).
    for _ in range(int(rng.integers(1, 4))):
        lane = int(rng.integers(lanes_r))
        x = lane * lane_w + rng.uniform(-0.3, 0.3)
        z = rng.uniform(12, 70)
        _add_vehicle(sprites, rng, x, z, rng.uniform(-0.01, 0.01), speed * rng.uniform(0.55, 1.3),
                     front=False)
    if lanes_r > 1 and rng.random() < 0.6:
        _add_vehicle(sprites, rng, lane_w + rng.uniform(-0.2, 0.2), rng.uniform(-4, 2), 0.0,
                     speed + rng.uniform(0.4, 0.9), front=False, allow_big=False)
    # Oncoming traffic.
    for _ in range(int(rng.integers(1, 5))):
        lane = int(rng.integers(lanes_l))
        x = -(lane + 1) * lane_w + rng.uniform(-0.3, 0.3)
        _add_vehicle(sprites, rng, x, rng.uniform(6, 110), 0.0, -rng.uniform(0.3, 1.2), front=True)
    # Occasionally an oncoming tram (Cityscapes "train") on the centre line.
    if rng.random() < 0.12:
        _add_vehicle(sprites, rng, -lane_w * 1.05, rng.uniform(15, 90), 0.0, -rng.uniform(0.2, 0.6),
                     front=True, tram=True)
    # Cyclists near the right road edge.
    if rng.random() < 0.4:
        moto = bool(rng.random() < 0.3)
        rider = _person_params(rng, back=True)
        p = dict(moto=moto, rider=rider, bike=_pick(rng, _CLOTHES, 10))
        x = road_r - (2.4 if 1 in parked else 0.9)
        sprites.append(_Sprite("cyclist", x, rng.uniform(6, 40), 0.0,
                               rng.uniform(0.15, 0.45) if not moto else speed * rng.uniform(0.7, 1.2),
                               -0.35, 0.35, 1.95, _sprite_cyclist, p))

    # Pedestrians on the sidewalks, a few crossing the road.
    n_ped = int(rng.integers(4, 13))
    for k in range(n_ped):
        side, edge, st, wk, dist = edges[int(rng.integers(2))]
        x = edge + side * rng.uniform(0.5 + st, 0.2 + st + wk - 0.3)
        z = rng.uniform(3, 45) if k < n_ped - 2 else rng.uniform(3, 15)
        vz = rng.choice([-1.0, 1.0]) * rng.uniform(0.03, 0.1) if rng.random() < 0.8 else 0.0
        p = _person_params(rng, back=vz > 0)
        sprites.append(_Sprite("person", x, z, 0.0, vz, -0.35, 0.35, p["h"] + 0.05,
                               _sprite_person, p))
    if rng.random() < 0.3:
        zc = crosswalks[0] + 2.0 if crosswalks.size else rng.uniform(10, 40)
        for _ in range(int(rng.integers(1, 3))):
            p = _person_params(rng, back=False)
            vx = rng.choice([-1.0, 1.0]) * rng.uniform(0.05, 0.1)
            sprites.append(_Sprite("person", rng.uniform(road_l, road_r), zc + rng.uniform(-1.5, 1.5),
                                   vx, 0.0, -0.35, 0.35, p["h"] + 0.05, _sprite_person, p))

    sky_clear = rng.random() < 0.6
    if sky_clear:
        sky_top = np.array([60, 110, 190]) * rng.uniform(0.85, 1.1, 3)
        sky_horizon = np.array([196, 212, 230]) * rng.uniform(0.92, 1.05, 3)
    else:
        grey = rng.uniform(170, 215)
        sky_top = np.array([grey - 30, grey - 22, grey - 12])
        sky_horizon = np.array([grey + 18, grey + 20, grey + 24])
    hood_rows = int(round(height * rng.uniform(0.06, 0.1))) if rng.random() < 0.3 else 0
    curvature = 0.0
    if rng.random() >= STRAIGHT_FRACTION:
        curvature = float(rng.choice([-1.0, 1.0]) * rng.uniform(*_CURVATURES))
    if speed_variation != 1.0:
        # The layout above reaches far beyond the camera's path at any of these speeds.
        speeds = _camera_speeds(_MEAN_CAMERA_SPEED + speed_variation * (speed0 - _MEAN_CAMERA_SPEED),
                                speed_variation * accel, num_frames)
    if motion_scale != 1.0:
        speeds = speeds * motion_scale
        sprites = [dataclasses.replace(sprite, vx=sprite.vx * motion_scale,
                                       vz=sprite.vz * motion_scale) for sprite in sprites]
    cam_x, cam_z, heading = _camera_path(speeds, curvature, num_frames)
    yaw_rate = float(np.mean(np.diff(heading))) if num_frames > 1 else 0.0
    return _Scene(
        height=height, width=width, num_frames=num_frames, f=f, cx=cx, cy=cy, cam_h=cam_h,
        cam_z=cam_z, cam_x=cam_x, heading=heading, yaw_rate=yaw_rate, seed=seed, gain=rng.uniform(0.88, 1.08) * rng.uniform(0.96, 1.04, 3),
        road_l=road_l, road_r=road_r, lane_w=lane_w, lanes_l=lanes_l, lanes_r=lanes_r,
        strip=strip, walk=walk, road_color=np.full(3, rng.uniform(70, 105)) + rng.uniform(-4, 4, 3),
        walk_color=_pick(rng, [(150, 146, 140), (170, 160, 150), (130, 128, 126), (160, 120, 110)], 8),
        grass_color=np.array([96, 124, 58]) * rng.uniform(0.8, 1.15, 3),
        tile=float(rng.uniform(0.5, 1.0)),
        center_line=("yellow_double", "white_dashed", "white_solid")[int(rng.integers(3))],
        crosswalks=crosswalks, facades=facades, sprites=sprites, sky_top=sky_top,
        sky_horizon=sky_horizon, cloudiness=float(rng.uniform(0.0, 0.5)) if sky_clear else 0.0,
        hood_rows=hood_rows, hood_color=np.array([38, 40, 46]) * rng.uniform(0.8, 1.6))


# ---------------------------------------------------------------------------
# Rendering.
# ---------------------------------------------------------------------------
@dataclasses.dataclass
class _Frame:
    rgb: np.ndarray     # [H, W, 3] float
    label: np.ndarray   # [H, W] uint8
    sid: np.ndarray     # [H, W] int surface id
    depth: np.ndarray   # [H, W] camera-frame depth (inf for sky)
    X: np.ndarray       # [H, W] world X of the hit
    Y: np.ndarray       # [H, W] world Y of the hit


def _to_camera(scene, x, z, t):
    """World (X, Z) -> camera frame t's (X, depth)."""
    rel_x, rel_z = x - scene.cam_x[t], z - scene.cam_z[t]
    cos_h, sin_h = math.cos(scene.heading[t]), math.sin(scene.heading[t])
    return cos_h * rel_x - sin_h * rel_z, sin_h * rel_x + cos_h * rel_z


def _sprite_in_camera(scene, sprite, t, camera_t):
    """Camera frame `camera_t`'s (X, depth) of the sprite's origin at time t."""
    return _to_camera(scene, sprite.x + sprite.vx * t, sprite.z + sprite.vz * t, camera_t)


def _hood_mask(scene):
    H, W = scene.height, scene.width
    if scene.hood_rows <= 0:
        return np.zeros((H, W), bool)
    xs = (np.arange(W) - scene.cx) / (W / 2.0)
    top = H - scene.hood_rows + scene.hood_rows * 0.6 * xs ** 2
    return np.arange(H)[:, None] >= top[None, :]


def _render_frame(scene, t):
    """Ray casts frame t of the scene."""
    H, W = scene.height, scene.width
    f, cx, cy, h = scene.f, scene.cx, scene.cy, scene.cam_h
    zc, xc = scene.cam_z[t], scene.cam_x[t]
    cos_h, sin_h = math.cos(scene.heading[t]), math.sin(scene.heading[t])
    dxr = np.broadcast_to(((np.arange(W) - cx) / f)[None, :], (H, W))
    dyr = np.broadcast_to(((np.arange(H) - cy) / f)[:, None], (H, W))
    # World X and Z of each ray per unit of camera depth (the camera is turned by its heading).
    wxr = dxr * cos_h + sin_h
    wzr = cos_h - dxr * sin_h

    depth = np.full((H, W), np.inf)  # Camera-frame depth (along the optical axis).
    sid = np.zeros((H, W), np.int32)
    # Ground plane Y = h.
    below = dyr > 1e-9
    with np.errstate(divide="ignore"):
        dg = np.where(below, h / np.where(below, dyr, 1.0), np.inf)
    depth = np.where(below, dg, depth)
    sid[below] = _SID_GROUND

    # Facade planes X = -dL and X = +dR (solid only where a segment is).
    fac_hits = []
    for fac, sid_value in zip(scene.facades, (_SID_LEFT, _SID_RIGHT)):
        ok = (wxr * fac.side) > 1e-9
        iy, ix = np.nonzero(ok)
        d = (fac.side * fac.dist - xc) / wxr[iy, ix]
        closer = d < depth[iy, ix]
        iy, ix, d = iy[closer], ix[closer], d[closer]
        Z = zc + wzr[iy, ix] * d
        hgt = h - dyr[iy, ix] * d
        idx = np.clip(np.searchsorted(fac.start, Z, side="right") - 1, 0, fac.start.shape[0] - 2)
        solid = _facade_presence(fac, idx, Z, hgt)
        iy, ix, d, Z, hgt, idx = iy[solid], ix[solid], d[solid], Z[solid], hgt[solid], idx[solid]
        depth[iy, ix] = d
        sid[iy, ix] = sid_value
        fac_hits.append((fac, sid_value))
    # Note: the two facades never compete for a pixel (opposite sides).

    rgb = np.zeros((H, W, 3))
    label = np.full((H, W), SKY, np.uint8)
    X = np.zeros((H, W))
    Y = np.zeros((H, W))

    sky = sid == _SID_SKY
    # The sky is at infinity: its colour depends on the world direction only.
    rgb[sky] = _shade_sky(scene, wxr[sky] / wzr[sky], dyr[sky] / wzr[sky])

    g = sid == _SID_GROUND
    X[g] = dxr[g] * depth[g]
    Y[g] = h
    rgb[g], label[g] = _shade_ground(scene, xc + wxr[g] * depth[g], zc + wzr[g] * depth[g])

    for fac, sid_value in fac_hits:
        m = sid == sid_value
        d = depth[m]
        Z = zc + wzr[m] * d
        hgt = h - dyr[m] * d
        idx = np.clip(np.searchsorted(fac.start, Z, side="right") - 1, 0, fac.start.shape[0] - 2)
        X[m] = dxr[m] * d
        Y[m] = h - hgt
        rgb[m], label[m] = _shade_facade(scene, fac, idx, Z, hgt)

    # Sprites (billboards facing the camera), far to near, with a depth test.
    states = [_sprite_in_camera(scene, sp, t, t) for sp in scene.sprites]
    order = sorted(range(len(scene.sprites)), key=lambda k: -(states[k][1]))
    for k in order:
        sp = scene.sprites[k]
        xs, D = states[k]
        if D <= _NEAR:
            continue
        x0 = cx + f * (xs + sp.umin) / D
        x1 = cx + f * (xs + sp.umax) / D
        y0 = cy + f * (h - sp.amax) / D
        y1 = cy + f * h / D
        ix0, ix1 = max(0, math.ceil(x0)), min(W - 1, math.floor(x1))
        iy0, iy1 = max(0, math.ceil(y0)), min(H - 1, math.floor(y1))
        if ix0 > ix1 or iy0 > iy1:
            continue
        # Depth test first: only pixels where this sprite would be in front.
        gy, gx = np.nonzero(depth[iy0:iy1 + 1, ix0:ix1 + 1] > D)
        if gy.size == 0:
            continue
        gy += iy0
        gx += ix0
        Xs = (gx - cx) / f * D
        Ys = (gy - cy) / f * D
        mask, col, lab = sp.shade(Xs - xs, h - Ys, sp.params)
        if not np.any(mask):
            continue
        gy, gx = gy[mask], gx[mask]
        depth[gy, gx] = D
        sid[gy, gx] = _SID_FIRST_SPRITE + k
        rgb[gy, gx] = col[mask]
        label[gy, gx] = lab[mask]
        X[gy, gx] = Xs[mask]
        Y[gy, gx] = Ys[mask]

    hood = _hood_mask(scene)
    if np.any(hood):
        rows = np.broadcast_to(np.arange(H)[:, None], (H, W))[hood]
        shade = 0.8 + 0.4 * (rows - (H - scene.hood_rows)) / max(scene.hood_rows, 1)
        rgb[hood] = scene.hood_color * shade[:, None]
        label[hood] = VOID_ID
        sid[hood] = _SID_HOOD
        depth[hood] = 0.1
        X[hood] = 0.0
        Y[hood] = 0.0

    rgb = rgb * scene.gain
    return _Frame(rgb=rgb, label=label, sid=sid, depth=depth, X=X, Y=Y)


def _antialiased_rgb(scene, t, samples_per_axis=None):
    """Frame t's colours integrated over each pixel's area.

    A camera pixel integrates light over its area, and the frames seg2vid trains
    on (Cityscapes at 128x256) are area-downsampled from 2048x1024: both are
    band-limited. A render of the pixel centres alone is aliased instead: thin
    lane markings and facade edges jump by whole pixels between frames, and
    bilinear warping (which blurs by a fractional shift) then costs more than a
    wrong, zero flow. Here each pixel averages a stratified
    ``samples_per_axis x samples_per_axis`` grid of rays, rendered by shifting
    the principal point, so that every sub-sample sees the exact same scene.

    Args:
        scene: The `_Scene`.
        t: Frame index.
        samples_per_axis: Rays per pixel along each axis (default `SUPERSAMPLING`).

    Returns:
        float64 ``[H, W, 3]`` colours (before rounding).
    """
    n = SUPERSAMPLING if samples_per_axis is None else int(samples_per_axis)
    if n <= 1:
        return _render_frame(scene, t).rgb
    offsets = (np.arange(n) + 0.5) / n - 0.5
    total = 0.0
    for oy in offsets:
        for ox in offsets:
            # A pixel's ray goes through (x - cx) / f: moving the principal point by -o
            # moves every ray to the sub-pixel position x + o.
            shifted = dataclasses.replace(scene, cx=scene.cx - ox, cy=scene.cy - oy)
            total = total + _render_frame(shifted, t).rgb
    return total / (n * n)


def _compute_flow(scene, t, cur, nxt):
    """Exact forward flow from frame t to t+1 and its validity mask.

    Static surfaces (ground, facades) go from camera t through the world into
    camera t+1; a sprite's point keeps its place on the billboard, which moves
    with the sprite and faces each camera; the sky, at infinity, moves by the
    camera's turn only; the hood moves with the camera.
    """
    H, W = scene.height, scene.width
    f, cx, cy = scene.f, scene.cx, scene.cy
    n_sid = _SID_FIRST_SPRITE + len(scene.sprites)
    origin_x_now = np.zeros(n_sid)   # Sprite origins in camera t (X) and camera t+1 (X, depth).
    origin_x_next = np.zeros(n_sid)
    origin_depth_next = np.ones(n_sid)
    plane_dist = np.full(n_sid, np.inf)  # distance camera -> plane (depth slope)
    plane_dist[_SID_GROUND] = scene.cam_h
    for fac, sid_value in zip(scene.facades, (_SID_LEFT, _SID_RIGHT)):
        plane_dist[sid_value] = abs(fac.side * fac.dist - scene.cam_x[t + 1])
    for k, sp in enumerate(scene.sprites):
        origin_x_now[_SID_FIRST_SPRITE + k] = _sprite_in_camera(scene, sp, t, t)[0]
        origin_x_next[_SID_FIRST_SPRITE + k], origin_depth_next[_SID_FIRST_SPRITE + k] = \
            _sprite_in_camera(scene, sp, t + 1, t + 1)

    sid = cur.sid
    px = np.broadcast_to(np.arange(W, dtype=np.float64)[None, :], (H, W))
    py = np.broadcast_to(np.arange(H, dtype=np.float64)[:, None], (H, W))
    geometric = (sid != _SID_SKY) & (sid != _SID_HOOD)
    sprite = sid >= _SID_FIRST_SPRITE
    depth = np.where(geometric, cur.depth, 1.0)
    cos0, sin0 = math.cos(scene.heading[t]), math.sin(scene.heading[t])
    cos1, sin1 = math.cos(scene.heading[t + 1]), math.sin(scene.heading[t + 1])
    # Static points: camera t -> world offsets from camera t+1 -> camera t+1.
    world_x = cos0 * cur.X + sin0 * depth + scene.cam_x[t] - scene.cam_x[t + 1]
    world_z = -sin0 * cur.X + cos0 * depth + scene.cam_z[t] - scene.cam_z[t + 1]
    static_x = cos1 * world_x - sin1 * world_z
    static_z = sin1 * world_x + cos1 * world_z
    xn_cam = np.where(sprite, origin_x_next[sid] + cur.X - origin_x_now[sid], static_x)
    zn = np.where(sprite, origin_depth_next[sid], static_z)
    front = zn > _NEAR
    zn_safe = np.where(front, zn, 1.0)
    xn = cx + f * xn_cam / zn_safe
    yn = cy + f * cur.Y / zn_safe
    fx = np.where(geometric & front, xn - px, 0.0)
    fy = np.where(geometric & front, yn - py, 0.0)
    # The sky: the same direction seen from the turned camera.
    sky = sid == _SID_SKY
    if scene.heading[t + 1] != scene.heading[t] and np.any(sky):
        dxr, dyr = (px - cx) / f, (py - cy) / f
        wx, wz = dxr * cos0 + sin0, cos0 - dxr * sin0
        sx, sz = cos1 * wx - sin1 * wz, sin1 * wx + cos1 * wz
        fx = np.where(sky, cx + f * sx / sz - px, fx)
        fy = np.where(sky, cy + f * dyr / sz - py, fy)
    tx = px + fx
    ty = py + fy
    inside = (tx >= 0) & (tx <= W - 1) & (ty >= 0) & (ty <= H - 1)
    qx = np.clip(np.rint(tx), 0, W - 1).astype(np.int64)
    qy = np.clip(np.rint(ty), 0, H - 1).astype(np.int64)
    same = nxt.sid[qy, qx] == sid
    # Depth-buffer test at the rounded target pixel, with a tolerance of the
    # plane's depth change over one pixel (zero for the billboards, which face
    # the camera).
    slope = zn_safe ** 2 / (plane_dist[sid] * f)
    tol = 1e-6 * zn_safe + slope
    depth_ok = np.abs(nxt.depth[qy, qx] - zn_safe) <= tol
    valid = inside & same & np.where(geometric, front & depth_ok, True)
    flow = np.stack([fx, fy], axis=-1).astype(np.float32)
    return flow, valid


def _to_uint8(rgb):
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def _as_rng(rng_or_seed):
    if isinstance(rng_or_seed, np.random.Generator):
        return rng_or_seed
    return np.random.default_rng(rng_or_seed)


def _check_sizes(num_frames, height, width):
    for name, value in (("num_frames", num_frames), ("height", height), ("width", width)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            raise ValueError(f"{name} must be an int, got {value!r}.")
    if num_frames < 2:
        raise ValueError(f"num_frames must be >= 2, got {num_frames}.")
    for name, value in (("height", height), ("width", width)):
        if value < 32 or value % 16:
            raise ValueError(f"{name} must be a multiple of 16 and >= 32, got {value}.")


def _check_motion_scale(motion_scale):
    if isinstance(motion_scale, bool) or not isinstance(motion_scale, (int, float, np.floating)) \
            or not 0.0 < float(motion_scale) <= 4.0:
        raise ValueError(f"motion_scale must be a number in (0, 4], got {motion_scale!r}.")


def _check_speed_variation(speed_variation):
    if isinstance(speed_variation, bool) \
            or not isinstance(speed_variation, (int, float, np.floating)) \
            or not 0.0 <= float(speed_variation) <= 1.0:
        raise ValueError(f"speed_variation must be a number in [0, 1], got {speed_variation!r}.")


def _render_sequence_full(rng_or_seed, num_frames, height, width, motion_scale=1.0,
                          speed_variation=1.0):
    _check_sizes(num_frames, height, width)
    _check_motion_scale(motion_scale)
    _check_speed_variation(speed_variation)
    rng = _as_rng(rng_or_seed)
    scene = _sample_scene(rng, int(num_frames), int(height), int(width), float(motion_scale),
                          float(speed_variation))
    # The pixel-centre render gives the labels, depths and flow; the colours are
    # integrated over each pixel.
    frames_info = [_render_frame(scene, t) for t in range(num_frames)]
    frames = np.stack([_to_uint8(_antialiased_rgb(scene, t)) for t in range(num_frames)])
    labels = np.stack([fr.label for fr in frames_info])
    flows, valid = [], []
    for t in range(num_frames - 1):
        fl, va = _compute_flow(scene, t, frames_info[t], frames_info[t + 1])
        flows.append(fl)
        valid.append(va)
    return frames, labels, np.stack(flows), np.stack(valid), scene


def render_sequence(rng_or_seed, num_frames, height, width, motion_scale=1.0,
                    speed_variation=1.0):
    """Renders one synthetic driving sequence with exact forward flow.

    Args:
        rng_or_seed: A ``np.random.Generator`` (consumed), or anything
            ``np.random.default_rng`` accepts (int seed, ``SeedSequence``).
        num_frames: Number of frames F (>= 2).
        height: Frame height (multiple of 16, >= 32).
        width: Frame width (multiple of 16, >= 32).
        motion_scale: Multiplies all velocities (camera and objects), in
            (0, 4]; 1 is urban driving at about 17 frames per second, 0.5
            the same scenes at twice the frame rate. The scene layout does
            not depend on it.
        speed_variation: In [0, 1]: how far the camera speeds of different
            sequences spread around the mean (1: 0.02 to 1.4 m per frame
            before `motion_scale`, 15% of the sequences near-stopped; 0: all
            at the mean, 0.74). The layout does not depend on it.

    Returns:
        A tuple ``(frames, labels, flows, valid)``:
        ``frames`` uint8 ``[F, H, W, 3]`` RGB;
        ``labels`` uint8 ``[F, H, W]`` Cityscapes train ids (19 = void);
        ``flows`` float32 ``[F-1, H, W, 2]`` forward flow from frame t to
        t+1 in pixels, channel 0 = u = dx, channel 1 = v = dy;
        ``valid`` bool ``[F-1, H, W]``, False where the point leaves the
        image, goes behind the camera or is occluded in frame t+1.

    Raises:
        ValueError: For invalid sizes.
    """
    frames, labels, flows, valid, _ = _render_sequence_full(rng_or_seed, num_frames, height, width,
                                                            motion_scale, speed_variation)
    return frames, labels, flows, valid


def sequence_rng(seed, index):
    """The generator of sequence ``index`` of a dataset generated with ``seed``.

    Sequence ``k`` only depends on ``(seed, k)``, not on the number of
    sequences, so datasets of different sizes share their first sequences.

    Args:
        seed: Dataset seed (non-negative int).
        index: Global sequence number.

    Returns:
        A ``np.random.Generator``.
    """
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(int(index),)))


# ---------------------------------------------------------------------------
# KITTI 16-bit flow PNG codec.
# ---------------------------------------------------------------------------
def _png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + \
        struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _encode_png_rgb16(image):
    """Encodes a uint16 [H, W, 3] array as a PNG (colour type 2, 16-bit, filter 0)."""
    image = np.ascontiguousarray(image, dtype=">u2")
    height, width, _ = image.shape
    raw = np.zeros((height, 1 + width * 6), np.uint8)
    raw[:, 1:] = image.view(np.uint8).reshape(height, width * 6)
    ihdr = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    return (_PNG_SIGNATURE + _png_chunk(b"IHDR", ihdr) +
            _png_chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)) + _png_chunk(b"IEND", b""))


def _unfilter(filt_types, data, bpp):
    """Reverses PNG filtering. data: uint8 [H, stride]; returns uint8 [H, stride]."""
    height, stride = data.shape
    if not np.any(filt_types):
        return data
    if np.all(filt_types <= 2):
        out = np.empty_like(data)
        prev = np.zeros(stride, np.uint8)
        for r in range(height):
            row = data[r]
            ft = filt_types[r]
            if ft == 0:
                cur = row
            elif ft == 2:
                cur = row + prev  # uint8 wraps modulo 256
            else:
                pad = (-stride) % bpp
                cur = np.concatenate([row, np.zeros(pad, np.uint8)]).reshape(-1, bpp)
                cur = (np.cumsum(cur, axis=0, dtype=np.int64) & 255).astype(np.uint8).ravel()[:stride]
            out[r] = cur
            prev = out[r]
        return out
    # General case (Average / Paeth): wavefront over pixel diagonals. Pixel
    # (r, x) depends on (r, x-1), (r-1, x) and (r-1, x-1) only.
    npx = -(-stride // bpp)
    pad = npx * bpp - stride
    filt = np.concatenate([data, np.zeros((height, pad), np.uint8)], axis=1)
    filt = filt.reshape(height, npx, bpp).astype(np.int32)
    rec = np.zeros((height + 1, npx + 1, bpp), np.int32)  # 1-padded top and left
    ft_all = filt_types.astype(np.int32)
    for d in range(height + npx - 1):
        r = np.arange(max(0, d - npx + 1), min(height - 1, d) + 1)
        x = d - r
        a = rec[r + 1, x]
        b = rec[r, x + 1]
        c = rec[r, x]
        ft = ft_all[r][:, None]
        p = a + b - c
        pa = np.abs(p - a)
        pb = np.abs(p - b)
        pc = np.abs(p - c)
        paeth = np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))
        pred = np.select([ft == 1, ft == 2, ft == 3, ft == 4],
                         [a, b, (a + b) >> 1, paeth], 0)
        rec[r + 1, x + 1] = (filt[r, x] + pred) & 255
    out = rec[1:, 1:].reshape(height, npx * bpp)[:, :stride]
    return out.astype(np.uint8)


def _decode_png_rgb16(path):
    """Decodes a 16-bit RGB PNG into uint16 [H, W, 3]; ValueError naming path."""
    with open(path, "rb") as fh:
        blob = fh.read()
    if not blob.startswith(_PNG_SIGNATURE):
        raise ValueError(f"{path}: not a PNG file.")
    pos = len(_PNG_SIGNATURE)
    header = None
    idat = []
    ended = False
    while pos < len(blob):
        if pos + 8 > len(blob):
            raise ValueError(f"{path}: truncated PNG (incomplete chunk header).")
        length, kind = struct.unpack(">I4s", blob[pos:pos + 8])
        end = pos + 12 + length
        if end > len(blob):
            raise ValueError(f"{path}: truncated PNG (chunk {kind!r} is cut off).")
        data = blob[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", blob[end - 4:end])
        if zlib.crc32(kind + data) & 0xFFFFFFFF != crc:
            raise ValueError(f"{path}: corrupt PNG (CRC mismatch in chunk {kind!r}).")
        pos = end
        if kind == b"IHDR":
            if length != 13:
                raise ValueError(f"{path}: invalid IHDR chunk.")
            header = struct.unpack(">IIBBBBB", data)
        elif kind == b"IDAT":
            idat.append(data)
        elif kind == b"IEND":
            ended = True
            break
    if header is None:
        raise ValueError(f"{path}: PNG without IHDR chunk.")
    if not ended:
        raise ValueError(f"{path}: truncated PNG (no IEND chunk).")
    width, height, depth, color, comp, filt_method, interlace = header
    if depth != 16:
        raise ValueError(f"{path}: expected a 16-bit PNG, got bit depth {depth}.")
    if color != 2:
        raise ValueError(f"{path}: expected an RGB PNG (colour type 2), got colour type {color}.")
    if comp != 0 or filt_method != 0:
        raise ValueError(f"{path}: unsupported PNG compression/filter method.")
    if interlace != 0:
        raise ValueError(f"{path}: interlaced PNGs are not supported.")
    if width == 0 or height == 0:
        raise ValueError(f"{path}: empty PNG image.")
    try:
        raw = zlib.decompress(b"".join(idat))
    except zlib.error as exc:
        raise ValueError(f"{path}: corrupt PNG image data ({exc}).") from None
    stride = width * 6
    if len(raw) < height * (stride + 1):
        raise ValueError(f"{path}: truncated PNG image data.")
    rows = np.frombuffer(raw, np.uint8, count=height * (stride + 1)).reshape(height, stride + 1)
    filt_types = rows[:, 0]
    if np.any(filt_types > 4):
        raise ValueError(f"{path}: invalid PNG filter type {int(filt_types.max())}.")
    data = _unfilter(filt_types, rows[:, 1:], bpp=6)
    return np.ascontiguousarray(data).view(">u2").reshape(height, width, 3).astype(np.uint16)


def write_kitti_flow(path, flow, valid):
    """Writes a flow field as a KITTI 16-bit PNG.

    Args:
        path: Output file path.
        flow: float ``[H, W, 2]``, channel 0 = u = dx, channel 1 = v = dy (pixels).
        valid: bool ``[H, W]``.

    Returns:
        ``path``.
    """
    flow = np.asarray(flow, np.float64)
    valid = np.asarray(valid, bool)
    if flow.ndim != 3 or flow.shape[-1] != 2 or valid.shape != flow.shape[:2]:
        raise ValueError(f"flow must be [H, W, 2] and valid [H, W]; got {flow.shape}, {valid.shape}.")
    enc = np.clip(np.rint(np.nan_to_num(flow) * FLOW_SCALE + FLOW_OFFSET), 0, 65535)
    img = np.empty(flow.shape[:2] + (3,), np.uint16)
    img[..., :2] = enc.astype(np.uint16)
    img[..., 2] = valid.astype(np.uint16)
    data = _encode_png_rgb16(img)
    with open(path, "wb") as fh:
        fh.write(data)
    return path


def read_kitti_flow(path):
    """Reads a KITTI 16-bit flow PNG.

    Args:
        path: File path (any 16-bit RGB PNG with filter types 0..4).

    Returns:
        ``(flow, valid)``: float32 ``[H, W, 2]`` (u, v in pixels) and bool
        ``[H, W]`` (the blue channel is non-zero). Invalid pixels keep the
        values stored in the file (this generator stores the geometric flow
        there too; KITTI ground truth stores 0, i.e. -512 px): mask with
        ``valid``.

    Raises:
        ValueError: If the file is not a PNG, is truncated or corrupt, or is
            not 16-bit RGB; the message names the file.
    """
    img = _decode_png_rgb16(path)
    flow = (img[..., :2].astype(np.float32) - FLOW_OFFSET) / FLOW_SCALE
    return flow, img[..., 2] > 0


# ---------------------------------------------------------------------------
# Dataset writer.
# ---------------------------------------------------------------------------
def _validate(output_dir, num_sequences, num_frames, height, width, seed, val_fraction, city,
              motion_scale=1.0, speed_variation=1.0):
    _check_motion_scale(motion_scale)
    _check_speed_variation(speed_variation)
    if not output_dir:
        raise ValueError("output_dir must be given (--output_dir=DIR).")
    if not isinstance(num_sequences, (int, np.integer)) or num_sequences < 1:
        raise ValueError(f"num_sequences must be an int >= 1, got {num_sequences!r}.")
    _check_sizes(num_frames, height, width)
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}.")
    if not (0.0 <= float(val_fraction) < 1.0):
        raise ValueError(f"val_fraction must satisfy 0 <= val_fraction < 1, got {val_fraction!r}.")
    if not city or not isinstance(city, str) or any(c in city for c in "/\\_ ") or city in (".", ".."):
        raise ValueError(f"city must be a non-empty name without '/', '\\\\', '_' or spaces, got {city!r}.")


def split_counts(num_sequences, val_fraction):
    """Number of train and val sequences.

    Args:
        num_sequences: Total number of sequences N >= 1.
        val_fraction: Fraction in [0, 1).

    Returns:
        ``(num_train, num_val)``: ``num_train = round(N * (1 - val_fraction))``
        clipped to at least 1, and to at most N - 1 when N >= 2 and
        val_fraction > 0.
    """
    n_train = max(1, int(round(num_sequences * (1.0 - val_fraction))))
    if num_sequences >= 2 and val_fraction > 0:
        n_train = min(n_train, num_sequences - 1)
    n_train = min(n_train, num_sequences)
    return n_train, num_sequences - n_train


def sequence_paths(output_dir, split, city, seq, num_frames):
    """File paths of one sequence.

    Returns:
        dict with lists ``frames`` (F), ``labels`` (F) and ``flows`` (F-1).
    """
    def name(kind, frame, suffix):
        return os.path.join(output_dir, kind, split, city, f"{city}_{seq:06d}_{frame:06d}_{suffix}.png")

    return {
        "frames": [name("leftImg8bit_sequence", t, "leftImg8bit") for t in range(num_frames)],
        "labels": [name("gtFine_sequence", t, "gtFine_labelTrainIds") for t in range(num_frames)],
        "flows": [name("flow", t, "flow") for t in range(num_frames - 1)],
    }


def _write_sequence(output_dir, split, city, k, seed, num_frames, height, width, motion_scale,
                    speed_variation):
    """Renders sequence k and writes its files; returns its entry of `synthetic.json`."""
    frames, labels, flows, valid, scene = _render_sequence_full(
        sequence_rng(seed, k), num_frames, height, width, motion_scale, speed_variation)
    paths = sequence_paths(output_dir, split, city, k, num_frames)
    for key in ("frames", "labels", "flows"):
        os.makedirs(os.path.dirname(paths[key][0]), exist_ok=True)
    for t in range(num_frames):
        Image.fromarray(frames[t]).save(paths["frames"][t])
        Image.fromarray(labels[t]).save(paths["labels"][t])
    for t in range(num_frames - 1):
        write_kitti_flow(paths["flows"][t], flows[t], valid[t])
    return {
        "sequence": k,
        "prefix": f"{city}_{k:06d}",
        "focal_px": round(float(scene.f), 4),
        "principal_point_px": [round(float(scene.cx), 4), round(float(scene.cy), 4)],
        "camera_height_m": round(float(scene.cam_h), 4),
        "camera_z_m": [round(float(z), 4) for z in scene.cam_z],
        "camera_x_m": [round(float(x), 4) for x in scene.cam_x],
        "heading_rad": [round(float(a), 6) for a in scene.heading],
        "valid_flow_fraction": round(float(valid.mean()), 4),
        "motion": sequence_motion(scene),
    }


MOVING_KINDS = ("vehicle", "person", "cyclist")  # sprites that may move (parked: velocity 0)


def sequence_motion(scene):
    """The motion truth of a scene, as recorded in `synthetic.json`.

    Returns:
        dict: `camera_speed` (metres per frame, one per frame transition),
        `yaw_rate` (radians per frame, the mean over the sequence; positive
        turns right; 0 for the half of the sequences that drive straight) and
        `objects` (one `{"class", "velocity": [vx, vz]}` per road user, metres
        per frame in world axes; parked cars have velocity 0). `class` is the
        vehicle type (car, truck, bus, tram) or person / cyclist.
    """
    objects = []
    for sprite in scene.sprites:
        if sprite.kind in MOVING_KINDS:
            name = sprite.params.get("vehicle", sprite.kind) if sprite.kind == "vehicle" \
                else sprite.kind
            objects.append({"class": name,
                            "velocity": [round(float(sprite.vx), 4), round(float(sprite.vz), 4)]})
    steps = np.hypot(np.diff(scene.cam_x), np.diff(scene.cam_z))
    return {"camera_speed": [round(float(v), 4) for v in steps],
            "yaw_rate": round(float(scene.yaw_rate), 6), "objects": objects}


def _check_num_workers(num_workers):
    if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)) \
            or num_workers < 0:
        raise ValueError(f"num_workers must be an int >= 0 (0: one per CPU core), "
                         f"got {num_workers!r}.")


def generate_dataset(output_dir, num_sequences, num_frames, height, width, seed,
                     val_fraction=0.25, city="synth", progress=False, motion_scale=1.0,
                     num_workers=1, speed_variation=1.0):
    """Generates the synthetic dataset in the Cityscapes sequence layout.

    Existing files with the same names are overwritten; other files in
    ``output_dir`` are left alone. The files do not depend on ``num_workers``:
    sequence k only depends on ``(seed, k)``.

    Args:
        output_dir: Root directory (created if needed).
        num_sequences: Number of sequences N (>= 1).
        num_frames: Frames per sequence (>= 2).
        height: Frame height (multiple of 16, >= 32).
        width: Frame width (multiple of 16, >= 32).
        seed: Non-negative int; sequence k uses ``sequence_rng(seed, k)``.
        val_fraction: Fraction of sequences in the val split, in [0, 1).
        city: City name used in directory and file names.
        progress: Show a tqdm progress bar.
        motion_scale: Multiplies all velocities, in (0, 4] (see
            :func:`render_sequence`).
        speed_variation: Spread of the camera speeds, in [0, 1] (see
            :func:`render_sequence`).
        num_workers: Processes that render sequences in parallel (1: this
            process only; 0: one per CPU core).

    Returns:
        Summary dict: ``output_dir``, ``num_train``, ``num_val``,
        ``num_frames``, ``num_files``, ``seconds`` and the json path.

    Raises:
        ValueError: For invalid arguments.
    """
    _validate(output_dir, num_sequences, num_frames, height, width, seed, val_fraction, city,
              motion_scale, speed_variation)
    _check_num_workers(num_workers)
    start = time.time()
    n_train, n_val = split_counts(num_sequences, val_fraction)
    jobs = [(output_dir, "train" if k < n_train else "val", city, k, int(seed), int(num_frames),
             int(height), int(width), float(motion_scale), float(speed_variation))
            for k in range(num_sequences)]
    workers = min(num_workers or (os.cpu_count() or 1), num_sequences)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=num_sequences, desc="sequences", unit="seq")
    entries = []
    if workers <= 1:
        for job in jobs:
            entries.append(_write_sequence(*job))
            if bar is not None:
                bar.update()
    else:
        import concurrent.futures
        import multiprocessing
        # "spawn": the caller may hold TensorFlow's threads, which a fork would copy half-way.
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
            futures = [pool.submit(_write_sequence, *job) for job in jobs]
            for future in concurrent.futures.as_completed(futures):
                entries.append(future.result())
                if bar is not None:
                    bar.update()
    if bar is not None:
        bar.close()
    entries.sort(key=lambda entry: entry["sequence"])
    splits = {"train": entries[:n_train], "val": entries[n_train:]}
    num_files = num_sequences * (3 * num_frames - 1)
    settings = dict(num_sequences=int(num_sequences), num_frames=int(num_frames),
                    height=int(height), width=int(width), seed=int(seed),
                    val_fraction=float(val_fraction), city=city,
                    motion_scale=float(motion_scale), speed_variation=float(speed_variation))
    meta = {
        "generator": "seg2vid_tf.data.synthetic",
        "format_version": FORMAT_VERSION,
        "renderer_version": RENDERER_VERSION,
        "settings": settings,
        "splits": {s: [e["sequence"] for e in v] for s, v in splits.items()},
        "sequences": splits,
        "label_names": list(TRAIN_ID_NAMES) + ["void"],
        "void_id": VOID_ID,
        "flow_format": ("KITTI 16-bit RGB PNG: R = u*64 + 2^15, G = v*64 + 2^15, B = valid; "
                        "forward flow from frame t to t+1 in pixels (u = dx, v = dy)."),
        "layout": {
            "frames": "leftImg8bit_sequence/<split>/<city>/<city>_<seq:06d>_<frame:06d>_leftImg8bit.png",
            "labels": "gtFine_sequence/<split>/<city>/<city>_<seq:06d>_<frame:06d>_gtFine_labelTrainIds.png",
            "flows": "flow/<split>/<city>/<city>_<seq:06d>_<frame:06d>_flow.png",
        },
    }
    os.makedirs(output_dir, exist_ok=True)
    json_path = os.path.join(output_dir, "synthetic.json")
    with open(json_path, "w") as fh:
        json.dump(meta, fh, indent=1)
    return {"output_dir": os.path.abspath(output_dir), "num_train": n_train, "num_val": n_val,
            "num_frames": int(num_frames), "num_files": num_files + 1,
            "seconds": time.time() - start, "json": json_path}


# ---------------------------------------------------------------------------
# Command line.
# ---------------------------------------------------------------------------
def _define_flags():
    """Defines the command-line flags (only when run as a program, so that
    importing this module never clashes with other programs' flags)."""
    from absl import flags
    if "num_sequences" in flags.FLAGS and "val_fraction" in flags.FLAGS:
        return
    flags.DEFINE_string("output_dir", None, "Root directory of the generated dataset.")
    flags.DEFINE_integer("num_sequences", 24, "Number of sequences (>= 1).")
    flags.DEFINE_integer("num_frames", 9, "Frames per sequence (>= 2).")
    flags.DEFINE_integer("height", 128, "Frame height (multiple of 16, >= 32).")
    flags.DEFINE_integer("width", 256, "Frame width (multiple of 16, >= 32).")
    flags.DEFINE_integer("seed", 0, "Random seed (>= 0).")
    flags.DEFINE_float("val_fraction", 0.25, "Fraction of sequences in the val split, in [0, 1).")
    flags.DEFINE_string("city", "synth", "City name used in directory and file names.")
    flags.DEFINE_float("motion_scale", 1.0, "Multiplies all velocities (like 1/frame rate), in (0, 4].")
    flags.DEFINE_float("speed_variation", 1.0, "Spread of the camera speeds around their mean, in "
                                               "[0, 1] (1: 0.45..1.3 m per frame, 0: all 0.875).")
    flags.DEFINE_integer("num_workers", 0, "Processes rendering in parallel (0: one per CPU core); "
                                           "the files do not depend on it.")


def _parse_flags(argv):
    """Parses known flags (expanding --flagfile); unknown flags are returned."""
    from absl import flags
    expanded = flags.FLAGS.read_flags_from_files(argv[1:], force_gnu=False)
    return flags.FLAGS([argv[0]] + expanded, known_only=True)


def main(argv):
    """Entry point for ``python -m seg2vid_tf.data.synthetic``."""
    from absl import app, flags, logging
    FLAGS = flags.FLAGS
    extra = list(argv[1:])
    unknown = [a for a in extra if a.startswith("-")]
    positional = [a for a in extra if not a.startswith("-")]
    if positional:
        raise app.UsageError(f"Unexpected positional arguments: {positional}")
    if unknown:
        logging.info("Ignoring flags of other programs: %s", " ".join(unknown))
    try:
        _validate(FLAGS.output_dir, FLAGS.num_sequences, FLAGS.num_frames, FLAGS.height,
                  FLAGS.width, FLAGS.seed, FLAGS.val_fraction, FLAGS.city, FLAGS.motion_scale,
                  FLAGS.speed_variation)
        _check_num_workers(FLAGS.num_workers)
    except ValueError as exc:
        raise app.UsageError(str(exc)) from None
    summary = generate_dataset(FLAGS.output_dir, FLAGS.num_sequences, FLAGS.num_frames,
                               FLAGS.height, FLAGS.width, FLAGS.seed,
                               val_fraction=FLAGS.val_fraction, city=FLAGS.city,
                               progress=True, motion_scale=FLAGS.motion_scale,
                               speed_variation=FLAGS.speed_variation,
                               num_workers=FLAGS.num_workers)
    print(f"Wrote {summary['num_train']} train + {summary['num_val']} val sequences of "
          f"{FLAGS.num_frames} frames ({FLAGS.height}x{FLAGS.width}), "
          f"{summary['num_files']} files, in {summary['seconds']:.1f} s to {summary['output_dir']}")
    sys.stdout.flush()


if __name__ == "__main__":
    from absl import app as _app
    _define_flags()
    _app.run(main, flags_parser=_parse_flags)
