"""`python -m seg2vid_tf.data.synthetic`: the layout it writes, its flags and flag files."""

import glob
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from seg2vid_tf.data import synthetic

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
H, W = 64, 128


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
