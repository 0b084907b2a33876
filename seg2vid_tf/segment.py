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
replaces each label by the per-pixel majority over K frames. The work is
`seg2vid_tf.segmentation.footage.run`.
"""

from absl import app, flags

from seg2vid_tf import cli
from seg2vid_tf.segmentation import frames as frames_lib
from seg2vid_tf.segmentation import label_spaces
from seg2vid_tf.segmentation.footage import (  # noqa: F401 (the library's names, re-exported)
    SUMMARY_FILENAME, frame_paths, run)


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
