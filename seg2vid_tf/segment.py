"""Label maps for your own footage, written as a Cityscapes-layout dataset.

    python -m seg2vid_tf.segment --input=dashcam.mp4 --output_dir=my_data \
        [--segmenter=PATH] [--segmenter_label_space=cityscapes_train_id] \
        [--city=mycity] [--split=train] [--sequence=0] [--temporal_window=1]

`--input` is a PNG/JPEG image, a directory or glob of them (sorted by name:
the frames of one sequence) or a video file (MP4 and what ffmpeg reads).
`--segmenter` is a local file (`seg2vid_tf.segmentation.segmenters`: a DeepLab
frozen graph, a SavedModel, a Keras model or a segmenter trained here); without
it, the synthetic-data segmenter shipped with the demo weights. Nothing is
downloaded.

Written, per frame `n` of sequence `s` (Cityscapes' own layout, so that
`train --dataset=cityscapes --data_dir=DIR` reads it)::

    DIR/leftImg8bit_sequence/<split>/<city>/<city>_<s:06d>_<n:06d>_leftImg8bit.png
    DIR/gtFine_sequence/<split>/<city>/<city>_<s:06d>_<n:06d>_gtFine_labelTrainIds.png
    DIR/gtFine_sequence/<split>/<city>/<city>_<s:06d>_<n:06d>_gtFine_labelIds.png
    DIR/gtFine_sequence/<split>/<city>/<city>_<s:06d>_<n:06d>_gtFine_color.png
    DIR/segment.json   (what made them: input, segmenter, label space, frames)

labelTrainIds holds train ids with 255 for void (as Cityscapes does),
labelIds the Cityscapes label id of each class. A rerun skips frames whose
four files exist, so an interrupted run resumes. `--temporal_window=K` (odd)
replaces each label by the per-pixel majority over K frames.
"""

import json
import os
import time

import numpy as np
from absl import app, flags
from PIL import Image

from seg2vid_tf import cli
from seg2vid_tf import labels
from seg2vid_tf.data import cityscapes
from seg2vid_tf.segmentation import frames as frames_lib
from seg2vid_tf.segmentation import label_spaces, segmenters, smoothing
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


def define_flags():
    """The command's flags (only when run as a program)."""
    flags.DEFINE_string("input", None, "Image, directory or glob of images, or video file.")
    flags.DEFINE_string("output_dir", None, "Dataset root to write (Cityscapes layout).")
    flags.DEFINE_string("segmenter", None, "Segmenter file or directory (DeepLab .pb, SavedModel, "
                        ".keras/.h5, or a seg2vid_tf segmenter); default: the shipped one.")
    flags.DEFINE_enum("segmenter_label_space", None, list(label_spaces.LABEL_SPACES),
                      "Label space of the segmenter's ids (default cityscapes_train_id).")
    flags.DEFINE_string("city", "mycity", "City name in the file names.")
    flags.DEFINE_enum("split", "train", ["train", "val", "test"], "Split folder.")
    flags.DEFINE_integer("sequence", 0, "Sequence number in the file names.")
    flags.DEFINE_integer("first_frame_number", 0, "Frame number of the first frame.")
    flags.DEFINE_integer("batch_size", 8, "Frames per forward pass.")
    flags.DEFINE_integer("temporal_window", 1, "Odd window of the per-pixel label majority "
                         "over time (1: off).")
    flags.DEFINE_integer("height", 0, "Resize frames to this height first (0: keep).")
    flags.DEFINE_integer("width", 0, "Resize frames to this width first (0: keep).")
    flags.DEFINE_enum("resize", "fit", list(frames_lib.RESIZE_MODES),
                      "fit: scale the whole frame; crop: centre crop to the aspect ratio first.")


def main(argv):
    cli.check_usage(argv)
    values = flags.FLAGS
    if not values.input or not values.output_dir:
        raise app.UsageError("Set --input and --output_dir.")
    summary = run(input_spec=values.input, output_dir=values.output_dir,
                  segmenter=values.segmenter,
                  segmenter_label_space=values.segmenter_label_space, city=values.city,
                  split=values.split, sequence=values.sequence,
                  first_frame_number=values.first_frame_number,
                  batch_size=values.batch_size, temporal_window=values.temporal_window,
                  height=values.height, width=values.width, resize=values.resize)
    print(_summary_line(summary, values.output_dir))
    return 0


def _summary_line(summary, output_dir):
    """The one line `main` prints about a finished run."""
    return (f"Wrote {summary['written']} frames ({summary['skipped']} already there) to "
            f"{output_dir}; {summary['seconds_per_segmented_frame']:.3f} s per frame.")


if __name__ == "__main__":
    define_flags()
    cli.run(main)
