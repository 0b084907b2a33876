r"""The description of one synthetic street scene: its camera, layout and objects.

Scene model
-----------
Every sequence is a simple 3-D world seen by a pinhole camera (no lens
distortion) that turns about the vertical axis only:

* World axes: ``X`` to the right, ``Y`` *down*, ``Z`` forward. At frame ``t``
  the camera sits at ``(Xc(t), 0, Zc(t))`` with heading (yaw) ``a(t)``,
  ``a(0) = 0``: it looks along ``+Z`` turned towards ``+X`` by ``a(t)``.
  The ground is the plane ``Y = h`` (``h`` = camera height). A point at
  camera-frame ``(x_c, Y, z_c)`` projects to ``x = cx + f * x_c / z_c``,
  ``y = cy + f * Y / z_c``, so while the camera looks down the road the
  principal point ``(cx, cy)`` is its vanishing point. Pixel centres are at
  integer coordinates.
* The camera drives forward: its speed ``|C(t+1) - C(t)|`` is random (slowly
  changing) in metres per frame, from near-stopped to fast
  (``speed_variation`` narrows its spread across sequences, ``motion_scale``
  scales it with every velocity). Half the sequences drive straight, the
  others along a gentle curve (see :mod:`camera`).
* Static geometry: the ground plane (road with lane markings and crosswalks,
  kerbs and sidewalks, grass strips, terrain), two building-facade planes
  ``X = -dL`` and ``X = +dR`` parallel to the road (buildings with window
  grids, walls, fences with see-through gaps, hedges, and gaps through which
  the terrain and trees behind are visible), vertical billboards at fixed
  ``(X, Z)`` (poles and street lights, traffic signs, traffic lights, trees,
  bushes) and the sky at infinity.
* Moving objects (cars, trucks, buses, trams, pedestrians, cyclists and
  motorcyclists) are planar sprites standing on the ground that face the
  camera, each with its own constant world velocity ``(vx, vz)`` per frame.
  Parked cars do not move; cars overtake from behind and enter at the image
  border, oncoming traffic leaves it, parked cars occlude poles, trees and
  pedestrians.
* Optionally the ego vehicle's hood (void, id 19) is visible at the bottom;
  it moves with the camera.

:mod:`sampling` draws a :class:`Scene`; :mod:`raycast` renders it.
"""

import dataclasses
from typing import Callable

import numpy as np

FACADE_GAP, FACADE_BUILDING, FACADE_WALL, FACADE_FENCE, FACADE_HEDGE = range(5)


@dataclasses.dataclass
class Facade:
    """The segments of one facade plane ``X = side * dist``."""

    side: int
    dist: float
    start: np.ndarray      # [S] segment start Z (segment i ends at start[i+1]).
    kind: np.ndarray       # [S] FACADE_* codes.
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
class Sprite:
    """A planar object standing on the ground, facing the camera.

    ``shade(u, a, params)`` draws it (see :mod:`sprites`).
    """

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
class Scene:
    """One sequence's world: camera intrinsics and path, street layout, objects, lighting."""

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
    facades: tuple           # (left Facade, right Facade).
    sprites: list
    sky_top: np.ndarray
    sky_horizon: np.ndarray
    cloudiness: float
    hood_rows: int
    hood_color: np.ndarray
