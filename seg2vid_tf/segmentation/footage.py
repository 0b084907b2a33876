"""Own footage segmented into a Cityscapes-layout dataset (`python -m seg2vid_tf.segment`).

`run` reads frames (an image, a folder or glob of images, a video file:
`seg2vid_tf.segmentation.frames`), segments them in batches with a local
segmenter (`seg2vid_tf.segmentation.segmenters`), optionally smooths the
labels over time, and writes per frame the image, its train ids, label ids and
colours under Cityscapes' own file names (`frame_paths`), plus `segment.json`.
Frames whose four files exist are skipped, so an interrupted run resumes.
"""

import json
import os
import time

import numpy as np
from PIL import Image

from seg2vid_tf import labels
from seg2vid_tf.data import cityscapes
from seg2vid_tf.segmentation import frames as frames_lib
from seg2vid_tf.segmentation import segmenters, smoothing
from seg2vid_tf.segmentation.stream import SegmentationStream


LABEL_FILES = {"labelTrainIds": "gtFine_labelTrainIds", "labelIds": "gtFine_labelIds",
               "color": "gtFine_color"}
SUMMARY_FILENAME = "segment.json"


def frame_paths(output_dir, split, city, sequence, number):
    """The four files of one frame: `{"frame", "labelTrainIds", "labelIds", "color"}`."""
    stem = f"{city}_{sequence:06d}_{number:06d}_"
    frame_dir = os.path.join(output_dir, cityscapes.FRAME_DIR, split, city)
    label_dir = os.path.join(output_dir, cityscapes.DEFAULT_LABEL_DIR, split, city)
    paths = {"frame": os.path.join(frame_dir, stem + cityscapes.FRAME_SUFFIX + ".png")}
    for key, suffix in LABEL_FILES.items():
        paths[key] = os.path.join(label_dir, stem + suffix + ".png")
    return paths


def _write_png(path, array):
    """Writes a PNG atomically (a crash leaves no half-written file)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = path + ".partial"
    Image.fromarray(np.ascontiguousarray(array)).save(temporary, format="PNG")
    os.replace(temporary, path)


def write_frame(paths, frame, train_ids):
    """Writes a frame and its label maps; the train-id map last (it marks the frame done)."""
    _write_png(paths["frame"], frame)
    _write_png(paths["color"], labels.colorize(train_ids))
    _write_png(paths["labelIds"], labels.train_ids_to_cityscapes_ids(train_ids).astype(np.uint8))
    _write_png(paths["labelTrainIds"], labels.train_id_png_values(train_ids))


def _check_args(city, split, sequence, first_number, batch_size, height, width):
    if not city or not all(char.isalnum() or char in "-" for char in city):
        raise ValueError(f"--city must be letters, digits or '-' (it is part of Cityscapes file "
                         f"names, split at '_'), got {city!r}.")
    if split not in ("train", "val", "test"):
        raise ValueError(f"--split must be train, val or test, got {split!r}.")
    for name, value in (("sequence", sequence), ("first_frame_number", first_number)):
        if not 0 <= value <= 999999:
            raise ValueError(f"--{name} must be in 0..999999 (6 digits), got {value}.")
    if batch_size < 1:
        raise ValueError(f"--batch_size must be >= 1, got {batch_size}.")
    if (height > 0) != (width > 0) or height < 0 or width < 0:
        raise ValueError(f"Set both --height and --width (> 0) or neither, got {height}x{width}.")


def run(*, input_spec, output_dir, segmenter=None, segmenter_label_space=None, city="mycity",
        split="train", sequence=0, first_frame_number=0, batch_size=8, temporal_window=1,
        height=0, width=0, resize="fit", progress=True, loaded_segmenter=None):
    """Segments every frame of `input_spec` into a Cityscapes-layout dataset.

    Args:
        input_spec: Image, directory, glob or video (`--input`).
        output_dir: Dataset root (`--output_dir`).
        segmenter: Segmenter path (`--segmenter`); None for the shipped one.
        segmenter_label_space: Its label space (None: cityscapes_train_id).
        city, split, sequence, first_frame_number: File naming.
        batch_size: Frames per forward pass.
        temporal_window: Odd window of the per-pixel majority (1: off).
        height, width: Resize frames to this size first (0, 0: keep).
        resize: "fit" or "crop" (see `frames.resize_image`).
        progress: Show a progress bar.
        loaded_segmenter: An already loaded `segmenters.Segmenter` (tests).

    Returns:
        The summary dict also written to `output_dir/segment.json`.

    Raises:
        FileNotFoundError, ValueError: Bad inputs, naming the flag or file.
    """
    _check_args(city, split, sequence, first_frame_number, batch_size, height, width)
    smoothing.check_window(temporal_window)
    if resize not in frames_lib.RESIZE_MODES:
        raise ValueError(f"--resize must be one of {frames_lib.RESIZE_MODES}, got {resize!r}.")
    source = frames_lib.open_frames(input_spec)
    model = loaded_segmenter or segmenters.load_segmenter(segmenter, segmenter_label_space)
    print(f"Segmenter: {model.describe()}")
    print(f"Input: {source.description}")
    start = time.time()

    def paths_of(index):
        return frame_paths(output_dir, split, city, sequence, first_frame_number + index)

    stream = SegmentationStream(
        lambda images: model.segment(images, source=f"segmenter output on {source.description}"),
        lambda index: os.path.isfile(paths_of(index)["labelTrainIds"]),
        lambda index, frame, train_ids: write_frame(paths_of(index), frame, train_ids),
        batch_size=batch_size, temporal_window=temporal_window)
    from tqdm import tqdm  # pylint: disable=import-outside-toplevel

    with tqdm(total=source.count or None, unit="frame", desc="segment",
              disable=not progress) as bar:
        for index, frame in enumerate(source.iterate()):
            if height:
                frame = frames_lib.resize_image(frame, height, width, resize)
            stream.add(index, frame)
            bar.update(1)
    counts = stream.finish()
    if counts["frames"] == 0:
        raise ValueError(f"--input {input_spec} has no frames.")
    seconds = time.time() - start
    summary = {"input": input_spec, **counts,
               "segmenter": model.describe(), "segmenter_kind": model.kind,
               "segmenter_label_space": model.label_space, "city": city, "split": split,
               "sequence": sequence, "first_frame_number": first_frame_number,
               "temporal_window": temporal_window, "seconds": round(seconds, 2),
               "seconds_per_segmented_frame": round(seconds / max(counts["segmented"], 1), 4)}
    os.makedirs(output_dir, exist_ok=True)
    with open(os.path.join(output_dir, SUMMARY_FILENAME), "w", encoding="utf-8") as handle:
        json.dump(summary, handle, indent=2, sort_keys=True)
    return summary
