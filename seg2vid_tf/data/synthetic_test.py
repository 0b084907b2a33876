"""Tests for seg2vid_tf.data.synthetic (procedural driving scenes with exact flow)."""

import glob
import json
import os
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
from PIL import Image

from seg2vid_tf.data import decode_errors, registry, synthetic
from seg2vid_tf.models.config import Img2VidConfig
from seg2vid_tf.testing import corrupt_files
from seg2vid_tf.training.config import TrainConfig

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
H, W, F = 64, 128, 5


@pytest.fixture(scope="module")
def sequences():
    """A few rendered sequences (frames, labels, flows, valid), cached per module."""
    return [synthetic.render_sequence(synthetic.sequence_rng(0, k), F, H, W) for k in range(3)]


# ---------------------------------------------------------------------------
# NumPy helpers (independent of the generator).
# ---------------------------------------------------------------------------
def _bilinear(image, x, y):
    """Bilinear sample of image [H, W, C] at float coordinates x, y [H, W]."""
    height, width = image.shape[:2]
    x = np.clip(x, 0, width - 1)
    y = np.clip(y, 0, height - 1)
    x0 = np.clip(np.floor(x).astype(np.int64), 0, width - 2)
    y0 = np.clip(np.floor(y).astype(np.int64), 0, height - 2)
    fx = (x - x0)[..., None]
    fy = (y - y0)[..., None]
    img = image.astype(np.float64)
    return (img[y0, x0] * (1 - fx) * (1 - fy) + img[y0, x0 + 1] * fx * (1 - fy)
            + img[y0 + 1, x0] * (1 - fx) * fy + img[y0 + 1, x0 + 1] * fx * fy)


def _near_edges(labels, frame, texture_threshold=24.0):
    """Pixels within 1 px of a label edge or of a strong texture discontinuity.

    A texture discontinuity is a 3x3 neighbourhood whose grey-level range
    exceeds `texture_threshold` (window frames, lane markings, tile grout...).
    """
    height, width = labels.shape
    lab = np.pad(labels, 1, mode="edge")
    grey = np.pad(frame.astype(np.float64).mean(-1), 1, mode="edge")
    edge = np.zeros((height, width), bool)
    lo = np.full((height, width), np.inf)
    hi = np.full((height, width), -np.inf)
    for dy in range(3):
        for dx in range(3):
            edge |= lab[dy:dy + height, dx:dx + width] != labels
            lo = np.minimum(lo, grey[dy:dy + height, dx:dx + width])
            hi = np.maximum(hi, grey[dy:dy + height, dx:dx + width])
    return edge | (hi - lo > texture_threshold)


def _label_agreement(labels_t, labels_t1, flow, valid):
    """Fraction of valid pixels p with labels_t1[round(p + flow)] == labels_t[p]."""
    yy, xx = np.mgrid[0:H, 0:W]
    qx = np.clip(np.rint(xx + flow[..., 0]), 0, W - 1).astype(np.int64)
    qy = np.clip(np.rint(yy + flow[..., 1]), 0, H - 1).astype(np.int64)
    return float((labels_t1[qy, qx] == labels_t)[valid].mean())


def _warp_mae(frame_t, frame_t1, flow, mask):
    """Mean |frame_t - frame_t1 sampled at p + flow| over mask (0..255 units)."""
    yy, xx = np.mgrid[0:H, 0:W]
    warped = _bilinear(frame_t1, xx + flow[..., 0], yy + flow[..., 1])
    return float(np.abs(warped - frame_t).mean(-1)[mask].mean())


# ---------------------------------------------------------------------------
# Flow correctness.
# ---------------------------------------------------------------------------
def test_render_shapes_and_dtypes(sequences):
    frames, labels, flows, valid = sequences[0]
    assert frames.shape == (F, H, W, 3) and frames.dtype == np.uint8
    assert labels.shape == (F, H, W) and labels.dtype == np.uint8
    assert flows.shape == (F - 1, H, W, 2) and flows.dtype == np.float32
    assert valid.shape == (F - 1, H, W) and valid.dtype == bool
    assert labels.max() <= synthetic.VOID_ID
    assert np.all(np.isfinite(flows))


def test_flow_labels_nearest_neighbour(sequences):
    """labels_{t+1}[round(p + flow)] == labels_t[p] on >= 99% of valid pixels;
    zero flow and sign-flipped flow are clearly worse."""
    for frames, labels, flows, valid in sequences:
        exact, zero, flipped = [], [], []
        for t in range(F - 1):
            exact.append(_label_agreement(labels[t], labels[t + 1], flows[t], valid[t]))
            zero.append(_label_agreement(labels[t], labels[t + 1], 0 * flows[t], valid[t]))
            flipped.append(_label_agreement(labels[t], labels[t + 1], -flows[t], valid[t]))
        assert min(exact) >= 0.99, exact
        assert np.mean(zero) <= 0.98 and np.mean(zero) < np.mean(exact) - 0.01, (zero, exact)
        assert np.mean(flipped) <= 0.97 and np.mean(flipped) < np.mean(exact) - 0.02, (flipped, exact)


def test_flow_backward_warp_reproduces_frame(sequences):
    """Bilinear sampling of frame t+1 at p + flow(p) reproduces frame t."""
    for frames, labels, flows, valid in sequences:
        for t in range(F - 1):
            mask = valid[t] & ~_near_edges(labels[t], frames[t])
            assert mask.mean() > 0.25  # The test covers a large part of the image.
            mae = _warp_mae(frames[t], frames[t + 1], flows[t], mask)
            mae_zero = _warp_mae(frames[t], frames[t + 1], 0 * flows[t], mask)
            mae_flip = _warp_mae(frames[t], frames[t + 1], -flows[t], mask)
            assert mae < 2.0, (t, mae)
            assert mae_zero > 2.5 * mae and mae_zero > 3.0, (t, mae, mae_zero)
            assert mae_flip > 2.5 * mae, (t, mae, mae_flip)


def test_there_is_motion_and_invalid_pixels(sequences):
    for frames, labels, flows, valid in sequences:
        magnitude = np.hypot(flows[..., 0], flows[..., 1])
        assert magnitude[valid].mean() > 0.5
        assert 0.3 < valid.mean() < 0.98  # Occlusions and borders are invalid.
        assert (~valid).sum(axis=(1, 2)).min() > 0
        assert not np.array_equal(frames[0], frames[-1])


def test_flow_physics(sequences):
    """The sky moves uniformly (by the camera's turn alone); the static road moves down (the
    camera drives forward); the ground expands away from the vanishing point."""
    for frames, labels, flows, valid in sequences:
        sky = labels[:-1] == synthetic.SKY
        assert sky.any()
        assert np.all(np.abs(flows[..., 1][sky]) < 0.2)
        road = (labels[:-1] == synthetic.ROAD) & valid
        assert road.any()
        assert np.all(flows[..., 1][road] >= -1e-4)
        # Pixels of the lowest road rows move faster than those near the horizon.
        rows = np.nonzero(road.any(axis=(0, 2)))[0]
        v = flows[..., 1]
        near = v[:, rows[-3:], :][road[:, rows[-3:], :]].mean()
        far = v[:, rows[:3], :][road[:, rows[:3], :]].mean()
        assert near > far


def _first_scene(turning):
    """The first of dataset seed 3's scenes that turns (or drives straight)."""
    for k in range(40):
        scene = synthetic._sample_scene(synthetic.sequence_rng(3, k), F, H, W)
        if (scene.yaw_rate != 0.0) == turning:
            return k, scene
    raise AssertionError("no such scene in 40 draws")


@pytest.mark.parametrize("turning", [False, True])
def test_sky_moves_by_the_turn_alone(turning):
    """At infinity only rotation shows: a ray at angle atan((x - cx) / f) from the optical axis
    is seen at that angle minus the heading change (pinhole geometry, not the renderer's code)."""
    k, _ = _first_scene(turning)
    _, labels, flows, valid, scene = synthetic._render_sequence_full(
        synthetic.sequence_rng(3, k), F, H, W)
    for t in range(F - 1):
        turn = scene.heading[t + 1] - scene.heading[t]
        rows, cols = np.nonzero((labels[t] == synthetic.SKY) & valid[t])
        assert rows.size > 50
        angle = np.arctan((cols - scene.cx) / scene.f)
        expected_x = scene.cx + scene.f * np.tan(angle - turn) - cols
        expected_y = (rows - scene.cy) * (np.cos(angle) / np.cos(angle - turn)) - (rows - scene.cy)
        np.testing.assert_allclose(flows[t][rows, cols, 0], expected_x, atol=1e-3)
        np.testing.assert_allclose(flows[t][rows, cols, 1], expected_y, atol=1e-3)
        if turning:
            assert abs(np.median(expected_x)) > 0.05  # the test sees the turn


def test_a_turning_camera_has_flow_that_reproduces_the_frames():
    """Bilinear sampling of frame t+1 at p + flow(p) reproduces frame t while turning too."""
    k, _ = _first_scene(True)
    frames, labels, flows, valid = synthetic.render_sequence(synthetic.sequence_rng(3, k), F, H, W)
    for t in range(F - 1):
        mask = valid[t] & ~_near_edges(labels[t], frames[t])
        mae = _warp_mae(frames[t], frames[t + 1], flows[t], mask)
        mae_zero = _warp_mae(frames[t], frames[t + 1], 0 * flows[t], mask)
        assert mae < 2.0 and mae_zero > 2.5 * mae, (t, mae, mae_zero)


def test_camera_motion_spans_stopped_to_fast_and_straight_to_turning():
    """The drawn camera motions: mean speeds over a wide range with near-stopped sequences,
    half the sequences straight, the others turning gently both ways."""
    speeds, yaws = [], []
    for k in range(400):
        scene = synthetic._sample_scene(synthetic.sequence_rng(7, k), 9, 32, 32)
        motion = synthetic.sequence_motion(scene)
        speeds.append(np.mean(motion["camera_speed"]))
        yaws.append(motion["yaw_rate"])
        np.testing.assert_allclose(motion["yaw_rate"], np.mean(np.diff(scene.heading)), atol=1e-6)
    speeds, yaws = np.array(speeds), np.array(yaws)
    assert np.percentile(speeds, 90) > 3 * np.percentile(speeds, 25)
    assert 0.08 < np.mean(speeds < 0.16) < 0.25  # near-stopped: at most a few km/h
    assert speeds.max() > 1.2
    straight = yaws == 0.0
    assert 0.4 < straight.mean() < 0.6
    assert 0.35 < np.mean(yaws[~straight] > 0) < 0.65  # left and right
    # Gentle: at most 2 degrees per frame at the fastest.
    assert np.abs(yaws).max() < np.radians(2.0)


def test_all_main_classes_appear():
    seen = set()
    for k in range(5):
        _, labels, _, _ = synthetic.render_sequence(synthetic.sequence_rng(1, k), 2, H, W)
        seen |= set(np.unique(labels).tolist())
    wanted = {synthetic.ROAD, synthetic.SIDEWALK, synthetic.BUILDING, synthetic.SKY,
              synthetic.VEGETATION, synthetic.CAR, synthetic.PERSON, synthetic.POLE}
    assert wanted <= seen, sorted(wanted - seen)
    assert max(seen) <= synthetic.VOID_ID


# ---------------------------------------------------------------------------
# Pixel-area integration (anti-aliasing).
# ---------------------------------------------------------------------------
def _centre_and_integrated(seed, num_frames=F):
    """(pixel-centre frames, area-integrated frames, flows, valid) of one scene."""
    _, _, flows, valid, scene = synthetic._render_sequence_full(
        synthetic.sequence_rng(0, seed), num_frames, H, W)
    centre = np.stack([synthetic._antialiased_rgb(scene, t, 1) for t in range(num_frames)])
    integrated = np.stack([synthetic._antialiased_rgb(scene, t) for t in range(num_frames)])
    return centre, integrated, flows, valid


def test_one_ray_per_pixel_is_the_centre_render():
    _, _, _, _, scene = synthetic._render_sequence_full(synthetic.sequence_rng(0, 1), 2, H, W)
    np.testing.assert_array_equal(synthetic._antialiased_rgb(scene, 0, 1),
                                  synthetic._render_frame(scene, 0).rgb)


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
            errors = [_warp_mae(frames[0], frames[1], alpha * flows[0], valid[0])
                      for alpha in (0.0, 0.1, 1.0)]
            slopes[name].append(errors[1] - errors[0])
            at_truth[name].append(errors[2])
    assert np.mean(slopes["integrated"]) < 0, slopes
    assert np.mean(slopes["integrated"]) < np.mean(slopes["centre"]), slopes
    assert np.mean(at_truth["integrated"]) < 0.9 * np.mean(at_truth["centre"]), at_truth


def test_parallel_generation_writes_the_same_files(tmp_path):
    kwargs = dict(num_sequences=3, num_frames=2, height=H, width=W, seed=4)
    synthetic.generate_dataset(str(tmp_path / "one"), num_workers=1, **kwargs)
    synthetic.generate_dataset(str(tmp_path / "two"), num_workers=2, **kwargs)
    assert _files_by_name(tmp_path / "one") == _files_by_name(tmp_path / "two")
    one = json.load(open(tmp_path / "one" / "synthetic.json"))
    two = json.load(open(tmp_path / "two" / "synthetic.json"))
    assert one == two
    with pytest.raises(ValueError, match="num_workers"):
        synthetic.generate_dataset(str(tmp_path / "bad"), num_workers=-1, **kwargs)


# ---------------------------------------------------------------------------
# Determinism.
# ---------------------------------------------------------------------------
def test_render_is_deterministic():
    a = synthetic.render_sequence(7, 3, H, W)
    b = synthetic.render_sequence(7, 3, H, W)
    c = synthetic.render_sequence(8, 3, H, W)
    for x, y in zip(a, b):
        assert x.tobytes() == y.tobytes()
    assert a[0].tobytes() != c[0].tobytes()
    d = synthetic.render_sequence(np.random.default_rng(7), 3, H, W)
    assert a[0].tobytes() == d[0].tobytes()


def _files_by_name(root):
    return {os.path.basename(p): open(p, "rb").read()
            for p in glob.glob(os.path.join(root, "**", "*.png"), recursive=True)}


def test_dataset_sequences_independent_of_count(tmp_path):
    kwargs = dict(num_frames=3, height=H, width=W, seed=11)
    synthetic.generate_dataset(str(tmp_path / "two"), num_sequences=2, **kwargs)
    synthetic.generate_dataset(str(tmp_path / "three"), num_sequences=3, **kwargs)
    synthetic.generate_dataset(str(tmp_path / "other"), num_sequences=2, **dict(kwargs, seed=12))
    two = _files_by_name(tmp_path / "two")
    three = _files_by_name(tmp_path / "three")
    other = _files_by_name(tmp_path / "other")
    assert len(two) == 2 * (3 + 3 + 2)
    assert set(two) < set(three)
    for name, data in two.items():
        assert three[name] == data, name  # Same bytes, even across splits.
    frame = "synth_000000_000000_leftImg8bit.png"
    assert other[frame] != two[frame]


# ---------------------------------------------------------------------------
# Layout and command line.
# ---------------------------------------------------------------------------
def _expected_files(root, split, city, seqs, frames):
    out = set()
    for s in seqs:
        for t in range(frames):
            out.add(f"leftImg8bit_sequence/{split}/{city}/{city}_{s:06d}_{t:06d}_leftImg8bit.png")
            out.add(f"gtFine_sequence/{split}/{city}/{city}_{s:06d}_{t:06d}_gtFine_labelTrainIds.png")
            if t < frames - 1:
                out.add(f"flow/{split}/{city}/{city}_{s:06d}_{t:06d}_flow.png")
    return out


def _run_cli(*args):
    return subprocess.run([sys.executable, "-m", "seg2vid_tf.data.synthetic", *args],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)


def test_command_line_layout(tmp_path):
    out = tmp_path / "synth"
    res = _run_cli(f"--output_dir={out}", "--num_sequences=3", "--num_frames=3",
                   f"--height={H}", f"--width={W}", "--seed=5", "--val_fraction=0.34",
                   "--city=testcity")
    assert res.returncode == 0, res.stderr
    assert "2 train" in res.stdout and "1 val" in res.stdout and str(out) in res.stdout
    files = {os.path.relpath(p, out) for p in glob.glob(str(out / "**" / "*"), recursive=True)
             if os.path.isfile(p)}
    expected = (_expected_files(out, "train", "testcity", [0, 1], 3)
                | _expected_files(out, "val", "testcity", [2], 3) | {"synthetic.json"})
    assert files == expected
    meta = json.loads((out / "synthetic.json").read_text())
    assert meta["splits"] == {"train": [0, 1], "val": [2]}
    assert meta["settings"]["seed"] == 5 and meta["settings"]["city"] == "testcity"
    assert meta["renderer_version"] == synthetic.RENDERER_VERSION
    _check_recorded_motion(out, meta)
    for name in sorted(files):
        path = out / name
        if name.endswith("_leftImg8bit.png"):
            with Image.open(path) as img:
                assert img.mode == "RGB" and img.size == (W, H)
        elif name.endswith("_gtFine_labelTrainIds.png"):
            with Image.open(path) as img:
                assert img.mode == "L" and img.size == (W, H)
                assert np.asarray(img).max() <= 19
        elif name.endswith("_flow.png"):
            flow, valid = synthetic.read_kitti_flow(str(path))
            assert flow.shape == (H, W, 2) and valid.shape == (H, W)
            assert 0 < valid.mean() < 1


def _check_recorded_motion(out, meta):
    """The recorded camera speed is the one the written flow shows on the road.

    Under a pure forward translation by dZ, a ground pixel at row y (depth
    Z = f h / (y - cy)) moves to row cy + f h / (Z - dZ): pinhole geometry,
    computed here from the recorded focal length, principal point, camera
    height and `motion["camera_speed"][0]`, not by the renderer.
    """
    straight = [entry for entry in meta["sequences"]["train"] if entry["motion"]["yaw_rate"] == 0]
    assert straight, "the check needs a sequence that drives straight"
    entry = straight[0]
    motion = entry["motion"]
    assert len(motion["camera_speed"]) == meta["settings"]["num_frames"] - 1
    assert all(obj["class"] in ("car", "truck", "bus", "tram", "person", "cyclist")
               and len(obj["velocity"]) == 2 for obj in motion["objects"])
    prefix = os.path.join(out, "{}", "train", "testcity", entry["prefix"] + "_000000_{}.png")
    flow, valid = synthetic.read_kitti_flow(prefix.format("flow", "flow"))
    with Image.open(prefix.format("gtFine_sequence", "gtFine_labelTrainIds")) as image:
        labels = np.asarray(image)
    f, (_, cy), h = entry["focal_px"], entry["principal_point_px"], entry["camera_height_m"]
    rows, cols = np.nonzero((labels == synthetic.ROAD) & valid)
    keep = rows > cy + 2
    rows, cols = rows[keep], cols[keep]
    depth = f * h / (rows - cy)
    expected_v = cy + f * h / (depth - motion["camera_speed"][0]) - rows
    np.testing.assert_allclose(flow[rows, cols, 1], expected_v, atol=0.02)


def test_command_line_matches_api(tmp_path, sequences):
    """The files hold exactly what render_sequence returns for that sequence."""
    synthetic.generate_dataset(str(tmp_path), 1, F, H, W, seed=0)
    frames, labels, flows, valid = sequences[0]
    paths = synthetic.sequence_paths(str(tmp_path), "train", "synth", 0, F)
    for t in range(F):
        assert np.array_equal(np.asarray(Image.open(paths["frames"][t])), frames[t])
        assert np.array_equal(np.asarray(Image.open(paths["labels"][t])), labels[t])
    for t in range(F - 1):
        flow, ok = synthetic.read_kitti_flow(paths["flows"][t])
        assert np.array_equal(ok, valid[t])
        assert np.abs(flow - flows[t]).max() <= 1 / 128 + 1e-6


def test_flagfile_with_unrelated_flags(tmp_path):
    out = tmp_path / "ff"
    flagfile = tmp_path / "shared.cfg"
    flagfile.write_text("\n".join([
        "# shared config of several programs",
        f"--output_dir={out}", "--num_sequences=2", "--num_frames=2",
        f"--height={H}", f"--width={W}", "--seed=1", "--train_steps=10",
        "--learning_rate=0.001", "--nouse_xla", ""]))
    res = _run_cli(f"--flagfile={flagfile}", "--seed=4")
    assert res.returncode == 0, res.stderr
    meta = json.loads((out / "synthetic.json").read_text())
    assert meta["settings"]["seed"] == 4  # The command line overrides the flagfile.
    assert meta["settings"]["num_sequences"] == 2 and meta["settings"]["num_frames"] == 2
    assert meta["splits"] == {"train": [0], "val": [1]}


@pytest.mark.parametrize("bad", ["--height=40", "--width=16", "--num_frames=1",
                                 "--num_sequences=0", "--val_fraction=1.0"])
def test_command_line_rejects_bad_flags(tmp_path, bad):
    res = _run_cli(f"--output_dir={tmp_path / 'x'}", "--num_sequences=1", "--num_frames=2",
                   f"--height={H}", f"--width={W}", "--seed=0", bad)
    assert res.returncode != 0
    flag = bad[2:].split("=")[0]
    assert flag in res.stderr
    assert not os.path.exists(tmp_path / "x")


def test_api_validation():
    with pytest.raises(ValueError, match="height"):
        synthetic.render_sequence(0, 3, 40, 64)
    with pytest.raises(ValueError, match="num_frames"):
        synthetic.render_sequence(0, 1, 32, 64)
    with pytest.raises(ValueError, match="val_fraction"):
        synthetic.generate_dataset("/nonexistent/x", 2, 2, 32, 32, 0, val_fraction=-0.1)


def test_motion_scale_keeps_the_scene_and_scales_its_motion():
    frames, labels, flows, valid = synthetic.render_sequence(5, 3, 64, 96)
    slow_frames, slow_labels, slow_flows, slow_valid = synthetic.render_sequence(
        5, 3, 64, 96, motion_scale=0.5)
    # Same layout and start frame; the later frames differ.
    np.testing.assert_array_equal(slow_frames[0], frames[0])
    np.testing.assert_array_equal(slow_labels[0], labels[0])
    assert np.abs(slow_frames[2].astype(int) - frames[2]).mean() > 0.5
    both = valid[0] & slow_valid[0]
    fast = np.hypot(*np.moveaxis(flows[0][both], -1, 0)).mean()
    slow = np.hypot(*np.moveaxis(slow_flows[0][both], -1, 0)).mean()
    # Under perspective the flow is not exactly linear in the speed, but close to it.
    assert 0.4 < slow / fast < 0.6
    with pytest.raises(ValueError, match="motion_scale"):
        synthetic.render_sequence(5, 3, 64, 96, motion_scale=0.0)
    with pytest.raises(ValueError, match="motion_scale"):
        synthetic.generate_dataset("/nonexistent/x", 2, 2, 32, 32, 0, motion_scale=-1.0)


def test_speed_variation_keeps_the_scenes_and_narrows_the_camera_speeds():
    def camera_speeds(speed_variation):
        speeds, starts = [], []
        for k in range(6):
            _, _, _, _, scene = synthetic._render_sequence_full(
                synthetic.sequence_rng(0, k), 3, 64, 96, speed_variation=speed_variation)
            speeds.append(np.hypot(scene.cam_x[1] - scene.cam_x[0], scene.cam_z[1] - scene.cam_z[0]))
            starts.append(synthetic._render_frame(scene, 0).rgb)
        return np.array(speeds), starts

    full, full_starts = camera_speeds(1.0)
    narrow, narrow_starts = camera_speeds(0.25)
    none, _ = camera_speeds(0.0)
    for a, b in zip(full_starts, narrow_starts):
        np.testing.assert_array_equal(a, b)  # the same scenes
    mean = synthetic._MEAN_CAMERA_SPEED
    np.testing.assert_allclose(narrow - mean, 0.25 * (full - mean), atol=1e-9)
    np.testing.assert_allclose(none, mean)
    with pytest.raises(ValueError, match="speed_variation"):
        synthetic.render_sequence(5, 3, 64, 96, speed_variation=1.5)


def test_split_counts():
    assert synthetic.split_counts(24, 0.25) == (18, 6)
    assert synthetic.split_counts(1, 0.25) == (1, 0)
    assert synthetic.split_counts(2, 0.25) == (1, 1)
    assert synthetic.split_counts(2, 0.0) == (2, 0)
    assert synthetic.split_counts(3, 0.1) == (2, 1)
    assert synthetic.split_counts(10, 0.99) == (1, 9)


# ---------------------------------------------------------------------------
# KITTI flow PNG codec.
# ---------------------------------------------------------------------------
def test_kitti_flow_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    flow = rng.uniform(-300, 300, (17, 23, 2)).astype(np.float32)
    valid = rng.random((17, 23)) < 0.7
    path = synthetic.write_kitti_flow(str(tmp_path / "f.png"), flow, valid)
    back, back_valid = synthetic.read_kitti_flow(path)
    assert back.dtype == np.float32 and back.shape == flow.shape
    assert np.abs(back - flow).max() <= 1 / 64
    assert np.array_equal(back_valid, valid)
    # Values beyond the uint16 range are clipped.
    synthetic.write_kitti_flow(path, np.full((2, 3, 2), 1e4, np.float32), np.ones((2, 3), bool))
    back, _ = synthetic.read_kitti_flow(path)
    assert np.allclose(back, (65535 - 2 ** 15) / 64)


def _filtered_png16(image, filter_types):
    """Independent 16-bit RGB PNG encoder with the given per-row filter types."""
    height, width, _ = image.shape
    raw = np.ascontiguousarray(image, ">u2").view(np.uint8).reshape(height, width * 6).astype(np.int64)
    bpp = 6
    rows = []
    for r in range(height):
        cur = raw[r]
        prev = raw[r - 1] if r > 0 else np.zeros_like(cur)
        a = np.concatenate([np.zeros(bpp, np.int64), cur[:-bpp]])
        c = np.concatenate([np.zeros(bpp, np.int64), prev[:-bpp]])
        b = prev
        ft = filter_types[r]
        if ft == 0:
            pred = 0
        elif ft == 1:
            pred = a
        elif ft == 2:
            pred = b
        elif ft == 3:
            pred = (a + b) // 2
        else:
            p = a + b - c
            pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
            pred = np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))
        rows.append(bytes([ft]) + ((cur - pred) & 255).astype(np.uint8).tobytes())

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"".join(rows)))
            + chunk(b"IEND", b""))


@pytest.mark.parametrize("filters", ["mixed", "sub_up"])
def test_read_kitti_flow_all_png_filters(tmp_path, filters):
    rng = np.random.default_rng(1)
    height, width = 13, 19
    image = rng.integers(0, 65536, (height, width, 3)).astype(np.uint16)
    image[..., 2] = rng.random((height, width)) < 0.5
    # Smooth-ish rows too, so that the predictors matter.
    image[5:9, :, 0] = np.arange(width, dtype=np.uint16) * 300
    choices = [0, 1, 2, 3, 4] if filters == "mixed" else [0, 1, 2]
    filter_types = [choices[r % len(choices)] for r in range(height)]
    path = tmp_path / "f.png"
    path.write_bytes(_filtered_png16(image, filter_types))
    flow, valid = synthetic.read_kitti_flow(str(path))
    assert np.array_equal(flow[..., 0], (image[..., 0].astype(np.float32) - 2 ** 15) / 64)
    assert np.array_equal(flow[..., 1], (image[..., 1].astype(np.float32) - 2 ** 15) / 64)
    assert np.array_equal(valid, image[..., 2] > 0)


def test_read_kitti_flow_errors_name_the_file(tmp_path):
    good = tmp_path / "good_flow.png"
    synthetic.write_kitti_flow(str(good), np.zeros((8, 8, 2)), np.ones((8, 8), bool))
    data = good.read_bytes()
    truncated = tmp_path / "truncated_flow.png"
    truncated.write_bytes(data[: len(data) // 2])
    not_png = tmp_path / "text_flow.png"
    not_png.write_text("hello")
    rgb8 = tmp_path / "rgb8_flow.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(rgb8)
    gray16 = tmp_path / "gray16_flow.png"
    Image.fromarray(np.zeros((8, 8), np.uint16)).save(gray16)
    for path, what in ((truncated, "truncated"), (not_png, "not a PNG"),
                       (rgb8, "bit depth"), (gray16, "colour type")):
        with pytest.raises(ValueError, match=what) as info:
            synthetic.read_kitti_flow(str(path))
        assert str(path) in str(info.value)
    corrupt = tmp_path / "corrupt_flow.png"
    corrupt.write_bytes(data)
    corrupt_files.corrupt_png_data(str(corrupt))
    with pytest.raises(ValueError, match=r"corrupt PNG \(CRC mismatch in chunk b'IDAT'\)") as info:
        synthetic.read_kitti_flow(str(corrupt))
    assert str(corrupt) in str(info.value)


def test_corrupt_file_of_the_synthetic_dataset_is_named_with_its_split(tmp_path):
    data_dir = str(tmp_path)
    synthetic.generate_dataset(data_dir, 2, 5, 32, 32, seed=0, val_fraction=0.5, num_workers=1)
    (frame,) = glob.glob(os.path.join(data_dir, "leftImg8bit_sequence", "val", "*",
                                      "*_000001_leftImg8bit.png"))
    corrupt_files.corrupt_png_data(frame)
    model = Img2VidConfig(height=128, width=128, label_mode="two_path", channels=3)
    config = TrainConfig(model=model, dataset="synthetic", data_dir=data_dir, batch_size=1,
                         loss_weights=(("vgg", 0.0),))
    for _ in registry.make_dataset(config, "train"):
        pass  # The train split is intact.
    with pytest.raises(decode_errors.DataFileError) as caught:
        with registry.naming_data_errors(config):
            for _ in registry.make_dataset(config, "val", with_flow="auto"):
                pass
    message = str(caught.value)
    assert f"Frame file {frame} (synthetic clip " in message and "split 'val'" in message
