"""The camera's motion (speeds, path, heading) and the world-to-camera transform.

Camera speeds are in metres per frame (before ``motion_scale``):
``NEAR_STOPPED_FRACTION`` of the sequences creep at 0.02..0.15 (queueing at a
light), the rest drive at 0.3..1.4. ``STRAIGHT_FRACTION`` of the sequences
drive straight; the others follow a gentle curve of curvature 1/300 to 1/40
per metre (radii of 300 m down to 40 m), turning left or right.
"""

import math

import numpy as np

NEAR = 0.5  # Near clipping distance in metres.

NEAR_STOPPED_FRACTION = 0.15
_CREEP_SPEEDS = (0.02, 0.15)
_DRIVING_SPEEDS = (0.3, 1.4)
MEAN_CAMERA_SPEED = (NEAR_STOPPED_FRACTION * sum(_CREEP_SPEEDS) / 2
                     + (1 - NEAR_STOPPED_FRACTION) * sum(_DRIVING_SPEEDS) / 2)
STRAIGHT_FRACTION = 0.5
CURVATURES = (1.0 / 300.0, 1.0 / 40.0)


def draw_camera_speed(u):
    """Maps one uniform draw `u` in [0, 1) to a start speed (metres per frame)."""
    if u < NEAR_STOPPED_FRACTION:
        lo, hi = _CREEP_SPEEDS
        return lo + (hi - lo) * u / NEAR_STOPPED_FRACTION
    lo, hi = _DRIVING_SPEEDS
    return lo + (hi - lo) * (u - NEAR_STOPPED_FRACTION) / (1.0 - NEAR_STOPPED_FRACTION)


def camera_speeds(speed0, accel, num_frames):
    """Speed of each frame transition: `speed0` changing by `accel` per frame, never reversing."""
    return np.maximum(speed0 + accel * np.arange(max(num_frames - 1, 1)), 0.0)


def camera_path(speeds, curvature, num_frames):
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


def to_camera(scene, x, z, t):
    """World (X, Z) -> camera frame t's (X, depth)."""
    rel_x, rel_z = x - scene.cam_x[t], z - scene.cam_z[t]
    cos_h, sin_h = math.cos(scene.heading[t]), math.sin(scene.heading[t])
    return cos_h * rel_x - sin_h * rel_z, sin_h * rel_x + cos_h * rel_z


def sprite_in_camera(scene, sprite, t, camera_t):
    """Camera frame `camera_t`'s (X, depth) of the sprite's origin at time t."""
    return to_camera(scene, sprite.x + sprite.vx * t, sprite.z + sprite.vz * t, camera_t)
