"""`make demo` end to end on tiny shipped weights: files, metrics, export, damaged weights."""

import json
import os

import imageio.v2 as imageio
import numpy as np
import pytest
import tensorflow as tf

from seg2vid_tf import demo_weights
from seg2vid_tf.demos import data as demo_data
from seg2vid_tf.demos import pictures, showcase
from seg2vid_tf.testing.tiny_pipeline import SIZE, save_tiny_demo_weights
from seg2vid_tf.training import segmenter as segmenter_training

DATA = dict(num_sequences=48, num_frames=5, height=SIZE, width=SIZE, seed=0, val_fraction=0.25,
            city="synth", motion_scale=0.25, speed_variation=0.25)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    weights_dir = save_tiny_demo_weights(str(root), DATA)
    patch = pytest.MonkeyPatch()
    patch.setattr(demo_data, "HELD_OUT_SEQUENCES", 3)  # 1 train, 2 val sequences
    patch.setattr(showcase, "REPORT_SAMPLES", 1)
    patch.setattr(showcase, "NUM_SHOWN", 2)
    try:
        summary = showcase.run_demo(str(root / "out"), weights_dir, progress=False)
    finally:
        patch.undo()
    return root / "out", summary


def test_writes_the_public_files(demo_run):
    output_dir, summary = demo_run
    for name in ("label_map_videos.gif", "label_map_videos.mp4", "demo.json",
                 "report/report.html", "export/seg2vid/1/saved_model.pb"):
        assert (output_dir / name).is_file(), name
    written = json.loads((output_dir / "demo.json").read_text())
    assert written["minutes"] == pytest.approx(summary["minutes"])
    gif = np.stack(imageio.mimread(output_dir / "label_map_videos.gif"))
    mp4 = np.stack(imageio.mimread(output_dir / "label_map_videos.mp4", memtest=False))
    # 5 frames (painted + 4 predicted); 2 videos in rows; label | generated | truth | flow.
    assert gif.shape[:3] == (5, 2 * SIZE, 4 * SIZE)
    assert mp4.shape == gif.shape[:3] + (3,)
    assert np.abs(mp4.astype(float) - gif[..., :3].astype(float)).mean() < 8.0
    assert "From label maps" in (output_dir / "report" / "report.html").read_text()


def test_json_names_loadable_checkpoints_and_the_serve_command(demo_run):
    output_dir, summary = demo_run
    for key in ("img2vid_checkpoint_dir", "label2image_checkpoint_dir"):
        path = output_dir / summary[key]
        assert (path / "checkpoint").is_file(), key
    assert f"--export_base={output_dir / 'export' / 'seg2vid'}" in summary["serve_command"]
    export = tf.saved_model.load(str(output_dir / summary["export"]))
    assert {"seg2vid", "seg2vid_png", "label2image", "img2vid", "serving_default"} <= set(
        export.signatures)
    _, specs = export.signatures["serving_default"].structured_input_signature
    assert "label_map" in specs


def test_metrics_have_the_contract_keys_and_agree_with_an_independent_reader(demo_run):
    output_dir, summary = demo_run
    for key in ("first_frame_psnr", "first_frame_psnr_class_mean", "fcn_miou_generated",
                "fcn_miou_real", "frechet_segmenter_generated", "frechet_segmenter_class_mean",
                "video_fcn_miou_per_frame", "video_fcn_miou_real_per_frame", "psnr",
                "flow_epe", "psnr_copy_first_frame", "flow_epe_zero"):
        assert key in summary, key
    assert len(summary["video_fcn_miou_per_frame"]) == 5
    # fcn_miou_real through the tf.data reader instead of the demo's PIL one.
    segmenter = segmenter_training.load_segmenter(
        str(output_dir / summary["segmenter_checkpoint_dir"]))
    scores = segmenter_training.score_real_frames(
        segmenter, str(output_dir / summary["held_out_data_dir"]), "val", SIZE, SIZE)
    assert summary["fcn_miou_real"] == pytest.approx(scores["miou"], abs=1e-6)
    # Frame 0 of the videos from label maps is the painted first frame of every window.
    assert summary["num_videos"] == 2
    held_out = json.loads((output_dir / "heldout_data" / "synthetic.json").read_text())
    assert held_out["settings"]["seed"] == demo_data.HELD_OUT_SEED != DATA["seed"]
    assert set(summary["targets"]) == set(showcase.TARGETS)


def test_damaged_weights_stop_the_demo_with_the_file_named(demo_run, tmp_path):
    output_dir, _ = demo_run
    weights_dir = output_dir.parent / "weights"
    copy = tmp_path / "weights"
    copy.mkdir()
    for name in os.listdir(weights_dir):
        (copy / name).write_bytes((weights_dir / name).read_bytes())
    (copy / "img2vid.npz").write_bytes(b"not the weights")
    with pytest.raises(demo_weights.DamagedWeightsError, match="img2vid.npz is damaged"):
        showcase.run_demo(str(tmp_path / "out"), str(copy), progress=False)


def test_serve_web_exports_the_shipped_weights_once(demo_run, tmp_path):
    from seg2vid_tf.serving import export  # pylint: disable=import-outside-toplevel

    output_dir, _ = demo_run
    weights_dir = str(output_dir.parent / "weights")
    base = str(tmp_path / "export")
    assert showcase.export_shipped_weights(base, weights_dir) == base
    assert export.existing_versions(base) == [1]
    showcase.export_shipped_weights(base, weights_dir)
    assert export.existing_versions(base) == [1]  # reused, not exported again


def test_several_futures_of_one_label_map_side_by_side(demo_run):
    """futures.gif / .mp4: label map | truth | NUM_FUTURES videos, one prior sample each: the
    same painted first frame, different motion afterwards."""
    output_dir, summary = demo_run
    assert summary["videos"]["futures"] == [str(output_dir / "futures.gif"),
                                            str(output_dir / "futures.mp4")]
    frames = np.stack(imageio.mimread(output_dir / "futures.gif"))[..., :3].astype(int)
    assert frames.shape[:3] == (5, SIZE, (pictures.NUM_FUTURES + 2) * SIZE)
    panels = [frames[:, :, k * SIZE:(k + 1) * SIZE] for k in range(pictures.NUM_FUTURES + 2)]
    futures = panels[2:]
    for future in futures[1:]:
        assert np.abs(future[0] - futures[0][0]).max() <= 2  # GIF palette rounding only
    last = [future[-1] for future in futures]
    differences = [np.abs(a - b).mean() for i, a in enumerate(last) for b in last[i + 1:]]
    assert min(differences) > 0.5, differences
    assert "Several futures of one label map" in (output_dir / "report" / "report.html").read_text()
    assert (output_dir / "report" / "futures.gif").is_file()


def test_one_long_video_and_an_export_of_long_videos(demo_run):
    """long_video.gif: label map | 24 generated frames | the label map carried along; the
    web page's export gives 24 frames per request, made with the composed rollout."""
    output_dir, summary = demo_run
    # The MP4 keeps every frame (a GIF writer may merge identical neighbours).
    frames = np.stack(imageio.mimread(output_dir / "long_video.mp4", memtest=False))
    assert frames.shape[:3] == (pictures.LONG_FRAMES + 1, SIZE, 3 * SIZE)
    assert summary["videos"]["long_video"][0] == str(output_dir / "long_video.gif")
    info = json.loads((output_dir / summary["export"] / "assets.extra"
                       / "seg2vid_export.json").read_text())
    assert info["num_frames"] == showcase.EXPORT_FRAMES >= 24
    assert info["rollout"]["frame_warp"] == info["rollout"]["label_warp"] == "composed"
