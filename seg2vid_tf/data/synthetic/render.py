"""Rendering whole sequences: frames, labels and exact forward flow of one random scene.

:func:`render_sequence` draws a scene (:mod:`sampling`), ray casts its frames
(:mod:`raycast`) and computes the flow between them (:mod:`flow`).
:func:`sequence_rng` gives each sequence of a dataset its own generator.
"""

import numpy as np

from seg2vid_tf.data.synthetic.flow import compute_flow
from seg2vid_tf.data.synthetic.raycast import antialiased_rgb, render_frame
from seg2vid_tf.data.synthetic.sampling import sample_scene

# Bumped whenever the same settings render different pixels, so that `make demo` does not
# reuse stale data (data written before the field existed reads as version 1).
RENDERER_VERSION = 5
# Version 3 integrates each pixel over its area (a stratified grid of rays, see
# `raycast.antialiased_rgb`) instead of shading only the ray through its centre. Version 4 gives the
# asphalt a stronger grain at 30-60 cm. Version 5 draws camera speeds from near-stopped to fast
# (`camera.draw_camera_speed`) and turns the camera gently (a yaw rate per sequence).
# (Version 2 was a rougher asphalt that never shipped in a release.)


def _to_uint8(rgb):
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def _as_rng(rng_or_seed):
    if isinstance(rng_or_seed, np.random.Generator):
        return rng_or_seed
    return np.random.default_rng(rng_or_seed)


def check_sizes(num_frames, height, width):
    """Raises ValueError unless num_frames >= 2 and height, width are multiples of 16, >= 32."""
    for name, value in (("num_frames", num_frames), ("height", height), ("width", width)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            raise ValueError(f"{name} must be an int, got {value!r}.")
    if num_frames < 2:
        raise ValueError(f"num_frames must be >= 2, got {num_frames}.")
    for name, value in (("height", height), ("width", width)):
        if value < 32 or value % 16:
            raise ValueError(f"{name} must be a multiple of 16 and >= 32, got {value}.")


def check_motion_scale(motion_scale):
    """Raises ValueError unless `motion_scale` is a number in (0, 4]."""
    if isinstance(motion_scale, bool) or not isinstance(motion_scale, (int, float, np.floating)) \
            or not 0.0 < float(motion_scale) <= 4.0:
        raise ValueError(f"motion_scale must be a number in (0, 4], got {motion_scale!r}.")


def check_speed_variation(speed_variation):
    """Raises ValueError unless `speed_variation` is a number in [0, 1]."""
    if isinstance(speed_variation, bool) \
            or not isinstance(speed_variation, (int, float, np.floating)) \
            or not 0.0 <= float(speed_variation) <= 1.0:
        raise ValueError(f"speed_variation must be a number in [0, 1], got {speed_variation!r}.")


def render_sequence_full(rng_or_seed, num_frames, height, width, motion_scale=1.0,
                         speed_variation=1.0):
    """:func:`render_sequence`'s ``(frames, labels, flows, valid)`` and the drawn `Scene`."""
    check_sizes(num_frames, height, width)
    check_motion_scale(motion_scale)
    check_speed_variation(speed_variation)
    rng = _as_rng(rng_or_seed)
    scene = sample_scene(rng, int(num_frames), int(height), int(width), float(motion_scale),
                         float(speed_variation))
    # The pixel-centre render gives the labels, depths and flow; the colours are
    # integrated over each pixel.
    frames_info = [render_frame(scene, t) for t in range(num_frames)]
    frames = np.stack([_to_uint8(antialiased_rgb(scene, t)) for t in range(num_frames)])
    labels = np.stack([fr.label for fr in frames_info])
    flows, valid = [], []
    for t in range(num_frames - 1):
        fl, va = compute_flow(scene, t, frames_info[t], frames_info[t + 1])
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
    frames, labels, flows, valid, _ = render_sequence_full(rng_or_seed, num_frames, height, width,
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
