"""Pixel-area integration (anti-aliasing) of the ray-cast frames."""

import numpy as np

from seg2vid_tf.data.synthetic import raycast, render
from seg2vid_tf.testing.flow_checks import warp_mae

H, W, F = 64, 128, 5


def _centre_and_integrated(seed, num_frames=F):
    """(pixel-centre frames, area-integrated frames, flows, valid) of one scene."""
    _, _, flows, valid, scene = render.render_sequence_full(
        render.sequence_rng(0, seed), num_frames, H, W)
    centre = np.stack([raycast.antialiased_rgb(scene, t, 1) for t in range(num_frames)])
    integrated = np.stack([raycast.antialiased_rgb(scene, t) for t in range(num_frames)])
    return centre, integrated, flows, valid


def test_one_ray_per_pixel_is_the_centre_render():
    _, _, _, _, scene = render.render_sequence_full(render.sequence_rng(0, 1), 2, H, W)
    np.testing.assert_array_equal(raycast.antialiased_rgb(scene, 0, 1),
                                  raycast.render_frame(scene, 0).rgb)


def test_integrated_frames_are_band_limited_and_keep_their_place():
    centre, integrated, _, _ = _centre_and_integrated(0, num_frames=2)
    # Same picture (no shift, no colour change), with less energy in the finest detail.
    assert np.abs(integrated.mean((1, 2)) - centre.mean((1, 2))).max() < 1.0
    laplacian = lambda x: np.abs(4 * x[:, 1:-1, 1:-1] - x[:, :-2, 1:-1] - x[:, 2:, 1:-1]
                                 - x[:, 1:-1, :-2] - x[:, 1:-1, 2:]).mean()
    assert laplacian(integrated) < 0.8 * laplacian(centre)
    shifted = np.abs(integrated[0, :, 1:] - centre[0, :, :-1]).mean()
    assert np.abs(integrated[0] - centre[0]).mean() < 0.6 * shifted


def test_integrated_frames_follow_the_flow_better():
    """What the renderer integrates pixels for: photometric losses can find the flow.

    On the pixel-centre render, bilinear resampling by a small fraction of the
    true flow costs more (it blurs aliased edges) than it gains, so zero flow is
    a local minimum of the L1 photometric error along the true flow. On the
    integrated frames the error falls from zero flow on, and the true flow
    reproduces the next frame more closely.
    """
    slopes = {"centre": [], "integrated": []}
    at_truth = {"centre": [], "integrated": []}
    for seed in range(3):
        centre, integrated, flows, valid = _centre_and_integrated(seed, num_frames=2)
        for name, frames in (("centre", centre), ("integrated", integrated)):
            errors = [warp_mae(frames[0], frames[1], alpha * flows[0], valid[0])
                      for alpha in (0.0, 0.1, 1.0)]
            slopes[name].append(errors[1] - errors[0])
            at_truth[name].append(errors[2])
    assert np.mean(slopes["integrated"]) < 0, slopes
    assert np.mean(slopes["integrated"]) < np.mean(slopes["centre"]), slopes
    assert np.mean(at_truth["integrated"]) < 0.9 * np.mean(at_truth["centre"]), at_truth
