"""The exact forward optical flow between two rendered frames.

The forward flow at pixel ``p`` of frame ``t`` is computed analytically: the
3-D point hit at ``p`` is moved with its object's motion to time ``t + 1``
(static points stay put, the camera moves and turns), projected into frame
``t + 1``, and ``flow = projection - p`` (channel 0 = ``u = dx``, channel
1 = ``v = dy``, in pixels). The sky, at infinity, moves by the camera's turn
alone (not at all while it drives straight); the hood has zero flow. A flow
vector is *valid* when

1. the moved point is in front of the camera and projects inside frame
   ``t + 1`` (``0 <= x' <= W - 1`` and ``0 <= y' <= H - 1``), and
2. it is not occluded there: the depth buffer of frame ``t + 1`` at the
   rounded target pixel shows the same surface (same plane / sprite) at the
   point's depth, within a tolerance of one pixel's depth change along that
   plane (exact for sprites).

So occlusions and content that leaves the image are marked invalid, and
disoccluded / newly entering content simply has no valid source.
"""

import math

import numpy as np

from seg2vid_tf.data.synthetic.camera import NEAR, sprite_in_camera
from seg2vid_tf.data.synthetic.raycast import (SID_FIRST_SPRITE, SID_GROUND, SID_HOOD, SID_LEFT,
                                               SID_RIGHT, SID_SKY)


def _surface_tables(scene, t):
    """Per surface id, for the step t -> t+1: the sprite origins in camera t (X) and camera t+1
    (X, depth), and each plane's distance from camera t+1 (inf for the billboards)."""
    n_sid = SID_FIRST_SPRITE + len(scene.sprites)
    origin_x_now = np.zeros(n_sid)
    origin_x_next = np.zeros(n_sid)
    origin_depth_next = np.ones(n_sid)
    plane_dist = np.full(n_sid, np.inf)  # distance camera -> plane (depth slope)
    plane_dist[SID_GROUND] = scene.cam_h
    for fac, sid_value in zip(scene.facades, (SID_LEFT, SID_RIGHT)):
        plane_dist[sid_value] = abs(fac.side * fac.dist - scene.cam_x[t + 1])
    for k, sp in enumerate(scene.sprites):
        origin_x_now[SID_FIRST_SPRITE + k] = sprite_in_camera(scene, sp, t, t)[0]
        origin_x_next[SID_FIRST_SPRITE + k], origin_depth_next[SID_FIRST_SPRITE + k] = \
            sprite_in_camera(scene, sp, t + 1, t + 1)
    return origin_x_now, origin_x_next, origin_depth_next, plane_dist


def compute_flow(scene, t, cur, nxt):
    """Exact forward flow from frame t to t+1 and its validity mask.

    Static surfaces (ground, facades) go from camera t through the world into
    camera t+1; a sprite's point keeps its place on the billboard, which moves
    with the sprite and faces each camera; the sky, at infinity, moves by the
    camera's turn only; the hood moves with the camera.

    Args:
        scene: The `Scene`.
        t: Frame index (< F - 1).
        cur: `raycast.Frame` t (rendered through the pixel centres).
        nxt: `raycast.Frame` t + 1.

    Returns:
        ``(flow, valid)``: float32 ``[H, W, 2]`` (u = dx, v = dy in pixels)
        and bool ``[H, W]``.
    """
    H, W = scene.height, scene.width
    f, cx, cy = scene.f, scene.cx, scene.cy
    origin_x_now, origin_x_next, origin_depth_next, plane_dist = _surface_tables(scene, t)
    sid = cur.sid
    px = np.broadcast_to(np.arange(W, dtype=np.float64)[None, :], (H, W))
    py = np.broadcast_to(np.arange(H, dtype=np.float64)[:, None], (H, W))
    geometric = (sid != SID_SKY) & (sid != SID_HOOD)
    sprite = sid >= SID_FIRST_SPRITE
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
    front = zn > NEAR
    zn_safe = np.where(front, zn, 1.0)
    xn = cx + f * xn_cam / zn_safe
    yn = cy + f * cur.Y / zn_safe
    fx = np.where(geometric & front, xn - px, 0.0)
    fy = np.where(geometric & front, yn - py, 0.0)
    # The sky: the same direction seen from the turned camera.
    sky = sid == SID_SKY
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
