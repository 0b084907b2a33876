"""Label-map metrics checked with painters whose answers are known in advance."""

import shutil

import numpy as np
import pytest

from seg2vid_tf.conversion.checkpoints import load_seg2vid
from seg2vid_tf.data import decode_errors, synthetic
from seg2vid_tf.evaluation import label_maps
from seg2vid_tf.metrics import frechet, segmentation
from seg2vid_tf.models import segmenter as segmenter_lib
from seg2vid_tf.testing import corrupt_files
from seg2vid_tf.testing.tiny_pipeline import SIZE, save_tiny_models

FRAMES = 5


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("synthetic"))
    synthetic.generate_dataset(path, 3, FRAMES, SIZE, SIZE, seed=3, val_fraction=0.34)
    return path


@pytest.fixture(scope="module")
def segmenter():
    return segmenter_lib.build_segmenter(segmenter_lib.SegmenterConfig(base_filters=4, depth=2))


def test_sequences_group_the_frames_of_each_sequence(data_dir):
    sequences = label_maps.labelled_sequences(data_dir, "val", SIZE, SIZE)
    assert len(sequences) == 1  # 3 sequences, 1 in val
    frames, maps = sequences[0]
    assert frames.shape == (FRAMES, SIZE, SIZE, 3) and maps.shape == (FRAMES, SIZE, SIZE)
    paths = synthetic.sequence_paths(data_dir, "val", "synth", 2, FRAMES)
    from PIL import Image  # pylint: disable=import-outside-toplevel
    np.testing.assert_array_equal(maps[3], np.asarray(Image.open(paths["labels"][3])))
    np.testing.assert_allclose(frames[4], np.asarray(Image.open(paths["frames"][4])) / 255.0)



@pytest.mark.parametrize("kind", ["frames", "labels"])
def test_corrupt_files_are_named_with_sequence_and_split(data_dir, tmp_path, kind):
    copy = str(tmp_path / "data")
    shutil.copytree(data_dir, copy)
    path = synthetic.sequence_paths(copy, "val", "synth", 2, FRAMES)[kind][3]
    corrupt_files.corrupt_png_data(path)
    with pytest.raises(decode_errors.DataFileError) as caught:
        label_maps.labelled_sequences(copy, "val", SIZE, SIZE)
    message = str(caught.value)
    assert path in message and "cannot be decoded" in message
    assert "(sequence 'synth_000002', split 'val')" in message

def test_class_means_are_the_per_class_average_colour(data_dir):
    means = label_maps.class_mean_colors(data_dir, SIZE, SIZE)
    frames = np.concatenate([f for f, _ in label_maps.labelled_sequences(data_dir, "train", SIZE,
                                                                         SIZE)])
    maps = np.concatenate([m for _, m in label_maps.labelled_sequences(data_dir, "train", SIZE,
                                                                       SIZE)])
    road = frames[maps == 0]
    np.testing.assert_allclose(means[0], road.astype(np.float64).mean(axis=0), atol=1e-6)
    absent = [c for c in range(20) if not (maps == c).any()]
    assert absent and np.all(means[absent] == 0.5)


def test_a_class_mean_painter_scores_exactly_as_the_baseline(data_dir, segmenter):
    means = label_maps.class_mean_colors(data_dir, SIZE, SIZE)
    result = label_maps.evaluate_label2image(lambda maps: means[np.asarray(maps)], SIZE, SIZE,
                                             segmenter, data_dir, class_means=means)
    assert result["first_frame_psnr"] == result["first_frame_psnr_class_mean"]
    assert result["fcn_miou_generated"] == result["fcn_miou_class_mean"]
    assert result["frechet_segmenter_generated"] == result["frechet_segmenter_class_mean"] > 0
    assert result["num_first_frames"] == FRAMES


def test_a_painter_that_returns_the_real_frame_scores_as_real(data_dir, segmenter):
    frames, maps = label_maps.labelled_sequences(data_dir, "val", SIZE, SIZE)[0]
    lookup = {m.tobytes(): f for f, m in zip(frames, maps)}
    result = label_maps.evaluate_label2image(
        lambda batch: np.stack([lookup[m.tobytes()] for m in np.asarray(batch, np.int32)]),
        SIZE, SIZE, segmenter, data_dir)
    assert result["fcn_miou_generated"] == result["fcn_miou_real"]
    assert result["frechet_segmenter_generated"] == pytest.approx(0.0, abs=1e-6)
    assert result["first_frame_psnr"] > 60  # identical frames (the PSNR is capped, not inf)
    # The real-frame score is the segmenter's mIoU computed here directly.
    direct = segmentation.mean_iou(segmentation.confusion_matrix(
        maps, segmenter_lib.predict_train_ids(segmenter, frames)))
    assert result["fcn_miou_real"] == pytest.approx(direct)
    features = segmenter_lib.pooled_features(segmenter, frames)
    means = label_maps.class_mean_colors(data_dir, SIZE, SIZE)
    expected = frechet.frechet_distance_from_features(
        features, segmenter_lib.pooled_features(segmenter, means[maps]))
    assert result["frechet_segmenter_class_mean"] == pytest.approx(expected)


def test_videos_from_label_maps_score_every_frame(data_dir, segmenter, tmp_path):
    pipeline = load_seg2vid(*save_tiny_models(str(tmp_path)))
    result = label_maps.evaluate_videos_from_label_maps(
        pipeline, segmenter, data_dir, num_frames=FRAMES - 1, keep=1)
    assert result["num_videos"] == 1
    assert len(result["video_fcn_miou_per_frame"]) == FRAMES
    frames, maps = label_maps.labelled_sequences(data_dir, "val", SIZE, SIZE)[0]
    for t in (0, FRAMES - 1):
        direct = segmentation.mean_iou(segmentation.confusion_matrix(
            maps[t], segmenter_lib.predict_train_ids(segmenter, frames[t:t + 1])[0]))
        assert result["video_fcn_miou_real_per_frame"][t] == pytest.approx(direct)
    videos = result["_videos"]
    np.testing.assert_array_equal(videos["label_maps"][0], maps)
    # Frame 0 of the generated video is stage 1's painting of the true first label map.
    np.testing.assert_allclose(videos["generated"][0, 0], pipeline.paint(maps[:1])[0], atol=1e-6)


def test_too_short_sequences_are_refused(data_dir, segmenter, tmp_path):
    pipeline = load_seg2vid(*save_tiny_models(str(tmp_path)))
    with pytest.raises(ValueError, match="No sequence has 9 labelled frames"):
        label_maps.evaluate_videos_from_label_maps(pipeline, segmenter, data_dir, num_frames=8)


def test_kept_first_frames_make_the_stage1_report(data_dir, segmenter, tmp_path):
    from PIL import Image  # pylint: disable=import-outside-toplevel

    from seg2vid_tf import labels  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.evaluation import reports  # pylint: disable=import-outside-toplevel

    means = label_maps.class_mean_colors(data_dir, SIZE, SIZE)
    result = label_maps.evaluate_label2image(lambda maps: means[np.asarray(maps)], SIZE, SIZE,
                                             segmenter, data_dir, class_means=means, keep=2)
    kept = result.pop("_first_frames")
    frames, maps = label_maps.labelled_sequences(data_dir, "val", SIZE, SIZE)[0]
    np.testing.assert_array_equal(kept["label_maps"], maps[:2])
    np.testing.assert_array_equal(kept["real"], frames[:2])
    np.testing.assert_array_equal(kept["painted"], means[maps[:2]])
    page = reports.write_stage1_report(str(tmp_path), result, kept)
    html = open(page, encoding="utf-8").read()
    assert "fcn_miou_generated" in html and "first_frames.png" in html
    assert "Per frame" not in html  # no per-frame charts for stage 1 alone
    grid = np.asarray(Image.open(tmp_path / "first_frames.png"))
    assert grid.shape == (2 * SIZE, 3 * SIZE, 3)
    np.testing.assert_array_equal(grid[SIZE:, :SIZE], labels.colorize(maps[1]))
    np.testing.assert_array_equal(grid[:SIZE, 2 * SIZE:], np.round(frames[0] * 255))
