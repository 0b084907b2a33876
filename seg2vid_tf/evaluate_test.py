"""Evaluation: the flow error compares like with like; both modes, baselines, FVD/FID, report."""

import glob
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from absl import app

from seg2vid_tf import evaluate, metrics
from seg2vid_tf.conversion.checkpoints import load_seg2vid
from seg2vid_tf.data import synthetic
from seg2vid_tf.evaluation import diversity, frame_metrics, model_evaluation, pipeline_metrics
from seg2vid_tf.evaluation import predictors, reports, runs
from seg2vid_tf.serving import export
from seg2vid_tf.testing import corrupt_files
from seg2vid_tf.testing.frechet_reference import closed_form_frechet
from seg2vid_tf.testing.tiny_pipeline import SIZE, save_tiny_models
from seg2vid_tf.training.config import TrainConfig


# --------------------------------------------------------------------------- whole evaluation
@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A tiny model, 2 val sequences of synthetic data, and the stand-in networks."""
    root = tmp_path_factory.mktemp("eval")
    data_dir = str(root / "data")
    synthetic.generate_dataset(data_dir, 4, 5, SIZE, SIZE, seed=3, val_fraction=0.5,
                               motion_scale=0.25)
    img2vid_dir, label2image_dir = save_tiny_models(str(root / "models"))
    model = load_seg2vid(img2vid_dir).video_model
    config = TrainConfig(model=model.config, data_dir=data_dir, batch_size=2,
                         loss_weights=(("vgg", 0.0),))
    return {"root": root, "model": model, "config": config, "img2vid_dir": img2vid_dir,
            "label2image_dir": label2image_dir,
            "i3d": metrics.save_standin_i3d(str(root / "i3d")),
            "inception": metrics.save_standin_inception(str(root / "inception.keras"))}


@pytest.fixture(scope="module")
def in_process(setup):
    """Both modes with FVD and FID, in this process (the command's output is compared with it)."""
    networks = {"fvd": metrics.load_i3d(setup["i3d"]),
                "fid": metrics.load_inception(setup["inception"])}
    result = model_evaluation.evaluate_model(
        setup["model"], setup["config"], num_samples=2, fvd_network=networks["fvd"],
        fid_network=networks["fid"], keep_clips=2)
    return result, networks


def test_both_modes_baselines_and_per_frame_arrays(in_process):
    result, _ = in_process
    assert result["num_clips"] == 2 and result["num_frames_evaluated"] == 8
    for key in ("psnr_per_frame", "ssim_per_frame", "psnr_copy_first_frame_per_frame"):
        assert len(result[key]) == 4
    generation = result["generation"]
    assert generation["num_samples"] == 2
    # The best of K is at least as good as the mean of K, clip by clip.
    assert generation["best_of_k_psnr"] >= generation["mean_psnr"] - 1e-9
    assert generation["best_of_k_ssim"] >= generation["mean_ssim"] - 1e-9
    assert generation["best_of_k_flow_epe"] <= generation["mean_flow_epe"] + 1e-9
    assert result["flow_epe_zero"] > 0
    assert set(result["fvd"]) == {"protocol", "copy_first_frame", "reconstruction", "generation"}
    assert "224x224" in result["fvd"]["protocol"] and "299x299" in result["fid"]["protocol"]
    json.dumps({key: value for key, value in result.items() if key != "_clips"})


def test_fvd_and_fid_compare_the_videos_of_each_mode(setup, in_process):
    """Each FVD/FID is the distance of the real clips to that mode's videos (start frame and
    predictions; FID: the predicted frames only), recomputed here from the features."""
    result, networks = in_process
    real = np.concatenate([batch["video"].numpy()
                           for batch in model_evaluation.eval_dataset(setup["config"])])
    clips = result["_clips"]
    assert len(clips) == real.shape[0] == 2
    np.testing.assert_array_equal(np.stack([clip["video"] for clip in clips]), real)
    videos = {"copy_first_frame": np.repeat(real[:, :1], real.shape[1], axis=1)}
    for mode in ("reconstruction", "generation"):
        predicted = np.stack([clip["predictions"][mode]["frames"] for clip in clips])
        videos[mode] = np.concatenate([real[:, :1], predicted], axis=1)
    real_features = metrics.i3d_features(networks["fvd"], real)
    for mode, video in videos.items():
        expected, scale = closed_form_frechet(real_features,
                                              metrics.i3d_features(networks["fvd"], video))
        assert abs(result["fvd"][mode] - expected) <= 1e-9 * scale, (mode, expected)
    def frames(video):
        return video[:, 1:].reshape((-1,) + video.shape[2:])

    real_frame_features = metrics.inception_features(networks["fid"], frames(real))
    for mode in ("reconstruction", "generation"):
        expected, scale = closed_form_frechet(
            real_frame_features, metrics.inception_features(networks["fid"], frames(videos[mode])))
        assert abs(result["fid"][mode] - expected) <= 1e-9 * scale, (mode, expected)
    # The modes differ: no distance was computed on the wrong pair of sets.
    assert len({result["fvd"][mode] for mode in videos}) == 3


def test_diversity_keys_and_the_true_camera_speeds(setup, in_process):
    result, _ = in_process
    for key in ("psnr", "psnr_prior", "best_of_k_psnr", "sample_diversity_l1",
                "latent_active_dims", "speed_spearman", "speed_spearman_interval",
                "prior_speed_coverage"):
        assert key in result, key
    low, high = result["speed_spearman_interval"]  # two val sequences: resampled, not skipped
    assert -1.0 <= low <= high <= 1.0
    assert result["psnr_prior"] == result["generation"]["mean_psnr"]
    assert result["best_of_k_psnr"] == result["generation"]["best_of_k_psnr"]
    # The true speeds come from synthetic.json: the val clips' mean camera speeds over 4 steps.
    data_dir = setup["config"].data_dir
    with open(os.path.join(data_dir, "synthetic.json"), encoding="utf-8") as handle:
        meta = json.load(handle)
    expected = sorted(np.mean(entry["motion"]["camera_speed"][:4])
                      for entry in meta["sequences"]["val"])
    ids = [f"{entry['prefix']}_000000_leftImg8bit" for entry in meta["sequences"]["val"]]
    np.testing.assert_allclose(sorted(diversity.camera_speeds(data_dir, "val", ids, 4)),
                               expected)
    # An untrained tiny model's prior samples differ (random decoder): diversity > 0.
    assert result["sample_diversity_l1"] > 0


def test_copy_baseline_matches_a_direct_computation(setup):
    result = model_evaluation.evaluate_model(setup["model"], setup["config"])
    clips = list(model_evaluation.eval_dataset(setup["config"]))
    video = np.concatenate([clip["video"].numpy() for clip in clips])
    copy = np.repeat(video[:, :1], 4, axis=1)
    mse = np.mean((copy - video[:, 1:]) ** 2, axis=(2, 3, 4))
    np.testing.assert_allclose(result["psnr_copy_first_frame_per_frame"],
                               np.mean(10 * np.log10(1.0 / mse), axis=0), rtol=1e-4)


def test_exported_model_gives_the_checkpoint_generation(setup):
    """Generation mode through the SavedModel equals the checkpoint's for the same seeds."""
    pipeline = load_seg2vid(setup["img2vid_dir"])
    path = export.export_saved_model(pipeline, str(setup["root"] / "export"), 4)
    batch = next(iter(model_evaluation.eval_dataset(setup["config"])))
    seeds = [5, 6]
    from_checkpoint = predictors.CheckpointPredictor(setup["model"]).sample(
        batch["video"], batch["label_map"], seeds)
    from_export = predictors.SavedModelPredictor(path).sample(
        batch["video"], batch["label_map"], seeds)
    # The export takes the start frame as uint8: the clips are PNGs, so that is exact here
    # and both predict from the same input.
    video = batch["video"].numpy()
    assert np.abs(video * 255 - np.round(video * 255)).max() < 1e-3
    # The export rounds its frames to uint8: half a level, plus float32 rounding.
    assert np.max(np.abs(from_export["frames"] - from_checkpoint["frames"])) <= 0.5 / 255 + 1e-6
    # The flow and the masks are the same float32 computation: a few ulps of their size.
    flow = from_checkpoint["flow"]
    size = float(np.abs(flow).max())
    assert size > 1.0 and np.abs(flow[..., 0] - flow[..., 1]).max() > 1.0  # pixels
    np.testing.assert_allclose(from_export["flow"], flow, rtol=0, atol=1e-5 * size)
    np.testing.assert_allclose(from_export["mask_fw"], from_checkpoint["mask_fw"], rtol=0,
                               atol=1e-5)
    with pytest.raises(ValueError, match="generation mode"):
        model_evaluation.evaluate_model(predictors.SavedModelPredictor(path), setup["config"])


def test_the_old_names_are_the_library_objects():
    modules = (frame_metrics, model_evaluation, pipeline_metrics, predictors, reports, runs)
    for name in evaluate.__all__:
        homes = [module for module in modules if hasattr(module, name)]
        if name not in ("define_flags", "main", "run_from_flags"):
            assert homes and getattr(evaluate, name) is getattr(homes[0], name), name
    assert evaluate._Accumulator is frame_metrics.Accumulator  # pylint: disable=protected-access
    assert evaluate.REPORT_CLIPS == 4


def _assert_same_metrics(written, expected, path="metrics"):
    """JSON metrics equal the in-process ones (floats to float32 rounding across processes)."""
    if isinstance(expected, dict):
        assert set(written) == set(expected), path
        for key, value in expected.items():
            _assert_same_metrics(written[key], value, f"{path}.{key}")
    elif isinstance(expected, (list, tuple)):
        assert len(written) == len(expected), path
        for index, (mine, theirs) in enumerate(zip(written, expected)):
            _assert_same_metrics(mine, theirs, f"{path}[{index}]")
    elif expected is None or isinstance(expected, (str, bool)):
        assert written == expected, path
    else:
        assert written == pytest.approx(expected, rel=1e-6, abs=1e-9, nan_ok=True), path


def test_command_writes_json_and_report(setup, in_process):
    report_dir = setup["root"] / "report"
    output = setup["root"] / "metrics.json"
    config = setup["config"]
    result = subprocess.run(
        [sys.executable, "-m", "seg2vid_tf.evaluate", "--dataset=synthetic",
         f"--data_dir={config.data_dir}", f"--checkpoint_dir={setup['img2vid_dir']}",
         f"--height={SIZE}", f"--width={SIZE}", "--batch_size=2", "--num_samples=2",
         f"--output_json={output}", f"--report_dir={report_dir}", f"--i3d_module={setup['i3d']}",
         f"--inception_weights={setup['inception']}", "--weight_vgg=1"],
        capture_output=True, text=True, timeout=600,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert result.returncode == 0, result.stderr[-3000:]
    written = json.loads(output.read_text())
    expected = {key: value for key, value in in_process[0].items() if key != "_clips"}
    _assert_same_metrics(written, expected)
    page = (report_dir / "report.html").read_text()
    assert page.count("<svg") == 2 and "clip0_reconstruction.gif" in page
    gifs = sorted(name for name in os.listdir(report_dir) if name.endswith(".gif"))
    assert gifs == ["clip0_generation.gif", "clip0_reconstruction.gif",
                    "clip1_generation.gif", "clip1_reconstruction.gif"]
    assert all((report_dir / name).stat().st_size > 1000 for name in gifs)



def test_command_names_a_corrupt_file_of_the_evaluation_split(setup, tmp_path):
    data_dir = str(tmp_path / "data")
    shutil.copytree(setup["config"].data_dir, data_dir)
    frame = sorted(glob.glob(os.path.join(data_dir, "leftImg8bit_sequence", "val", "*",
                                          "*.png")))[2]
    corrupt_files.corrupt_png_data(frame)  # Only the decoder notices: "Invalid PNG data".
    result = subprocess.run(
        [sys.executable, "-m", "seg2vid_tf.evaluate", "--dataset=synthetic",
         f"--data_dir={data_dir}", f"--checkpoint_dir={setup['img2vid_dir']}",
         f"--height={SIZE}", f"--width={SIZE}", "--batch_size=2",
         f"--output_json={tmp_path / 'metrics.json'}", "--weight_vgg=1"],
        capture_output=True, text=True, timeout=600,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert result.returncode == 1, result.stderr[-3000:]
    assert f"error: Frame file {frame} (synthetic clip " in result.stderr, result.stderr[-3000:]
    assert "split 'val'" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "metrics.json").exists()

def test_missing_network_paths_name_their_flags(tmp_path):
    with pytest.raises(FileNotFoundError, match="--i3d_module"):
        metrics.load_i3d(str(tmp_path / "nope"))
    with pytest.raises(FileNotFoundError, match="--inception_weights"):
        metrics.load_inception(str(tmp_path / "nope.h5"))
    with pytest.raises(FileNotFoundError, match="--saved_model_dir"):
        predictors.SavedModelPredictor(str(tmp_path))


class _Flags:
    """Parsed flags as `_check_flags` reads them: attributes, and `values[name].present`."""

    def __init__(self, present=(), **values):
        self.__dict__.update(values)
        self._present = set(present)

    def __getitem__(self, name):
        return type("Flag", (), {"present": name in self._present})()


@pytest.mark.parametrize("flag", ["repaint_weight", "detail_weight"])
def test_painting_rollouts_without_stage_one_are_usage_errors(flag):
    values = dict(data_dir="/d", output_json="m.json", report_dir="", checkpoint_dir="/c",
                  saved_model_dir="", label2image_checkpoint_dir="", num_samples=0,
                  label_warp="reference", frame_warp="reference", latent_per_round="carry",
                  repaint_weight=0.0, detail_weight=0.0, eval_split="val")
    evaluate._check_flags(_Flags(**values))  # pylint: disable=protected-access
    values[flag] = 0.4
    with pytest.raises(app.UsageError, match=f"^--{flag} > 0 paints with stage 1: set "
                                             "--label2image_checkpoint_dir.$"):
        evaluate._check_flags(_Flags(**values))  # pylint: disable=protected-access


def test_the_training_split_is_scored_when_asked(setup):
    config = setup["config"]
    result = model_evaluation.evaluate_model(setup["model"], config, split="train")
    assert result["split"] == "train"
    clips = list(model_evaluation.eval_dataset(config, "train"))
    video = np.concatenate([clip["video"].numpy() for clip in clips])
    val_video = np.concatenate([clip["video"].numpy()
                                for clip in model_evaluation.eval_dataset(config)])
    assert not np.array_equal(video, val_video)  # the two splits hold different clips
    mse = np.mean((np.repeat(video[:, :1], 4, axis=1) - video[:, 1:]) ** 2, axis=(2, 3, 4))
    np.testing.assert_allclose(result["psnr_copy_first_frame_per_frame"],
                               np.mean(10 * np.log10(1.0 / mse), axis=0), rtol=1e-4)
    assert result["num_clips"] == len(video)
    # The camera speeds are found among the training sequences' records (looked up in the
    # val records, none would match, and only a note would be written).
    assert "speed_spearman" in result and "speed_spearman_note" not in result


def test_an_evaluation_run_refuses_a_split_its_other_metrics_cannot_follow(setup):
    config = setup["config"]
    assert runs.EvaluationRun(config=config, split="train").split == "train"
    with pytest.raises(ValueError, match="must be one of"):
        runs.EvaluationRun(config=config, split="test")
    for extra in ({"label2image_checkpoint_dir": "/s1"}, {"num_frames": 8}):
        with pytest.raises(ValueError, match="read the val split"):
            runs.EvaluationRun(config=config, split="train", **extra)


@pytest.mark.parametrize("extra, present, message", [
    ({"eval_split": "test"}, (), "--eval_split must be one of val, train, got 'test'"),
    ({"eval_split": "train", "label2image_checkpoint_dir": "/s1"}, (), "read the val split"),
    ({"eval_split": "train"}, ("num_frames",), "read the val split"),
])
def test_eval_split_is_checked(extra, present, message):
    values = dict(data_dir="/d", output_json="m.json", report_dir="", checkpoint_dir="/c",
                  saved_model_dir="", label2image_checkpoint_dir="", num_samples=0,
                  label_warp="reference", frame_warp="reference", latent_per_round="carry",
                  repaint_weight=0.0, detail_weight=0.0, eval_split="train")
    evaluate._check_flags(_Flags(**values))  # pylint: disable=protected-access
    with pytest.raises(app.UsageError, match=message):
        evaluate._check_flags(  # pylint: disable=protected-access
            _Flags(present, **dict(values, **extra)))


def test_command_adds_the_label_map_metrics_with_a_stage_1_checkpoint(setup):
    from seg2vid_tf.evaluation import label_maps  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.models import segmenter  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.training import segmenter as segmenter_training  # pylint: disable=import-outside-toplevel

    root, config = setup["root"], setup["config"]
    segmenter_dir = str(root / "segmenter")
    network = segmenter.build_segmenter(segmenter.SegmenterConfig(base_filters=4, depth=2))
    segmenter_training.save_segmenter(network, segmenter_dir)
    output = root / "label_maps.json"
    command = [sys.executable, "-m", "seg2vid_tf.evaluate", "--dataset=synthetic",
               f"--data_dir={config.data_dir}", f"--height={SIZE}", f"--width={SIZE}",
               "--batch_size=2", "--weight_vgg=0", f"--output_json={output}",
               f"--label2image_checkpoint_dir={setup['label2image_dir']}"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run(command + [f"--segmenter_checkpoint_dir={segmenter_dir}",
                                       f"--checkpoint_dir={setup['img2vid_dir']}"],
                            capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    written = json.loads(output.read_text())
    painter = load_seg2vid(setup["img2vid_dir"], setup["label2image_dir"])
    expected = label_maps.evaluate_label2image(painter.paint, SIZE, SIZE, network,
                                               config.data_dir)
    for key in ("first_frame_psnr", "first_frame_psnr_class_mean", "fcn_miou_generated",
                "fcn_miou_real", "frechet_segmenter_generated", "frechet_segmenter_class_mean"):
        assert written[key] == pytest.approx(expected[key], rel=1e-5), key
    assert len(written["video_fcn_miou_per_frame"]) == 5
    assert len(written["video_fcn_miou_real_per_frame"]) == 5
    assert "psnr" in written  # the img2vid metrics are still there
    missing = subprocess.run(command + [f"--segmenter_checkpoint_dir={root / 'nothing'}"],
                             capture_output=True, text=True, timeout=300, env=env)
    assert missing.returncode == 1
    assert "error: No segmenter_config.json" in missing.stderr
    assert "--segmenter_checkpoint_dir" in missing.stderr and "Traceback" not in missing.stderr


def test_num_frames_adds_the_long_horizon_curves_from_both_first_frames(setup, tmp_path):
    """`--num_frames=N` beyond one round: the long_* curves (frames 0..N) from the real first
    frame and, with stage 1, from the label map; the report plots them and shows the videos.
    Sequences too short for N are refused with the flag named; N equal to their length (the
    data setting of a shared flagfile) measures nothing and says why."""
    from seg2vid_tf.evaluation import long_horizon  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.models import segmenter  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.training import segmenter as segmenter_training  # pylint: disable=import-outside-toplevel

    data_dir = str(tmp_path / "long")
    synthetic.generate_dataset(data_dir, 2, 7, SIZE, SIZE, seed=5, val_fraction=0.5,
                               motion_scale=0.25)
    segmenter_dir = str(tmp_path / "segmenter")
    segmenter_training.save_segmenter(
        segmenter.build_segmenter(segmenter.SegmenterConfig(base_filters=4, depth=2)),
        segmenter_dir)
    output, report_dir = tmp_path / "long.json", tmp_path / "report"
    command = [sys.executable, "-m", "seg2vid_tf.evaluate", f"--data_dir={data_dir}",
               f"--height={SIZE}", f"--width={SIZE}", "--batch_size=2", "--weight_vgg=0",
               f"--checkpoint_dir={setup['img2vid_dir']}", f"--output_json={output}",
               f"--segmenter_checkpoint_dir={segmenter_dir}"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run(
        command + ["--num_frames=6", f"--label2image_checkpoint_dir={setup['label2image_dir']}",
                   f"--report_dir={report_dir}", "--frame_warp=composed"],
        capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    written = json.loads(output.read_text())
    assert written["long_num_frames"] == 6 and written["long_num_videos"] == 1
    assert written["long_rollout"]["frame_warp"] == "composed"
    for key in long_horizon.KEYS:
        assert len(written[key]) == 7 and len(written["long_from_label_map"][key]) == 7, key
    assert written["long_label_miou_per_frame"][0] == 1.0
    assert written["long_psnr_per_frame"][0] is None  # the real first frame, exact
    assert written["long_from_label_map"]["long_psnr_per_frame"][0] < 60  # painted by stage 1
    page = (report_dir / "report.html").read_text()
    assert "Long videos (6 frames after the first" in page
    for name in ("long_psnr.svg", "long_fcn_miou.svg", "long_videos.gif", "long_videos.mp4"):
        assert (report_dir / name).stat().st_size > 500, name
    too_long = subprocess.run(command + ["--num_frames=9"], capture_output=True, text=True,
                              timeout=300, env=env)
    assert too_long.returncode == 1 and "Traceback" not in too_long.stderr
    assert "--num_frames=9 needs held-out sequences of at least 10 frames" in too_long.stderr
    same = subprocess.run(command + ["--num_frames=7"], capture_output=True, text=True,
                          timeout=300, env=env)
    assert same.returncode == 0, same.stderr[-2000:]
    assert "long_psnr_per_frame" not in json.loads(output.read_text())
    assert "equals the held-out sequences' length" in json.loads(output.read_text())[
        "long_horizon_note"]
