"""The `segment` command: own footage in, a Cityscapes-layout dataset the readers open out."""

import json
import os
import subprocess
import sys

import imageio.v2 as imageio
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from seg2vid_tf import labels, segment
from seg2vid_tf.data import cityscapes
from seg2vid_tf.segmentation import segmenters

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def red_is_car(batch):
    """Stand-in segmenter: car (13) where red > 127, road (0) elsewhere, sky (10) top row."""
    ids = tf.where(batch[..., 0] > 127, 13, 0)
    return tf.concat([tf.fill(tf.shape(ids[:, :1]), 10), ids[:, 1:]], axis=1)


def stand_in(label_space="cityscapes_train_id", rule=red_is_car):
    return segmenters.Segmenter("saved_model", "stand-in", label_space, rule, batch_size=3)


def clip_frames(count=5, size=(16, 24)):
    """Frames with a red block moving right by 2 pixels per frame."""
    frames = np.full((count,) + size + (3,), 60, np.uint8)
    for t in range(count):
        frames[t, 6:12, 2 + 2 * t:8 + 2 * t, 0] = 220
    return frames


def expected_ids(frame):
    ids = np.where(frame[..., 0] > 127, 13, 0)
    ids[0] = 10
    return ids


def write_pngs(directory, frames):
    os.makedirs(directory, exist_ok=True)
    for t, frame in enumerate(frames):
        Image.fromarray(frame).save(os.path.join(directory, f"img_{t:03d}.png"))
    return str(directory)


def read_png(path):
    with Image.open(path) as image:
        return np.asarray(image)


def test_images_become_a_dataset_the_cityscapes_reader_opens(tmp_path):
    frames = clip_frames()
    out = str(tmp_path / "data")
    summary = segment.run(input_spec=write_pngs(tmp_path / "photos", frames), output_dir=out,
                          city="berlin", sequence=3, loaded_segmenter=stand_in(), progress=False)
    assert summary["written"] == 5 and summary["skipped"] == 0 and summary["frames"] == 5
    paths = segment.frame_paths(out, "train", "berlin", 3, 4)
    assert paths["labelTrainIds"].endswith(
        "gtFine_sequence/train/berlin/berlin_000003_000004_gtFine_labelTrainIds.png")
    np.testing.assert_array_equal(read_png(paths["frame"]), frames[4])
    np.testing.assert_array_equal(read_png(paths["labelTrainIds"]), expected_ids(frames[4]))
    # labelIds: road 7, car 26, sky 23; colour: the Cityscapes palette.
    np.testing.assert_array_equal(read_png(paths["labelIds"]),
                                  np.select([expected_ids(frames[4]) == 13,
                                             expected_ids(frames[4]) == 10], [26, 23], 7))
    np.testing.assert_array_equal(read_png(paths["color"])[8, 12], labels.LABEL_COLORS[13])
    # The reader opens the result as clips of consecutive frames, with either label file.
    for label_files in ("labelTrainIds", "labelIds"):
        clips = cityscapes.find_clips(out, "train", num_frames=3, label_files=label_files)
        assert [clip.clip_id for clip in clips] == [
            f"berlin_000003_{n:06d}_leftImg8bit" for n in range(3)]
        batch = next(iter(cityscapes.make_dataset(clips[:1], height=16, width=24, batch_size=1,
                                                  label_files=label_files)))
        np.testing.assert_array_equal(batch["label_map"][0], expected_ids(frames[0]))
    with open(os.path.join(out, segment.SUMMARY_FILENAME), encoding="utf-8") as handle:
        assert json.load(handle)["segmenter_label_space"] == "cityscapes_train_id"


def test_void_is_written_as_255_and_other_spaces_are_mapped(tmp_path):
    def ade20k_rule(batch):  # ADE20K: 21 car where red is high, 8 bed (no street class) elsewhere
        return tf.where(batch[..., 0] > 127, 21, 8)

    frames = clip_frames(1)
    out = str(tmp_path / "data")
    segment.run(input_spec=write_pngs(tmp_path / "photos", frames), output_dir=out,
                loaded_segmenter=stand_in("ade20k", ade20k_rule), progress=False)
    train_ids = read_png(segment.frame_paths(out, "train", "mycity", 0, 0)["labelTrainIds"])
    np.testing.assert_array_equal(train_ids, np.where(frames[0][..., 0] > 127, 13, 255))


def test_a_rerun_skips_written_frames_and_redoes_only_missing_ones(tmp_path):
    photos = write_pngs(tmp_path / "photos", clip_frames())
    out = str(tmp_path / "data")
    calls = []

    def counting(batch):
        calls.append(int(batch.shape[0]))
        return red_is_car(batch)

    segment.run(input_spec=photos, output_dir=out, loaded_segmenter=stand_in(rule=counting),
                progress=False)
    assert sum(calls) == 5
    calls.clear()
    again = segment.run(input_spec=photos, output_dir=out,
                        loaded_segmenter=stand_in(rule=counting), progress=False)
    assert again["written"] == 0 and again["skipped"] == 5 and sum(calls) == 0
    os.remove(segment.frame_paths(out, "train", "mycity", 0, 2)["labelTrainIds"])
    third = segment.run(input_spec=photos, output_dir=out,
                        loaded_segmenter=stand_in(rule=counting), progress=False)
    assert third["written"] == 1 and third["skipped"] == 4 and sum(calls) == 1


def test_temporal_window_removes_a_one_frame_flicker(tmp_path):
    frames = np.full((5, 8, 8, 3), 60, np.uint8)
    frames[2, 4:, 4:, 0] = 220  # a car for one frame only
    out = str(tmp_path / "data")
    segment.run(input_spec=write_pngs(tmp_path / "photos", frames), output_dir=out,
                loaded_segmenter=stand_in(), temporal_window=3, progress=False)
    flickered = read_png(segment.frame_paths(out, "train", "mycity", 0, 2)["labelTrainIds"])
    np.testing.assert_array_equal(flickered, expected_ids(frames[0]))  # no car left


def test_bad_arguments_are_errors_naming_the_flag(tmp_path):
    photos = write_pngs(tmp_path / "photos", clip_frames(1))
    cases = [({"city": "new_york"}, "--city"), ({"split": "dev"}, "--split"),
             ({"temporal_window": 2}, "--temporal_window"), ({"height": 16}, "--height"),
             ({"sequence": 10**6}, "--sequence"), ({"resize": "pad"}, "--resize")]
    for overrides, flag in cases:
        with pytest.raises(ValueError, match=flag):
            segment.run(input_spec=photos, output_dir=str(tmp_path / "out"),
                        loaded_segmenter=stand_in(), progress=False, **overrides)
    with pytest.raises(FileNotFoundError, match="--input"):
        segment.run(input_spec=str(tmp_path / "missing.png"), output_dir=str(tmp_path / "out"),
                    loaded_segmenter=stand_in(), progress=False)
    assert not os.path.exists(tmp_path / "out")


def test_command_segments_a_video_with_the_shipped_segmenter(tmp_path):
    video = str(tmp_path / "clip.mp4")
    imageio.mimsave(video, list(clip_frames(4, (32, 48))), fps=4, macro_block_size=1)
    out = str(tmp_path / "data")
    completed = subprocess.run(
        [sys.executable, "-m", "seg2vid_tf.segment", f"--input={video}", f"--output_dir={out}",
         "--city=cam", "--split=val", "--height=64", "--width=64", "--resize=crop"],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "seg2vid_tf segmenter from the shipped synthetic-data weights" in completed.stdout
    clips = cityscapes.find_clips(out, "val", num_frames=4)
    assert len(clips) == 1
    label = read_png(segment.frame_paths(out, "val", "cam", 0, 0)["labelTrainIds"])
    assert label.shape == (64, 64) and set(np.unique(label)) <= set(range(19)) | {255}
    bad = subprocess.run(
        [sys.executable, "-m", "seg2vid_tf.segment", f"--input={tmp_path / 'none.mp4'}",
         f"--output_dir={out}"], cwd=REPO, capture_output=True, text=True, timeout=300,
        check=False)
    assert bad.returncode == 1 and "none.mp4" in bad.stderr and "Traceback" not in bad.stderr
