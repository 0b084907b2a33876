"""Ray casting one frame of a scene, and integrating each pixel's colour over its area.

Each frame is rendered by ray casting (vectorised with NumPy): the nearest
hit among ground, facades, sprites and sky is found with a depth buffer, and
that surface's procedural texture (value noise, tiles, windows, markings, ...;
see :mod:`shading` and :mod:`sprites`) is evaluated at the hit's *surface
coordinates*. Textures are attached to the surfaces, so brightness constancy
holds (up to the uint8 rounding and the finite sampling of each pixel).

A pixel's colour is the mean of a stratified 2x2 grid of rays over its area
(renderer version 3, :func:`antialiased_rgb`), like a camera pixel or a frame
area-downsampled from a larger one (Cityscapes at 128x256): a render of the
pixel centres alone aliases thin markings and edges, and on aliased frames a
small fraction of the true flow costs the photometric losses more than zero
flow. Labels, depths and the flow come from the ray through the centre
(:func:`render_frame`).
"""

import dataclasses
import math

import numpy as np

from seg2vid_tf.data.synthetic.camera import NEAR, sprite_in_camera
from seg2vid_tf.data.synthetic.classes import SKY, VOID_ID
from seg2vid_tf.data.synthetic.shading import (facade_presence, shade_facade, shade_ground,
                                               shade_sky)

SUPERSAMPLING = 2  # Rays per pixel along each axis (SUPERSAMPLING**2 rays per pixel).

# Surface ids of the depth buffer: sprite k of `scene.sprites` is SID_FIRST_SPRITE + k.
SID_SKY, SID_GROUND, SID_LEFT, SID_RIGHT, SID_HOOD = range(5)
SID_FIRST_SPRITE = 5


@dataclasses.dataclass
class Frame:
    """The buffers of one frame rendered through the pixel centres."""

    rgb: np.ndarray     # [H, W, 3] float
    label: np.ndarray   # [H, W] uint8
    sid: np.ndarray     # [H, W] int surface id
    depth: np.ndarray   # [H, W] camera-frame depth (inf for sky)
    X: np.ndarray       # [H, W] camera-frame X of the hit (metres to the right)
    Y: np.ndarray       # [H, W] Y of the hit (metres below the camera)


def _hood_mask(scene):
    """[H, W] bool: the pixels of the ego vehicle's hood (none unless `scene.hood_rows`)."""
    H, W = scene.height, scene.width
    if scene.hood_rows <= 0:
        return np.zeros((H, W), bool)
    xs = (np.arange(W) - scene.cx) / (W / 2.0)
    top = H - scene.hood_rows + scene.hood_rows * 0.6 * xs ** 2
    return np.arange(H)[:, None] >= top[None, :]


@dataclasses.dataclass
class _Rays:
    """The rays through the pixel centres of one frame, per unit of camera depth."""

    dxr: np.ndarray  # [H, W] camera-frame X.
    dyr: np.ndarray  # [H, W] Y (down; the camera does not pitch).
    wxr: np.ndarray  # [H, W] world X (the camera is turned by its heading).
    wzr: np.ndarray  # [H, W] world Z.
    x: float         # The camera's world X and Z.
    z: float


def _camera_rays(scene, t):
    H, W = scene.height, scene.width
    cos_h, sin_h = math.cos(scene.heading[t]), math.sin(scene.heading[t])
    dxr = np.broadcast_to(((np.arange(W) - scene.cx) / scene.f)[None, :], (H, W))
    dyr = np.broadcast_to(((np.arange(H) - scene.cy) / scene.f)[:, None], (H, W))
    return _Rays(dxr=dxr, dyr=dyr, wxr=dxr * cos_h + sin_h, wzr=cos_h - dxr * sin_h,
                 x=scene.cam_x[t], z=scene.cam_z[t])


def _facade_coordinates(scene, fac, rays, iy, ix, d):
    """World Z, height above ground and segment index of facade hits at depths `d`."""
    Z = rays.z + rays.wzr[iy, ix] * d
    hgt = scene.cam_h - rays.dyr[iy, ix] * d
    idx = np.clip(np.searchsorted(fac.start, Z, side="right") - 1, 0, fac.start.shape[0] - 2)
    return Z, hgt, idx


def _cast_static(scene, rays):
    """Depth buffer (camera-frame depth along the optical axis) and surface ids of the ground
    and facade planes; the sky elsewhere."""
    H, W = scene.height, scene.width
    depth = np.full((H, W), np.inf)
    sid = np.zeros((H, W), np.int32)
    # Ground plane Y = h.
    below = rays.dyr > 1e-9
    with np.errstate(divide="ignore"):
        dg = np.where(below, scene.cam_h / np.where(below, rays.dyr, 1.0), np.inf)
    depth = np.where(below, dg, depth)
    sid[below] = SID_GROUND
    # Facade planes X = -dL and X = +dR (solid only where a segment is). The two facades never
    # compete for a pixel (opposite sides).
    for fac, sid_value in zip(scene.facades, (SID_LEFT, SID_RIGHT)):
        iy, ix = np.nonzero((rays.wxr * fac.side) > 1e-9)
        d = (fac.side * fac.dist - rays.x) / rays.wxr[iy, ix]
        closer = d < depth[iy, ix]
        iy, ix, d = iy[closer], ix[closer], d[closer]
        Z, hgt, idx = _facade_coordinates(scene, fac, rays, iy, ix, d)
        solid = facade_presence(fac, idx, Z, hgt)
        iy, ix, d = iy[solid], ix[solid], d[solid]
        depth[iy, ix] = d
        sid[iy, ix] = sid_value
    return depth, sid


def _shade_static(scene, rays, frame):
    """Colours, labels and hit coordinates of the sky, ground and facade pixels of `frame`."""
    dxr, dyr, wxr, wzr = rays.dxr, rays.dyr, rays.wxr, rays.wzr
    h, depth = scene.cam_h, frame.depth
    sky = frame.sid == SID_SKY
    # The sky is at infinity: its colour depends on the world direction only.
    frame.rgb[sky] = shade_sky(scene, wxr[sky] / wzr[sky], dyr[sky] / wzr[sky])

    g = frame.sid == SID_GROUND
    frame.X[g] = dxr[g] * depth[g]
    frame.Y[g] = h
    frame.rgb[g], frame.label[g] = shade_ground(scene, rays.x + wxr[g] * depth[g],
                                                rays.z + wzr[g] * depth[g])

    for fac, sid_value in zip(scene.facades, (SID_LEFT, SID_RIGHT)):
        m = frame.sid == sid_value
        iy, ix = np.nonzero(m)
        d = depth[m]
        Z, hgt, idx = _facade_coordinates(scene, fac, rays, iy, ix, d)
        frame.X[m] = dxr[m] * d
        frame.Y[m] = h - hgt
        frame.rgb[m], frame.label[m] = shade_facade(scene, fac, idx, Z, hgt)


def _draw_sprites(scene, t, frame):
    """Draws the sprites (billboards facing the camera) far to near, with a depth test."""
    H, W = scene.height, scene.width
    f, cx, cy, h = scene.f, scene.cx, scene.cy, scene.cam_h
    states = [sprite_in_camera(scene, sp, t, t) for sp in scene.sprites]
    order = sorted(range(len(scene.sprites)), key=lambda k: -(states[k][1]))
    for k in order:
        sp = scene.sprites[k]
        xs, D = states[k]
        if D <= NEAR:
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
        gy, gx = np.nonzero(frame.depth[iy0:iy1 + 1, ix0:ix1 + 1] > D)
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
        frame.depth[gy, gx] = D
        frame.sid[gy, gx] = SID_FIRST_SPRITE + k
        frame.rgb[gy, gx] = col[mask]
        frame.label[gy, gx] = lab[mask]
        frame.X[gy, gx] = Xs[mask]
        frame.Y[gy, gx] = Ys[mask]


def _draw_hood(scene, frame):
    """Draws the ego vehicle's hood (void, at a fixed depth in front of the camera)."""
    hood = _hood_mask(scene)
    if not np.any(hood):
        return
    H, W = scene.height, scene.width
    rows = np.broadcast_to(np.arange(H)[:, None], (H, W))[hood]
    shade = 0.8 + 0.4 * (rows - (H - scene.hood_rows)) / max(scene.hood_rows, 1)
    frame.rgb[hood] = scene.hood_color * shade[:, None]
    frame.label[hood] = VOID_ID
    frame.sid[hood] = SID_HOOD
    frame.depth[hood] = 0.1
    frame.X[hood] = 0.0
    frame.Y[hood] = 0.0


def render_frame(scene, t):
    """Ray casts frame t of the scene through the pixel centres.

    Args:
        scene: The `Scene`.
        t: Frame index.

    Returns:
        A `Frame`: colours (float, before rounding), labels, surface ids,
        depths and hit coordinates.
    """
    H, W = scene.height, scene.width
    rays = _camera_rays(scene, t)
    depth, sid = _cast_static(scene, rays)
    frame = Frame(rgb=np.zeros((H, W, 3)), label=np.full((H, W), SKY, np.uint8), sid=sid,
                  depth=depth, X=np.zeros((H, W)), Y=np.zeros((H, W)))
    _shade_static(scene, rays, frame)
    _draw_sprites(scene, t, frame)
    _draw_hood(scene, frame)
    frame.rgb = frame.rgb * scene.gain
    return frame


def antialiased_rgb(scene, t, samples_per_axis=None):
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
        scene: The `Scene`.
        t: Frame index.
        samples_per_axis: Rays per pixel along each axis (default `SUPERSAMPLING`).

    Returns:
        float64 ``[H, W, 3]`` colours (before rounding).
    """
    n = SUPERSAMPLING if samples_per_axis is None else int(samples_per_axis)
    if n <= 1:
        return render_frame(scene, t).rgb
    offsets = (np.arange(n) + 0.5) / n - 0.5
    total = 0.0
    for oy in offsets:
        for ox in offsets:
            # A pixel's ray goes through (x - cx) / f: moving the principal point by -o
            # moves every ray to the sub-pixel position x + o.
            shifted = dataclasses.replace(scene, cx=scene.cx - ox, cy=scene.cy - oy)
            total = total + render_frame(shifted, t).rgb
    return total / (n * n)
